"""A rollout's budgets and proportional scaling (upstream's ResolveFenceposts, MaxSurge,
MaxUnavailable, NewRSNewReplicas, GetProportion)."""

from __future__ import annotations

from typing import Any

import pytest

from minikube_py.controllers.deployment_rollout import (
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    get_proportion,
    get_replica_set_fraction,
    max_surge,
    max_unavailable,
    min_available,
    new_rs_new_replicas,
    replica_count,
    resolve_fenceposts,
    scaled_value,
    set_replicas_annotations,
)

Object = dict[str, Any]


def deployment(
    replicas: int = 10,
    surge: int | str | None = "25%",
    unavailable: int | str | None = "25%",
    *,
    strategy: str = "RollingUpdate",
    status_replicas: int = 0,
) -> Object:
    spec: Object = {"replicas": replicas, "strategy": {"type": strategy}}
    if strategy == "RollingUpdate":
        spec["strategy"]["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    return {"metadata": {"name": "web"}, "spec": spec, "status": {"replicas": status_replicas}}


def replica_set(replicas: int, max_replicas: int | None = None) -> Object:
    annotations = {} if max_replicas is None else {MAX_REPLICAS_ANNOTATION: str(max_replicas)}
    return {"metadata": {"annotations": annotations}, "spec": {"replicas": replicas}}


@pytest.mark.parametrize(
    ("surge", "unavailable", "desired", "expected"),
    [
        ("25%", "25%", 10, (3, 2)),  # surge rounds up, unavailable down
        (0, 0, 10, (0, 1)),  # both zero: one may be unavailable
        ("0%", "0%", 10, (0, 1)),
        (None, None, 5, (0, 1)),
        ("30%", 0, 1, (1, 0)),
        ("25%", "25%", 1, (1, 0)),
        ("1%", "1%", 2, (1, 0)),
        (0, "1%", 2, (0, 1)),  # 0.02 rounds down to 0, so the fencepost rule applies
        (2, "50%", 3, (2, 1)),
        ("100%", "100%", 4, (4, 4)),
    ],
)
def test_resolve_fenceposts(
    surge: int | str | None, unavailable: int | str | None, desired: int, expected: tuple[int, int]
) -> None:
    assert resolve_fenceposts(surge, unavailable, desired) == expected


def test_scaled_value_refuses_what_is_not_an_int_or_a_percentage() -> None:
    with pytest.raises(ValueError, match="string is not a percentage"):
        scaled_value("3", 10, True)
    with pytest.raises(ValueError, match='invalid value "x%"'):
        scaled_value("x%", 10, True)
    with pytest.raises(ValueError, match="nil value"):
        scaled_value(None, 10, True)
    assert scaled_value("-10%", 10, False) == -1


def test_budgets_of_a_deployment() -> None:
    assert (max_surge(deployment()), max_unavailable(deployment())) == (3, 2)
    assert min_available(deployment()) == 8
    recreate = deployment(strategy="Recreate")
    assert (max_surge(recreate), max_unavailable(recreate), min_available(recreate)) == (0, 0, 0)
    # At most every replica may be unavailable, and none of zero.
    assert max_unavailable(deployment(2, 0, 5)) == 2
    assert max_unavailable(deployment(0)) == 0
    # An invalid value (validation keeps it out) reads as zero, as upstream ignores the error.
    assert max_surge(deployment(10, "lots")) == 0


@pytest.mark.parametrize(
    ("replicas", "surge", "new", "old", "expected"),
    [
        (10, "25%", 0, 10, 3),  # 13 allowed in all, 10 asked for: grow by 3
        (10, "25%", 3, 10, 3),  # at the ceiling already
        (10, "25%", 9, 0, 10),  # never beyond spec.replicas
        (1, "25%", 0, 1, 1),  # 25% of 1 rounds up to 1
        (6, 10, 2, 0, 6),
        (1, 1, 5, 5, 5),  # over the ceiling: unchanged (the caller scales it down)
    ],
)
def test_new_rs_new_replicas_for_a_rolling_update(
    replicas: int, surge: int | str, new: int, old: int, expected: int
) -> None:
    new_rs, old_rs = replica_set(new), replica_set(old)
    got = new_rs_new_replicas(deployment(replicas, surge), [new_rs, old_rs], new_rs)
    assert got == expected


def test_new_rs_new_replicas_for_recreate_and_unknown_strategies() -> None:
    new_rs = replica_set(1)
    assert new_rs_new_replicas(deployment(3, strategy="Recreate"), [new_rs], new_rs) == 3
    with pytest.raises(ValueError, match="deployment type Canary isn't supported"):
        new_rs_new_replicas(deployment(3, strategy="Canary"), [new_rs], new_rs)


def test_replica_count_sums_asked_replicas() -> None:
    assert replica_count([replica_set(2), None, replica_set(3), {"spec": {}}]) == 6


def test_replicas_annotations() -> None:
    rs: Object = {"metadata": {}}
    assert set_replicas_annotations(rs, 10, 13)
    annotations = rs["metadata"]["annotations"]
    assert annotations == {DESIRED_REPLICAS_ANNOTATION: "10", MAX_REPLICAS_ANNOTATION: "13"}
    assert not set_replicas_annotations(rs, 10, 13)
    assert set_replicas_annotations(rs, 10, 12)


def test_fraction_rescales_from_the_annotated_maximum() -> None:
    # Sized when the deployment was 10 (+3 surge = 13); now 15 (+4 surge = 19).
    assert get_replica_set_fraction(replica_set(5, 13), deployment(15)) == 2  # 7.3 -> 7
    # Scaled down to 5 (+2 surge = 7): 5 * 7 / 13 = 2.7 -> 3.
    assert get_replica_set_fraction(replica_set(5, 13), deployment(5)) == -2
    # Scaling to zero takes everything.
    assert get_replica_set_fraction(replica_set(5, 13), deployment(0)) == -5
    # Without the annotation the deployment's current size stands in: 5 * 19 / 10 = 9.5 -> 10.
    assert get_replica_set_fraction(replica_set(5), deployment(15, status_replicas=10)) == 5
    # Halves round away from zero as Go's math.Round: 5 * 1 / 2 = 2.5 -> 3.
    assert get_replica_set_fraction(replica_set(5, 2), deployment(1, 0, 1)) == -2


def test_proportion_never_hands_out_more_than_is_left() -> None:
    rs = replica_set(5, 13)
    assert get_proportion(rs, deployment(15), 5, 0) == 2
    assert get_proportion(rs, deployment(15), 5, 4) == 1  # only one left to add
    assert get_proportion(rs, deployment(5), -5, 0) == -2
    assert get_proportion(rs, deployment(5), -5, -4) == -1
    assert get_proportion(rs, deployment(15), 5, 5) == 0
    assert get_proportion(rs, deployment(15), 0, 0) == 0
    assert get_proportion(replica_set(0, 13), deployment(15), 5, 0) == 0
    assert get_proportion(None, deployment(15), 5, 0) == 0
