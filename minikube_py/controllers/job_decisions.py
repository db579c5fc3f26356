"""What a Job should do now: whether it has failed or succeeded, and which pods to add or remove.

``decide`` looks for a reason to fail, in upstream's order: an existing ``FailureTarget``
condition, a failed pod matching a ``FailJob`` rule of the pod failure policy, more counted
failures than ``backoffLimit`` (with ``restartPolicy: OnFailure``: container restarts of the
running pods reaching it), then ``activeDeadlineSeconds`` passed since ``startTime``. A Job
already past ``SuccessCriteriaMet`` is not re-judged. With no failure decided, an Indexed Job
whose ``successPolicy`` is met heads for success (``job_success_policy.py``).

``manage`` then acts (upstream's ``syncJob`` and ``manageJob``): a Job whose outcome is decided
deletes its active pods; otherwise a suspended Job deletes them, and a running one keeps
``min(parallelism, completions - succeeded)`` pods active (with no ``completions``:
``parallelism`` until one pod succeeded) — creating only once the failure back-off passed —
and is ``SuccessCriteriaMet`` once enough pods succeeded and none is active. Suspending and
resuming show in the ``Suspended`` condition and Events; resuming restarts ``startTime``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from minikube_py.api.stamps import parse_time, rfc3339
from minikube_py.client.informer import object_key
from minikube_py.controllers.job_failure_policy import match_pod_failure_policy
from minikube_py.controllers.job_indexes import (
    duplicated_index_pods,
    first_pending_indexes,
    indexed_template,
    terminating_pods,
)
from minikube_py.controllers.job_success_policy import judge_success_policy
from minikube_py.controllers.job_tracking import SyncContext
from minikube_py.controllers.job_util import (
    BACKOFF_LIMIT_EXCEEDED,
    COMPLETIONS_REACHED,
    DEADLINE_EXCEEDED,
    FAILED,
    FAILURE_TARGET,
    POD_FAILURE_POLICY,
    SUCCESS_CRITERIA_MET,
    SUSPENDED,
    condition_true,
    ensure_condition,
    find_condition,
    is_indexed,
    is_pod_failed,
    meta,
    new_condition,
    only_replace_failed_pods,
    restarts,
    spec,
    suspended,
)
from minikube_py.controllers.ranking import pods_to_delete

if TYPE_CHECKING:
    from minikube_py.controllers.job import JobController

Object = dict[str, Any]
MAX_POD_CREATE_DELETE_PER_SYNC = 500


def decide(ctx: SyncContext, now: float) -> float | None:
    """Set ``ctx.failed``, and in ``ctx.finished`` a failure if there is one, else a met success
    policy; the seconds until the active deadline when it is still ahead."""
    requeue = _judge_failure(ctx, now)
    # upstream looks at the success policy only once no failure was decided: a Job whose
    # failures and policy-meeting success arrive in the same sync fails
    judge_success_policy(ctx, now)
    return requeue


def _judge_failure(ctx: SyncContext, now: float) -> float | None:
    job, policy = ctx.job, spec(ctx.job).get("podFailurePolicy")
    ignored = sum(
        1 for pod in ctx.new_failed if not match_pod_failure_policy(policy, pod).count_failed
    )
    ctx.failed += len(ctx.new_failed) - (ignored if policy else 0)
    if condition_true(job, SUCCESS_CRITERIA_MET):
        ctx.finished = find_condition(job, SUCCESS_CRITERIA_MET)
        return None
    target = find_condition(job, FAILURE_TARGET)
    if target is not None and target.get("status") == "True":
        reason, message = target.get("reason", ""), target.get("message", "")
        ctx.finished = new_condition(FAILED, "True", reason, message, now)
        return None
    if policy:
        for pod in ctx.pods:
            if is_pod_failed(pod, job):
                message = match_pod_failure_policy(policy, pod).fail_job_message
                if message is not None:
                    ctx.finished = new_condition(
                        FAILURE_TARGET, "True", POD_FAILURE_POLICY, message, now
                    )
                    return None
    backoff_limit = int(spec(job).get("backoffLimit") or 0)
    if ctx.failed > backoff_limit or _past_backoff_limit_on_failure(job, ctx.pods, backoff_limit):
        ctx.finished = new_condition(FAILURE_TARGET, "True", *BACKOFF_LIMIT_EXCEEDED, now)
        return None
    deadline = spec(job).get("activeDeadlineSeconds")
    start = parse_time(job["status"].get("startTime"))
    if deadline is None or start is None or suspended(job):
        return None
    remaining = float(deadline) - (now - start)
    if remaining <= 0:
        ctx.finished = new_condition(FAILURE_TARGET, "True", *DEADLINE_EXCEEDED, now)
        return None
    return remaining


def _past_backoff_limit_on_failure(job: Object, pods: list[Object], limit: int) -> bool:
    template_spec = (spec(job).get("template") or {}).get("spec") or {}
    if template_spec.get("restartPolicy") != "OnFailure":
        return False
    running = [p for p in pods if (p.get("status") or {}).get("phase") in ("Running", "Pending")]
    total = sum(restarts(pod) for pod in running)
    return total > 0 if limit == 0 else total >= limit


async def manage(
    controller: JobController, ctx: SyncContext, satisfied: bool
) -> tuple[int, float | None, bool, Exception | None]:
    """Act on the decision; (active pods now, seconds to come back after, whether a condition
    changed, the first error)."""
    active = len(ctx.active)
    if ctx.finished is not None:  # heading for failure (or success): no pod may keep running
        deleted, ready, error, _missed = await controller.pod_control.delete(
            ctx.job, ctx.active, drop_finalizer=False
        )
        if deleted != active or not satisfied:
            ctx.finished = None  # pods may remain that the cache does not show yet
        ctx.terminating += deleted
        ctx.ready -= ready
        return active - deleted, None, False, error
    requeue, error, called = None, None, False
    if satisfied and not meta(ctx.job).get("deletionTimestamp"):
        active, requeue, error = await _manage_pods(controller, ctx)
        called = True
    completions = spec(ctx.job).get("completions")
    if completions is None:
        complete = ctx.succeeded > 0 and active == 0
    else:
        complete = ctx.succeeded >= int(completions) and active == 0
    now, changed = controller.clock.now(), False
    if complete:
        ctx.finished = new_condition(SUCCESS_CRITERIA_MET, "True", *COMPLETIONS_REACHED, now)
    elif called:
        subject = {**ctx.job, "apiVersion": "batch/v1", "kind": "Job"}
        if suspended(ctx.job):
            changed = ensure_condition(
                ctx.job, SUSPENDED, "True", "JobSuspended", "Job suspended", now
            )
            if changed:
                await controller.recorder.record(
                    subject, reason="Suspended", message="Job suspended"
                )
        else:
            changed = ensure_condition(
                ctx.job, SUSPENDED, "False", "JobResumed", "Job resumed", now
            )
            if changed:
                await controller.recorder.record(subject, reason="Resumed", message="Job resumed")
                # activeDeadlineSeconds counts the time continuously active
                ctx.job["status"]["startTime"] = rfc3339(now)
    return active, requeue, changed, error


async def _manage_pods(
    controller: JobController, ctx: SyncContext
) -> tuple[int, float | None, Exception | None]:
    job, active = ctx.job, len(ctx.active)
    parallelism = int(spec(job).get("parallelism") or 0)
    completions = spec(job).get("completions")
    if suspended(job):
        left, error = await _delete(controller, ctx, _for_removal(job, ctx.active, active))
        return left, None, error
    if completions is None:
        want = active if ctx.succeeded > 0 else parallelism
    else:
        want = max(0, min(int(completions) - ctx.succeeded, parallelism))
    doomed = _for_removal(job, ctx.active, max(active - want, 0))[:MAX_POD_CREATE_DELETE_PER_SYNC]
    if doomed:  # deleting takes precedence over creating within one sync
        left, error = await _delete(controller, ctx, doomed)
        return left, None, error
    held = ctx.terminating if only_replace_failed_pods(job) else 0
    missing = min(want - held - active, MAX_POD_CREATE_DELETE_PER_SYNC)
    if missing <= 0:
        return active, None, None
    if (wait := ctx.backoff.remaining(controller.clock.now())) > 0:
        controller.log.info("job pod creation backing off", key=ctx.key, seconds=wait)
        return active, wait, None
    template = spec(job).get("template") or {}
    templates: list[tuple[Object, str | None]]
    if is_indexed(job):
        held_pods = terminating_pods(ctx.pods) if only_replace_failed_pods(job) else []
        indexes = first_pending_indexes(
            missing, int(completions or 0), ctx.succeeded_indexes, ctx.active, held_pods
        )
        templates = [indexed_template(template, meta(job)["name"], i) for i in indexes]
    else:
        templates = [(template, None)] * missing
    controller.expectations.expect_creations(ctx.key, len(templates))
    controller.log.info("too few pods running", key=ctx.key, need=want, creating=len(templates))
    created, error = await controller.pod_control.create(job, templates)
    controller.expectations.lower_expectations(ctx.key, add=len(templates) - created)
    return active + created, None, error


async def _delete(
    controller: JobController, ctx: SyncContext, pods: list[Object]
) -> tuple[int, Exception | None]:
    """Delete ``pods`` the Job no longer wants (uncounted: their finalizer goes first); the
    active pods left, and the first error."""
    if not pods:
        return len(ctx.active), None
    controller.expectations.expect_deletions_of(ctx.key, [object_key(pod) for pod in pods])
    deleted, ready, error, missed = await controller.pod_control.delete(
        ctx.job, pods, drop_finalizer=True
    )
    for pod in missed:
        controller.expectations.deletion_observed(ctx.key, object_key(pod))
    ctx.terminating += deleted
    ctx.ready -= ready
    return len(ctx.active) - deleted, error


def _for_removal(job: Object, active: list[Object], at_least: int) -> list[Object]:
    """Pods to delete: for an Indexed Job those with a bad or repeated index first; then the
    ones least far along (unscheduled, pending, not ready, newest)."""
    remove: list[Object] = []
    left = active
    if is_indexed(job):
        remove, left = duplicated_index_pods(active, int(spec(job).get("completions") or 0))
    if len(remove) < at_least:
        remove += pods_to_delete(left, [], at_least - len(remove), now=None)
    return remove
