"""DefaultPreemption's half of the FailedScheduling message, on plain dicts."""

from __future__ import annotations

import random

import pytest

from minikube_py.scheduler.framework import FitError, schedule_one
from minikube_py.scheduler.plugins import default_profile

from .helpers import info, node, pod

GPU_TAINT = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


def failure(incoming: dict[str, object], *nodes: object) -> str:
    with pytest.raises(FitError) as caught:
        schedule_one(default_profile(), incoming, list(nodes), random.Random(0))  # type: ignore[arg-type]
    return str(caught.value)


def test_never_policy_is_not_eligible() -> None:
    message = failure(pod(cpu="8", preemptionPolicy="Never"), info(node("a")))
    assert message == (
        "0/1 nodes are available: 1 Insufficient cpu. "
        "preemption: not eligible due to preemptionPolicy=Never.."
    )


def test_unresolvable_nodes_are_not_helped_and_equal_priority_pods_are_no_victims() -> None:
    busy = info(node("busy", cpu="1"), pod("old", cpu="1"))
    cordoned = info(node("cordoned", unschedulable=True))
    message = failure(pod(cpu="1"), busy, cordoned)
    assert message == (
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable. "
        "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, "
        "1 Preemption is not helpful for scheduling.."
    )


def test_victims_that_would_not_free_enough_keep_the_filter_reason() -> None:
    low = pod("low", cpu="500m", priority=-10)
    high_enough = pod("other", cpu="1", priority=100)
    crowded = info(node("crowded", cpu="2"), low, high_enough)
    message = failure(pod(cpu="2", priority=10), crowded)
    assert message == (
        "0/1 nodes are available: 1 Insufficient cpu. "
        "preemption: 0/1 nodes are available: 1 Insufficient cpu.."
    )


def test_when_eviction_would_help_the_message_stops_after_the_filters() -> None:
    # Upstream would evict "low" and nominate the node; its event then says no more.
    crowded = info(node("crowded", cpu="2"), pod("low", cpu="2", priority=-10))
    assert failure(pod(cpu="1"), crowded) == "0/1 nodes are available: 1 Insufficient cpu."
