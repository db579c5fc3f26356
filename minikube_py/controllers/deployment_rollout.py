"""How far a Deployment may go in one step of a rollout, and how a scale is shared out.

A rolling update replaces old pods with new ones within two budgets set on
``spec.strategy.rollingUpdate`` (both default to 25%):

- ``maxSurge``: how many pods above ``spec.replicas`` may exist at once, counting the
  ``spec.replicas`` of every ReplicaSet; a percentage of ``spec.replicas`` rounded *up*;
- ``maxUnavailable``: how many below ``spec.replicas`` may be unavailable; a percentage
  rounded *down*.

Resolving both to zero would stall the rollout, so then one pod may be unavailable
(upstream's ``ResolveFenceposts``): 25%/25% of 10 replicas is (3, 2), 0/0 is (0, 1).
The new ReplicaSet grows by what the surge budget leaves (``new_rs_new_replicas``).

When a Deployment is scaled in the middle of a rollout, the change is shared among its
ReplicaSets in proportion to their sizes (``get_proportion``). Each ReplicaSet remembers the
Deployment size it was made for in two annotations, ``desired-replicas`` and
``max-replicas`` (``spec.replicas`` + surge), which make the proportions computable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

Object = dict[str, Any]
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"
ROLLING_UPDATE = "RollingUpdate"
RECREATE = "Recreate"
# Go's strconv.Atoi: an optional sign and decimal digits, nothing else (no spaces, no "_").
_GO_INT = re.compile(r"[+-]?[0-9]+")


def go_atoi(text: Any) -> int | None:
    """``text`` as Go's ``strconv.Atoi``/``ParseInt`` reads it, None where Go fails."""
    if isinstance(text, str) and _GO_INT.fullmatch(text):
        return int(text)
    return None


def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """An int-or-percent against ``total`` (upstream's ``GetScaledValueFromIntOrPercent``);
    raises ValueError with upstream's message for anything but an int or ``"N%"``."""
    if value is None:
        raise ValueError("nil value for IntOrString")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("invalid value for IntOrString: invalid type: neither int nor percentage")
    if isinstance(value, int):
        return value
    if not value.endswith("%"):
        raise ValueError("invalid value for IntOrString: invalid type: string is not a percentage")
    percent = go_atoi(value[:-1])
    if percent is None:
        raise ValueError(
            f'invalid value for IntOrString: invalid value "{value}": '
            f'strconv.Atoi: parsing "{value[:-1]}": invalid syntax'
        )
    # Go computes in float64 and then takes ceil or floor; so does Python's float.
    scaled = float(percent) * float(total) / 100
    return int(math.ceil(scaled) if round_up else math.floor(scaled))


def resolve_fenceposts(
    max_surge: int | str | None, max_unavailable: int | str | None, desired: int
) -> tuple[int, int]:
    """``(surge, unavailable)`` for ``desired`` replicas; a missing value counts as 0."""
    surge = scaled_value(0 if max_surge is None else max_surge, desired, True)
    unavailable = scaled_value(0 if max_unavailable is None else max_unavailable, desired, False)
    if surge == 0 and unavailable == 0:
        # Validation refuses 0/0, but rounding down may reach it; surge may be impossible
        # (quota), so allow one unavailable pod rather than never progressing.
        unavailable = 1
    return surge, unavailable


def replicas_of(obj: Object | None) -> int:
    """``spec.replicas`` of a Deployment or ReplicaSet (the API defaults it to 1)."""
    if obj is None:
        return 0
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def is_rolling_update(deployment: Object) -> bool:
    strategy = (deployment.get("spec") or {}).get("strategy") or {}
    return bool(strategy.get("type", ROLLING_UPDATE) == ROLLING_UPDATE)


def _fenceposts(deployment: Object) -> tuple[int, int]:
    strategy = (deployment.get("spec") or {}).get("strategy") or {}
    rolling = strategy.get("rollingUpdate") or {}
    try:
        return resolve_fenceposts(
            rolling.get("maxSurge"), rolling.get("maxUnavailable"), replicas_of(deployment)
        )
    except ValueError:
        # Validation refuses such values; upstream ignores the error and reads (0, 0).
        return 0, 0


def max_surge(deployment: Object) -> int:
    """Pods a rolling Deployment may run above ``spec.replicas`` (0 for Recreate)."""
    return _fenceposts(deployment)[0] if is_rolling_update(deployment) else 0


def max_unavailable(deployment: Object) -> int:
    """Pods a rolling Deployment may lack below ``spec.replicas`` (0 for Recreate), at most
    ``spec.replicas``."""
    if not is_rolling_update(deployment) or replicas_of(deployment) == 0:
        return 0
    return min(_fenceposts(deployment)[1], replicas_of(deployment))


def min_available(deployment: Object) -> int:
    """``spec.replicas`` minus ``max_unavailable`` for a rolling Deployment, else 0."""
    if not is_rolling_update(deployment):
        return 0
    return replicas_of(deployment) - max_unavailable(deployment)


def replica_count(replica_sets: Iterable[Object | None]) -> int:
    """The summed ``spec.replicas`` of ``replica_sets`` (upstream's
    ``GetReplicaCountForReplicaSets``): the pods asked for, not those running."""
    return sum(replicas_of(rs) for rs in replica_sets if rs is not None)


def new_rs_new_replicas(deployment: Object, all_rss: Iterable[Object], new_rs: Object) -> int:
    """The ``spec.replicas`` the new ReplicaSet should have now: for RollingUpdate as many as
    the surge budget allows, never above ``spec.replicas``; for Recreate ``spec.replicas``."""
    spec = deployment.get("spec") or {}
    strategy_type = (spec.get("strategy") or {}).get("type", ROLLING_UPDATE)
    desired = replicas_of(deployment)
    if strategy_type == RECREATE:
        return desired
    if strategy_type != ROLLING_UPDATE:
        raise ValueError(f"deployment type {strategy_type} isn't supported")
    rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    surge = scaled_value(rolling.get("maxSurge"), desired, True)
    current = replica_count(all_rss)
    ceiling = desired + surge
    if current >= ceiling:
        return replicas_of(new_rs)
    grow = min(ceiling - current, desired - replicas_of(new_rs))
    return replicas_of(new_rs) + grow


def int_annotation(obj: Object, key: str) -> int | None:
    """An integer annotation, None when missing or not a Go int."""
    return go_atoi(((obj.get("metadata") or {}).get("annotations") or {}).get(key))


def set_replicas_annotations(rs: Object, desired: int, maximum: int) -> bool:
    """Record ``desired-replicas`` and ``max-replicas`` on ``rs``; True if either changed."""
    annotations = rs.setdefault("metadata", {}).setdefault("annotations", {})
    changed = False
    for key, value in ((DESIRED_REPLICAS_ANNOTATION, desired), (MAX_REPLICAS_ANNOTATION, maximum)):
        if annotations.get(key) != str(value):
            annotations[key] = str(value)
            changed = True
    return changed


def _round_half_away(value: float) -> int:
    # Go's math.Round (used by integer.RoundToInt32) rounds halves away from zero.
    return math.floor(abs(value) + 0.5) * (1 if value >= 0 else -1)


def get_replica_set_fraction(rs: Object, deployment: Object) -> int:
    """How many replicas ``rs`` gains (or, negative, loses) in a proportional scale: its size
    rescaled from the ``max-replicas`` it was sized for to the Deployment's new maximum."""
    if replicas_of(deployment) == 0:
        return -replicas_of(rs)
    deployment_max = replicas_of(deployment) + max_surge(deployment)
    annotated = int_annotation(rs, MAX_REPLICAS_ANNOTATION)
    if annotated is None:
        # Without the annotation, fall back on the Deployment's current size; the min/max in
        # get_proportion still keeps the total within bounds.
        annotated = int((deployment.get("status") or {}).get("replicas") or 0)
    if annotated == 0:
        # Upstream divides by zero here (a float: +Inf, rounded to a huge int32); never reached
        # in practice, as no ReplicaSet is proportionally scaled up from zero.
        return 0
    resized = replicas_of(rs) * deployment_max / annotated
    return _round_half_away(resized) - replicas_of(rs)


def get_proportion(rs: Object | None, deployment: Object, to_add: int, added: int) -> int:
    """The share of a scale change of ``to_add`` replicas (``added`` already handed out) that
    ``rs`` takes (upstream's ``GetProportion``), never more than is left to hand out."""
    if rs is None or replicas_of(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = get_replica_set_fraction(rs, deployment)
    allowed = to_add - added
    if to_add > 0:
        return min(fraction, allowed)
    return max(fraction, allowed)
