"""Counting a Job's finished pods exactly once, with the tracking finalizer.

A pod that finished must be counted into ``status.succeeded`` or ``status.failed`` once, even if
the controller crashes half-way or the pod is deleted right away. Upstream's answer
(``trackJobStatusAndRemoveFinalizers``), followed step by step here:

1. Note each newly finished pod that still has the ``batch.kubernetes.io/job-tracking``
   finalizer in ``status.uncountedTerminatedPods`` (by uid) and write the status — now a crash
   cannot lose it. An Indexed Job notes a success straight in ``completedIndexes`` instead.
   The interim ``FailureTarget`` / ``SuccessCriteriaMet`` condition is written with it.
2. Remove the finalizer from those pods (the pod may go now).
3. Move every uid whose pod no longer has the finalizer from the uncounted lists into the
   counters, and write the status again.
4. If the Job's outcome is decided, nothing is uncounted and no pod is terminating, add the
   final ``Complete`` (with ``completionTime``) or ``Failed`` condition and say so in an Event.

The controller remembers which pods it un-finalized (``expected_removals``) until the pod
informer shows it, so a stale cache cannot make it count a pod twice.
"""

from __future__ import annotations

from typing import Any

import attrs

from minikube_py.client.events import EventRecorder
from minikube_py.client.protocol import JOBS, Client
from minikube_py.clock import Clock
from minikube_py.controllers.job_backoff import BackoffRecord, BackoffStore
from minikube_py.controllers.job_failure_policy import match_pod_failure_policy
from minikube_py.controllers.job_indexes import format_indexes, valid_index
from minikube_py.controllers.job_pods import JobPods, with_kind
from minikube_py.controllers.job_util import (
    COMPLETE,
    FAILED,
    FAILURE_TARGET,
    SUCCESS_CRITERIA_MET,
    ensure_condition,
    find_condition,
    has_tracking_finalizer,
    is_indexed,
    is_pod_failed,
    meta,
    new_condition,
    phase,
    spec,
)

Object = dict[str, Any]
MAX_UNCOUNTED_PODS = 500  # upstream: keeps the uid lists of a status under 20 KB


@attrs.define
class SyncContext:
    """One sync of one Job: what was read, and what was decided so far."""

    key: str
    job: Object  # a private copy: its status is edited in place, then written
    pods: list[Object]
    active: list[Object]
    ready: int
    terminating: int
    expected_removals: set[str]
    uncounted_succeeded: set[str]
    uncounted_failed: set[str]
    new_failed: list[Object] = attrs.Factory(list)  # failed pods not yet noted in the status
    succeeded: int = 0
    failed: int = 0
    finished: Object | None = None  # the condition the Job is heading for, if decided
    prev_indexes: set[int] = attrs.Factory(set)
    succeeded_indexes: set[int] = attrs.Factory(set)
    backoff: BackoffRecord = attrs.Factory(BackoffRecord)


def _uid(pod: Object) -> str:
    return str(meta(pod).get("uid") or "")


def resource_version(obj: Object) -> int:
    """The object's resourceVersion as a number (this API's versions are store revisions)."""
    try:
        return int(meta(obj).get("resourceVersion") or 0)
    except ValueError:
        return 0


def clean_uncounted(job_status: Object, with_finalizer: set[str]) -> bool:
    """Count the uncounted uids whose pods lost their finalizer; whether anything moved."""
    uncounted = job_status.get("uncountedTerminatedPods") or {}
    job_status["uncountedTerminatedPods"] = uncounted
    changed = False
    for field, counter in (("succeeded", "succeeded"), ("failed", "failed")):
        uids = list(uncounted.get(field) or [])
        kept = [uid for uid in uids if uid in with_finalizer]
        if len(kept) != len(uids):
            changed = True
            job_status[counter] = int(job_status.get(counter) or 0) + len(uids) - len(kept)
            uncounted[field] = kept
    return changed


def wire_status(job_status: Object) -> Object:
    """The status as upstream serialises it: zero counters and empty lists are omitted."""
    cleaned = {k: v for k, v in job_status.items() if v not in (None, "", [])}
    for field in ("active", "succeeded", "failed"):
        if cleaned.get(field) == 0:
            del cleaned[field]
    uncounted = cleaned.get("uncountedTerminatedPods") or {}
    cleaned["uncountedTerminatedPods"] = {k: v for k, v in uncounted.items() if v}
    return cleaned


class StatusTracker:
    """Steps 1-4 above for one controller."""

    def __init__(
        self,
        client: Client,
        pods: JobPods,
        recorder: EventRecorder,
        clock: Clock,
        backoffs: BackoffStore,
        removals: dict[str, set[str]],
    ) -> None:
        self.client, self.pods, self.recorder = client, pods, recorder
        self.clock, self.backoffs, self.removals = clock, backoffs, removals
        # Job key -> resourceVersion of the last status written: a cache older than that
        # is stale, and deciding from it would only end in a conflict
        self.written: dict[str, int] = {}

    async def track(self, ctx: SyncContext, needs_flush: bool) -> None:
        job, indexed = ctx.job, is_indexed(ctx.job)
        job_status = job.setdefault("status", {})
        completions = int(spec(job).get("completions") or 0)
        with_finalizer = {
            _uid(p)
            for p in ctx.pods
            if has_tracking_finalizer(p) and _uid(p) not in ctx.expected_removals
        }
        needs_flush |= clean_uncounted(job_status, with_finalizer)
        uncounted = job_status["uncountedTerminatedPods"]
        to_remove: list[Object] = []
        new_indexes: list[int] = []
        deciding_failure = ctx.finished is not None and ctx.finished["type"] != SUCCESS_CRITERIA_MET
        for pod in ctx.pods:
            uid = _uid(pod)
            if not has_tracking_finalizer(pod) or uid in ctx.expected_removals:
                continue  # counted in an earlier sync
            failed = is_pod_failed(pod, job)
            removable = bool(meta(job).get("deletionTimestamp")) or ctx.finished is not None
            if not (removable or phase(pod) == "Succeeded" or failed):
                continue  # still running
            to_remove.append(pod)
            if phase(pod) == "Succeeded" and uid not in ctx.uncounted_failed:
                if indexed:
                    index = valid_index(pod, completions)
                    if index is not None and index not in ctx.prev_indexes:
                        new_indexes.append(index)
                        needs_flush = True
                elif uid not in ctx.uncounted_succeeded:
                    uncounted.setdefault("succeeded", []).append(uid)
                    needs_flush = True
            elif failed or deciding_failure:
                index_ok = not indexed or valid_index(pod, completions) is not None
                if uid not in ctx.uncounted_failed and index_ok:
                    policy = spec(job).get("podFailurePolicy")
                    if policy is None or match_pod_failure_policy(policy, pod).count_failed:
                        uncounted.setdefault("failed", []).append(uid)
                        needs_flush = True
            pending = len(new_indexes) + sum(len(v or []) for v in uncounted.values())
            if pending >= MAX_UNCOUNTED_PODS:
                break
        if indexed:
            ctx.succeeded_indexes |= set(new_indexes)
            text = format_indexes(ctx.succeeded_indexes)
            needs_flush |= text != (job_status.get("completedIndexes") or "")
            job_status["succeeded"] = len(ctx.succeeded_indexes)
            job_status["completedIndexes"] = text
        if ctx.finished is not None and ctx.finished["type"] == FAILURE_TARGET:
            job_status.setdefault("conditions", []).append(ctx.finished)
            needs_flush = True
            ctx.finished = self._final(FAILED, ctx.finished)
        elif ctx.finished is not None and ctx.finished["type"] == SUCCESS_CRITERIA_MET:
            if find_condition(job, SUCCESS_CRITERIA_MET) is None:
                job_status.setdefault("conditions", []).append(ctx.finished)
                needs_flush = True
            ctx.finished = self._final(COMPLETE, ctx.finished)
        needs_flush = await self._flush_and_remove(ctx, to_remove, with_finalizer, needs_flush)
        finished = self._enact_finished(ctx)
        if needs_flush or finished:
            await self._write(ctx)
            if finished and ctx.finished is not None:
                await self._record_finished(ctx.job, ctx.finished)

    def _final(self, kind: str, interim: Object) -> Object:
        reason, message = interim.get("reason", ""), interim.get("message", "")
        return new_condition(kind, "True", reason, message, self.clock.now())

    async def _flush_and_remove(
        self, ctx: SyncContext, to_remove: list[Object], with_finalizer: set[str], flush: bool
    ) -> bool:
        if flush:
            await self._write(ctx)
            self.backoffs.update(ctx.key, ctx.backoff)
            flush = False
        error: Exception | None = None
        if to_remove:
            self.removals.setdefault(ctx.key, set()).update(_uid(p) for p in to_remove)
            removed, error = await self.pods.remove_finalizers(to_remove)
            for pod, gone in zip(to_remove, removed, strict=True):
                if gone:
                    with_finalizer.discard(_uid(pod))
                else:  # no update will come for it: do not wait for one
                    self.removals[ctx.key].discard(_uid(pod))
        flush = clean_uncounted(ctx.job["status"], with_finalizer)
        if error is not None:
            if flush:
                await self._write(ctx)
            raise error
        return flush

    def _enact_finished(self, ctx: SyncContext) -> bool:
        if ctx.finished is None:
            return False
        uncounted = ctx.job["status"].get("uncountedTerminatedPods") or {}
        if uncounted.get("succeeded") or uncounted.get("failed") or ctx.terminating > 0:
            return False
        condition, now = ctx.finished, self.clock.now()
        reason, message = condition.get("reason", ""), condition.get("message", "")
        ensure_condition(ctx.job, condition["type"], "True", reason, message, now)
        if condition["type"] == COMPLETE:
            final = find_condition(ctx.job, COMPLETE) or {}
            ctx.job["status"]["completionTime"] = final.get("lastTransitionTime")
        return True

    async def _write(self, ctx: SyncContext) -> None:
        body = {**with_kind(ctx.job), "status": wire_status(ctx.job["status"])}
        written = await self.client.update_status(JOBS, meta(ctx.job)["namespace"], body)
        ctx.job["metadata"] = written["metadata"]  # the next write must carry the new version
        self.written[ctx.key] = resource_version(written)

    async def _record_finished(self, job: Object, condition: Object) -> None:
        subject = with_kind(job)
        if condition["type"] == COMPLETE:
            completions = spec(job).get("completions")
            if completions is not None and int(job["status"].get("succeeded") or 0) > completions:
                await self.recorder.record(
                    subject,
                    reason="TooManySucceededPods",
                    message="Too many succeeded pods running after completion count reached",
                    warning=True,
                )
            await self.recorder.record(subject, reason="Completed", message="Job completed")
            return
        reason, message = condition.get("reason", ""), condition.get("message", "")
        await self.recorder.record(subject, reason=reason, message=message, warning=True)
