"""DefaultTolerationSeconds: every new pod tolerates a silent node for 300 s unless it says
otherwise (``apiserver/tolerations.py``)."""

from __future__ import annotations

from typing import Any

from minikube_py.apiserver.tolerations import add_default_tolerations
from minikube_py.client import PODS
from tests.clusters import in_process_client

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"


def default(key: str) -> dict[str, Any]:
    return {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}


async def test_a_created_pod_gets_both_tolerations() -> None:
    async with in_process_client() as client:
        pod = {
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
        }
        made = await client.create(PODS, "default", pod)
        assert made["spec"]["tolerations"] == [default(NOT_READY), default(UNREACHABLE)]
        # an update without them (a re-applied manifest) gets them back, as upstream
        made["spec"].pop("tolerations")
        updated = await client.update(PODS, "default", made)
        assert updated["spec"]["tolerations"] == [default(NOT_READY), default(UNREACHABLE)]


def test_a_pod_keeps_its_own_choice() -> None:
    own = {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}
    pod: dict[str, Any] = {"spec": {"tolerations": [own]}}
    add_default_tolerations(pod)
    assert pod["spec"]["tolerations"] == [own, default(NOT_READY)]


def test_a_toleration_of_every_taint_needs_no_defaults() -> None:
    everything = {"operator": "Exists"}  # empty key and effect: tolerates every taint
    pod: dict[str, Any] = {"spec": {"tolerations": [everything]}}
    add_default_tolerations(pod)
    assert pod["spec"]["tolerations"] == [everything]


def test_a_no_schedule_toleration_does_not_count() -> None:
    no_schedule = {"key": NOT_READY, "operator": "Exists", "effect": "NoSchedule"}
    pod: dict[str, Any] = {"spec": {"tolerations": [no_schedule]}}
    add_default_tolerations(pod)
    assert pod["spec"]["tolerations"] == [no_schedule, default(NOT_READY), default(UNREACHABLE)]
