"""A Deployment's conditions: is it available, is its rollout progressing, has it stalled?

``kubectl rollout status`` and ``kubectl describe deployment`` read three conditions:

- ``Available``: ``True`` (``MinimumReplicasAvailable``) while at least ``spec.replicas``
  minus ``maxUnavailable`` pods are available, else ``False`` (``MinimumReplicasUnavailable``);
- ``Progressing``: ``True`` while the rollout moves (``NewReplicaSetCreated``,
  ``FoundNewReplicaSet``, ``ReplicaSetUpdated``) and once it is done
  (``NewReplicaSetAvailable``); ``False`` with ``ProgressDeadlineExceeded`` when nothing moved
  for ``spec.progressDeadlineSeconds`` (default 600); ``Unknown`` while paused
  (``DeploymentPaused``, then ``DeploymentResumed``);
- ``ReplicaFailure``: a ReplicaSet's failure to create or delete pods, passed up.

Each condition has two times: ``lastTransitionTime`` changes only when its status flips;
``lastUpdateTime`` whenever it is rewritten — the progress deadline counts from the latter,
so every step of progress restarts it. All times here are Unix seconds from an injected clock.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from minikube_py.api.stamps import parse_time, rfc3339
from minikube_py.controllers.deployment_rollout import max_unavailable, replicas_of

Object = dict[str, Any]
PROGRESSING, AVAILABLE, REPLICA_FAILURE = "Progressing", "Available", "ReplicaFailure"
# Reasons, as upstream's deployment_util.go names them.
REPLICA_SET_UPDATED = "ReplicaSetUpdated"
FAILED_RS_CREATE = "ReplicaSetCreateError"
NEW_REPLICA_SET_CREATED = "NewReplicaSetCreated"
FOUND_NEW_REPLICA_SET = "FoundNewReplicaSet"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
DEPLOYMENT_PAUSED = "DeploymentPaused"
DEPLOYMENT_RESUMED = "DeploymentResumed"
MINIMUM_REPLICAS_AVAILABLE = "MinimumReplicasAvailable"
MINIMUM_REPLICAS_UNAVAILABLE = "MinimumReplicasUnavailable"
_NO_DEADLINE = 2**31 - 1  # math.MaxInt32: progressDeadlineSeconds meaning "never"


def quoted(name: str) -> str:
    """``name`` as Go's ``%q`` writes it (enough for Kubernetes object names)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def created_message(rs_name: str) -> str:
    return f"Created new replica set {quoted(rs_name)}"


def found_message(rs_name: str) -> str:
    return f"Found new replica set {quoted(rs_name)}"


def failed_create_message(rs_name: str, error: str) -> str:
    return f"Failed to create new replica set {quoted(rs_name)}: {error}"


def new_deployment_condition(
    condition_type: str, status: str, reason: str, message: str, now: float
) -> Object:
    """A condition updated and transitioned at ``now``."""
    return {
        "type": condition_type,
        "status": status,
        "lastUpdateTime": rfc3339(now),
        "lastTransitionTime": rfc3339(now),
        "reason": reason,
        "message": message,
    }


def get_deployment_condition(status: Object, condition_type: str) -> Object | None:
    for condition in status.get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == condition_type:
            return condition
    return None


def remove_deployment_condition(status: Object, condition_type: str) -> None:
    kept = [c for c in status.get("conditions") or [] if c.get("type") != condition_type]
    if kept:
        status["conditions"] = kept
    else:
        status.pop("conditions", None)


def set_deployment_condition(status: Object, condition: Object) -> None:
    """Put ``condition`` into ``status`` (in place), last in the list. Nothing changes when a
    condition of that type has the same status and reason already; when only the reason
    differs the old ``lastTransitionTime`` is kept."""
    current = get_deployment_condition(status, condition["type"])
    if current is not None and current.get("status") == condition["status"]:
        if current.get("reason") == condition.get("reason"):
            return
        condition = {**condition, "lastTransitionTime": current.get("lastTransitionTime")}
    remove_deployment_condition(status, condition["type"])
    status.setdefault("conditions", []).append(condition)


def replica_set_to_deployment_condition(condition: Object) -> Object:
    """A ReplicaSet's condition as the Deployment reports it (updated when it transitioned)."""
    moment = condition.get("lastTransitionTime")
    result = {**condition, "lastUpdateTime": moment, "lastTransitionTime": moment}
    return {key: value for key, value in result.items() if value is not None}


def has_progress_deadline(deployment: Object) -> bool:
    seconds = (deployment.get("spec") or {}).get("progressDeadlineSeconds")
    return seconds is not None and int(seconds) != _NO_DEADLINE


def _count(status: Object, key: str) -> int:
    return int(status.get(key) or 0)


def deployment_complete(deployment: Object, new_status: Object) -> bool:
    """All replicas are updated and available, and the status answers the current spec."""
    desired = replicas_of(deployment)
    generation = int((deployment.get("metadata") or {}).get("generation") or 0)
    return (
        _count(new_status, "updatedReplicas") == desired
        and _count(new_status, "replicas") == desired
        and _count(new_status, "availableReplicas") == desired
        and _count(new_status, "observedGeneration") >= generation
    )


def deployment_progressing(deployment: Object, new_status: Object) -> bool:
    """Since the stored status, more pods were updated, old ones went, or more became ready
    or available."""
    old = deployment.get("status") or {}
    old_leftover = _count(old, "replicas") - _count(old, "updatedReplicas")
    new_leftover = _count(new_status, "replicas") - _count(new_status, "updatedReplicas")
    return (
        _count(new_status, "updatedReplicas") > _count(old, "updatedReplicas")
        or new_leftover < old_leftover
        or _count(new_status, "readyReplicas") > _count(old, "readyReplicas")
        or _count(new_status, "availableReplicas") > _count(old, "availableReplicas")
    )


def deployment_timed_out(deployment: Object, new_status: Object, now: float) -> bool:
    """The Progressing condition was last updated more than ``progressDeadlineSeconds``
    before ``now`` (a finished rollout never times out; a timed-out one stays so)."""
    if not has_progress_deadline(deployment):
        return False
    condition = get_deployment_condition(new_status, PROGRESSING)
    if condition is None or condition.get("reason") == NEW_RS_AVAILABLE:
        return False
    if condition.get("reason") == TIMED_OUT:
        return True
    since = parse_time(condition.get("lastUpdateTime"))
    deadline = int((deployment.get("spec") or {})["progressDeadlineSeconds"])
    # A missing time is Go's zero time, long past any deadline.
    return since is None or since + deadline < now


def availability_condition(deployment: Object, available_replicas: int, now: float) -> Object:
    """The ``Available`` condition for this many available pods (upstream's calculateStatus)."""
    if available_replicas >= replicas_of(deployment) - max_unavailable(deployment):
        message = "Deployment has minimum availability."
        return new_deployment_condition(AVAILABLE, "True", MINIMUM_REPLICAS_AVAILABLE, message, now)
    message = "Deployment does not have minimum availability."
    return new_deployment_condition(AVAILABLE, "False", MINIMUM_REPLICAS_UNAVAILABLE, message, now)


def paused_condition(deployment: Object, now: float) -> Object | None:
    """The Progressing condition to set because the Deployment was paused or resumed, or None
    (upstream's checkPausedConditions; a timed-out rollout keeps saying so)."""
    current = get_deployment_condition(deployment.get("status") or {}, PROGRESSING)
    if current is not None and current.get("reason") == TIMED_OUT:
        return None
    paused_before = current is not None and current.get("reason") == DEPLOYMENT_PAUSED
    paused = bool((deployment.get("spec") or {}).get("paused"))
    if paused and not paused_before:
        message, reason = "Deployment is paused", DEPLOYMENT_PAUSED
    elif not paused and paused_before:
        message, reason = "Deployment is resumed", DEPLOYMENT_RESUMED
    else:
        return None
    return new_deployment_condition(PROGRESSING, "Unknown", reason, message, now)


def _subject(deployment: Object, new_rs: Object | None) -> str:
    if new_rs is not None:
        return f"ReplicaSet {quoted((new_rs.get('metadata') or {}).get('name') or '')}"
    return f"Deployment {quoted((deployment.get('metadata') or {}).get('name') or '')}"


def _replica_failures(new_rs: Object | None, all_rss: Iterable[Object | None]) -> list[Object]:
    # The new ReplicaSet's failures win over those of old ones.
    for group in ([new_rs], list(all_rss)):
        found = [
            replica_set_to_deployment_condition(c)
            for rs in group
            if rs is not None
            for c in (rs.get("status") or {}).get("conditions") or []
            if c.get("type") == REPLICA_FAILURE
        ]
        if found:
            return found
    return []


def rollout_conditions(
    deployment: Object,
    new_status: Object,
    new_rs: Object | None,
    all_rss: Iterable[Object | None],
    now: float,
) -> Object:
    """``new_status`` (counts freshly computed, conditions as stored) with its Progressing
    and ReplicaFailure conditions brought up to date (upstream's syncRolloutStatus)."""
    status = copy.deepcopy(new_status)
    if not has_progress_deadline(deployment):
        remove_deployment_condition(status, PROGRESSING)
    current = get_deployment_condition(deployment.get("status") or {}, PROGRESSING)
    finished = (
        _count(status, "replicas") == _count(status, "updatedReplicas")
        and current is not None
        and current.get("reason") == NEW_RS_AVAILABLE
    )
    if has_progress_deadline(deployment) and not finished:
        subject = _subject(deployment, new_rs)
        if deployment_complete(deployment, status):
            message = f"{subject} has successfully progressed."
            condition = new_deployment_condition(
                PROGRESSING, "True", NEW_RS_AVAILABLE, message, now
            )
            set_deployment_condition(status, condition)
        elif deployment_progressing(deployment, status):
            message = f"{subject} is progressing."
            condition = new_deployment_condition(
                PROGRESSING, "True", REPLICA_SET_UPDATED, message, now
            )
            # Progress rewrites the condition (new lastUpdateTime) even with the same reason.
            if current is not None:
                if current.get("status") == "True":
                    condition["lastTransitionTime"] = current.get("lastTransitionTime")
                remove_deployment_condition(status, PROGRESSING)
            set_deployment_condition(status, condition)
        elif deployment_timed_out(deployment, status, now):
            message = f"{subject} has timed out progressing."
            condition = new_deployment_condition(PROGRESSING, "False", TIMED_OUT, message, now)
            set_deployment_condition(status, condition)
    failures = _replica_failures(new_rs, all_rss)
    if failures:
        set_deployment_condition(status, failures[0])
    else:
        remove_deployment_condition(status, REPLICA_FAILURE)
    return status


def progress_check_after(deployment: Object, new_status: Object, now: float) -> float | None:
    """When to look at a stalled rollout again so its deadline is noticed: None for never,
    0 for now (upstream requeues rate-limited), else seconds (one added against skew)."""
    current = get_deployment_condition(deployment.get("status") or {}, PROGRESSING)
    if not has_progress_deadline(deployment) or current is None:
        return None
    if deployment_complete(deployment, new_status) or current.get("reason") == TIMED_OUT:
        return None
    since = parse_time(current.get("lastUpdateTime")) or 0.0
    after = since + int(deployment["spec"]["progressDeadlineSeconds"]) - now
    return 0.0 if after < 1 else after + 1
