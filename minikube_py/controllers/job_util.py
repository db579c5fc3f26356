"""What the Job controller reads off Jobs and pods: conditions, finished pods, finish times.

A Job's progress lives in its ``status``: counters (``active``, ``ready``, ``succeeded``,
``failed``, ``terminating``), the pods finished but not yet counted
(``uncountedTerminatedPods``) and *conditions*. Since 1.31 a Job ends in two steps: first an
interim condition — ``SuccessCriteriaMet`` or ``FailureTarget`` — says the outcome is decided;
once no pod of the Job is still running or terminating, the final ``Complete`` or ``Failed``
condition (same reason and message) follows. Upstream keeps these helpers in
``pkg/controller/job/job_controller.go`` and ``util/utils.go``.

Every pod the controller creates carries the ``batch.kubernetes.io/job-tracking`` finalizer:
the pod cannot vanish before the controller has counted it, so a pod deleted or
garbage-collected right after it finished still lands in ``succeeded`` or ``failed``.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.stamps import parse_time, rfc3339

Object = dict[str, Any]
TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
COMPLETE, FAILED = "Complete", "Failed"
SUCCESS_CRITERIA_MET, FAILURE_TARGET, SUSPENDED = "SuccessCriteriaMet", "FailureTarget", "Suspended"
# reasons and messages as upstream's batch/v1 types and job controller
COMPLETIONS_REACHED = ("CompletionsReached", "Reached expected number of succeeded pods")
BACKOFF_LIMIT_EXCEEDED = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
DEADLINE_EXCEEDED = ("DeadlineExceeded", "Job was active longer than specified deadline")
POD_FAILURE_POLICY = "PodFailurePolicy"


def spec(job: Object) -> Object:
    return job.get("spec") or {}


def status(job: Object) -> Object:
    return job.get("status") or {}


def meta(obj: Object) -> Object:
    return obj.get("metadata") or {}


def find_condition(job: Object, kind: str) -> Object | None:
    for condition in status(job).get("conditions") or []:
        if isinstance(condition, dict) and condition.get("type") == kind:
            return condition
    return None


def condition_true(job: Object, kind: str) -> bool:
    condition = find_condition(job, kind)
    return condition is not None and condition.get("status") == "True"


def is_finished(job: Object) -> bool:
    """``Complete`` or ``Failed`` is true: nothing is left to do."""
    return condition_true(job, COMPLETE) or condition_true(job, FAILED)


def new_condition(kind: str, state: str, reason: str, message: str, now: float) -> Object:
    condition: Object = {
        "type": kind,
        "status": state,
        "lastProbeTime": rfc3339(now),
        "lastTransitionTime": rfc3339(now),
    }
    if reason:  # omitempty on the wire
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition


def ensure_condition(
    job: Object, kind: str, state: str, reason: str, message: str, now: float
) -> bool:
    """Set condition ``kind`` (a False one is never added, only updated); whether it changed."""
    conditions: list[Object] = job.setdefault("status", {}).setdefault("conditions", [])
    current = find_condition(job, kind)
    if current is not None:
        if (current.get("status"), current.get("reason", ""), current.get("message", "")) == (
            state,
            reason,
            message,
        ):
            return False
        current.clear()
        current.update(new_condition(kind, state, reason, message, now))
        return True
    if state == "False":
        return False
    conditions.append(new_condition(kind, state, reason, message, now))
    return True


def suspended(job: Object) -> bool:
    return bool(spec(job).get("suspend"))


def is_indexed(job: Object) -> bool:
    return spec(job).get("completionMode") == "Indexed"


def only_replace_failed_pods(job: Object) -> bool:
    """New pods wait until the old ones are fully ``Failed``, not merely terminating."""
    return spec(job).get("podReplacementPolicy") == "Failed" or bool(
        spec(job).get("podFailurePolicy")
    )


def phase(pod: Object) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def has_tracking_finalizer(pod: Object) -> bool:
    return TRACKING_FINALIZER in (meta(pod).get("finalizers") or [])


def is_pod_failed(pod: Object, job: Object) -> bool:
    """Failed, or — unless only ``Failed`` pods are replaced — deleted before it succeeded
    (an orphan that never got a chance to reach ``Failed``)."""
    if phase(pod) == "Failed":
        return True
    if only_replace_failed_pods(job):
        return False
    return bool(meta(pod).get("deletionTimestamp")) and phase(pod) != "Succeeded"


def is_terminating(pod: Object) -> bool:
    return bool(meta(pod).get("deletionTimestamp")) and phase(pod) not in ("Succeeded", "Failed")


def container_statuses(pod: Object) -> list[Object]:
    """Init containers' statuses first, then the app containers', as upstream looks."""
    pod_status = pod.get("status") or {}
    return [
        s
        for field in ("initContainerStatuses", "containerStatuses")
        for s in pod_status.get(field) or []
        if isinstance(s, dict)
    ]


def finished_time(pod: Object) -> float:
    """When the pod finished: its last container's ``finishedAt``, else when it stopped being
    Ready, else its deletion time less the grace period, else its creation (upstream)."""
    terminated = [((s.get("state") or {}).get("terminated") or {}) for s in container_statuses(pod)]
    finishes = [m for t in terminated if (m := parse_time(t.get("finishedAt"))) is not None]
    if finishes:
        return max(finishes)
    for condition in (pod.get("status") or {}).get("conditions") or []:
        stopped = condition.get("type") == "Ready" and condition.get("status") == "False"
        if stopped and (moment := parse_time(condition.get("lastTransitionTime"))) is not None:
            return moment
    if (deleted := parse_time(meta(pod).get("deletionTimestamp"))) is not None:
        return deleted - float(meta(pod).get("deletionGracePeriodSeconds") or 0)
    return parse_time(meta(pod).get("creationTimestamp")) or 0.0


def restarts(pod: Object) -> int:
    return sum(int(s.get("restartCount") or 0) for s in container_statuses(pod))
