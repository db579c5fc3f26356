"""The CronJob controller: create a Job at each scheduled time.

A CronJob says "run this Job template on this cron schedule". Its controller (upstream's
``pkg/controller/cronjob/cronjob_controllerv2.go``) is woken at each scheduled time — it
returns the seconds until the next one, and the work queue brings the key back then, on the
injected clock — and on every change of the CronJob or of one of its Jobs. Each sync:

1. **History:** deletes finished Jobs beyond ``successfulJobsHistoryLimit`` and
   ``failedJobsHistoryLimit`` (oldest first, ``SuccessfulDelete``).
2. **Bookkeeping:** a finished Job leaves ``status.active`` (``SawCompletedJob``), a
   succeeded one moves ``status.lastSuccessfulTime``, a Job gone missing leaves the list.
3. **Schedule:** unless suspended, finds the latest scheduled time not yet run
   (``cron_times.py``). Too late for ``startingDeadlineSeconds``: ``MissSchedule``. Another
   run active: ``Allow`` starts another, ``Forbid`` skips this one (``JobAlreadyActive``),
   ``Replace`` deletes the running ones first. Then creates the Job (``cron_jobs.py``:
   ``SuccessfulCreate``, ``Created job <name>``), adds it to ``status.active`` and sets
   ``status.lastScheduleTime``.
4. **Status** is written once, if anything changed.
"""

from __future__ import annotations

import copy
from typing import Any

from minikube_py.api.stamps import parse_time, rfc3339
from minikube_py.client.events import EventRecorder
from minikube_py.client.protocol import CRONJOBS, JOBS, ApiError, Client
from minikube_py.clock import Clock
from minikube_py.controllers.controller import Controller, controller_key, controller_reference
from minikube_py.controllers.cron_jobs import (
    drop_active,
    finished_type,
    in_active,
    in_active_by_name,
    job_from_template,
    job_name,
    key_of,
    name_of,
    oldest_beyond,
    reference,
    resource_version,
    rfc1123z,
    wire_status,
)
from minikube_py.controllers.cron_schedule import Schedule, ScheduleError, load_zone, parse
from minikube_py.controllers.cron_times import due_time, requeue_after
from minikube_py.controllers.informers import SharedInformers

Object = dict[str, Any]


class CronJobController(Controller):
    """Reconciles CronJobs: creates their Jobs on schedule and keeps their history short."""

    component = "cronjob-controller"
    name = "cronjob"
    workers = 5  # kube-controller-manager's --concurrent-cron-job-syncs

    def __init__(
        self,
        client: Client,
        *,
        clock: Clock | None = None,
        recorder: EventRecorder | None = None,
        workers: int | None = None,
    ) -> None:
        super().__init__(client, clock=clock, recorder=recorder, workers=workers)
        self.written: dict[str, int] = {}  # key -> resourceVersion of our last status write

    def wire(self, informers: SharedInformers) -> None:
        self.cron_jobs = informers.get(CRONJOBS)
        self.jobs = informers.get(JOBS)
        self.cron_jobs.on_add(self.enqueue)
        self.cron_jobs.on_update(self._cron_job_updated)
        self.cron_jobs.on_delete(self.enqueue)
        self.watch_owned(self.jobs, "CronJob", "batch")

    def _cron_job_updated(self, old: Object, new: Object) -> None:
        old_spec, new_spec = old.get("spec") or {}, new.get("spec") or {}
        fields = ("schedule", "timeZone")
        if any(old_spec.get(f) != new_spec.get(f) for f in fields):
            try:  # a new schedule: come back at its next time (sooner wins in the queue)
                schedule = parse(str(new_spec.get("schedule") or ""), new_spec.get("timeZone"))
            except ScheduleError:
                self.enqueue(new)  # the sync says what is wrong with it
                return
            self.queue.add_after(key_of(new), requeue_after(new, self.clock.now(), schedule))
            return
        self.enqueue(new)

    # -- reconciling ------------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        cached = self.cron_jobs.get(key)
        if cached is None:
            self.written.pop(key, None)
            return None
        if resource_version(cached) < self.written.get(key, 0):
            return None  # our own last write is still on its way to the cache
        cron_job = copy.deepcopy(cached)
        cron_job.setdefault("apiVersion", "batch/v1")
        cron_job.setdefault("kind", "CronJob")
        jobs = [
            job
            for job in self.jobs.by_namespace(cron_job["metadata"]["namespace"])
            if (ref := controller_reference(job)) is not None
            and ref.get("kind") == "CronJob"
            and ref.get("name") == cron_job["metadata"]["name"]
        ]
        changed = await self._clean_up_history(cron_job, jobs)
        requeue: float | None = None
        error: Exception | None = None
        try:
            requeue, synced = await self._sync(cron_job, jobs)
            changed |= synced
        except Exception as failure:
            error = failure
            self.log.info("error reconciling cronjob", key=key, error=str(failure))
        if changed:
            body = {**cron_job, "status": wire_status(cron_job.get("status") or {})}
            namespace = cron_job["metadata"]["namespace"]
            written = await self.client.update_status(CRONJOBS, namespace, body)
            self.written[key] = resource_version(written)
        if requeue is not None:
            return requeue
        if error is not None:
            raise error
        return None

    async def _sync(self, cron_job: Object, jobs: list[Object]) -> tuple[float | None, bool]:
        """Steps 2 and 3; (seconds until the next look, whether the status changed)."""
        now, changed = self.clock.now(), False
        status = cron_job.setdefault("status", {})
        for job in jobs:
            uid, finished = job["metadata"]["uid"], finished_type(job)
            if not in_active(cron_job, uid) and finished is None:
                await self._warn(
                    cron_job,
                    "UnexpectedJob",
                    f"Saw a job that the controller did not create or forgot: {name_of(job)}",
                )
            elif in_active(cron_job, uid) and finished is not None:
                drop_active(cron_job, uid)
                message = f"Saw completed job: {name_of(job)}, status: {finished}"
                await self._say(cron_job, "SawCompletedJob", message)
                changed = True
            elif finished == "Complete":
                done = (job.get("status") or {}).get("completionTime")
                last = parse_time(status.get("lastSuccessfulTime"))
                moment = parse_time(done)
                if moment is not None and (last is None or moment > last):
                    status["lastSuccessfulTime"] = done
                    changed = True
        changed |= await self._forget_missing(cron_job, {j["metadata"]["uid"] for j in jobs})
        spec = cron_job.get("spec") or {}
        if cron_job["metadata"].get("deletionTimestamp") or spec.get("suspend"):
            return None, changed
        schedule = await self._schedule(cron_job)
        if schedule is None:
            return None, changed
        try:
            scheduled, missed = due_time(cron_job, now, schedule)
        except ScheduleError as error:
            message = f"invalid schedule: {spec.get('schedule')} : {error}"
            await self._warn(cron_job, "InvalidSchedule", message)
            return None, changed
        if missed == "many":
            await self._warn(
                cron_job,
                "TooManyMissedTimes",
                "too many missed start times. Set or decrease .spec.startingDeadlineSeconds "
                "or check clock skew",
            )
        next_look = requeue_after(cron_job, now, schedule)
        if scheduled is None:
            return next_look, changed
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and scheduled + float(deadline) < now:
            message = f"Missed scheduled time to start a job: {rfc1123z(scheduled)}"
            await self._warn(cron_job, "MissSchedule", message)
            return next_look, changed
        last = parse_time(status.get("lastScheduleTime"))
        if in_active_by_name(cron_job, job_name(cron_job, scheduled)) or last == scheduled:
            return next_look, changed  # this time is already processed
        policy = spec.get("concurrencyPolicy") or "Allow"
        if policy == "Forbid" and status.get("active"):
            await self._say(
                cron_job,
                "JobAlreadyActive",
                "Not starting job because prior execution is running and concurrency policy "
                "is Forbid",
            )
            return next_look, changed
        if policy == "Replace":
            for ref in list(status.get("active") or []):
                await self._delete_job(cron_job, ref["name"], ref.get("uid"))
                changed = True
        created = await self._create_job(cron_job, scheduled)
        if created is None:
            return None, changed
        status["active"] = [*(status.get("active") or []), reference(created)]
        status["lastScheduleTime"] = rfc3339(scheduled)
        return requeue_after(cron_job, now, schedule), True

    async def _schedule(self, cron_job: Object) -> Schedule | None:
        spec = cron_job.get("spec") or {}
        text, zone = str(spec.get("schedule") or ""), spec.get("timeZone")
        if zone is not None:
            try:
                load_zone(zone)
            except ScheduleError:
                message = f'invalid timeZone: "{zone}": unknown time zone {zone}'
                await self._warn(cron_job, "UnknownTimeZone", message)
                return None
        if "TZ" in text:
            await self._warn(
                cron_job,
                "UnsupportedSchedule",
                f'CRON_TZ or TZ used in schedule "{text}" is not officially supported, see '
                "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more "
                "details",
            )
            zone = None
        try:
            return parse(text, zone)
        except ScheduleError as error:
            message = f'unparseable schedule: "{text}" : {error}'
            await self._warn(cron_job, "UnparseableSchedule", message)
            return None

    async def _forget_missing(self, cron_job: Object, seen: set[Any]) -> bool:
        """Drop active references whose Job is gone (asking the API: the cache may lag)."""
        changed = False
        for ref in list((cron_job.get("status") or {}).get("active") or []):
            if ref.get("uid") in seen:
                continue
            try:
                await self.client.get(JOBS, ref.get("namespace"), str(ref.get("name")))
            except ApiError as error:
                if error.code != 404:
                    raise
                await self._say(cron_job, "MissingJob", f"Active job went missing: {ref['name']}")
                drop_active(cron_job, ref.get("uid"))
                changed = True
        return changed

    async def _create_job(self, cron_job: Object, scheduled: float) -> Object | None:
        """Create the run's Job; None when there is nothing more to do now."""
        wanted = job_from_template(cron_job, scheduled)
        namespace = cron_job["metadata"]["namespace"]
        try:
            created = await self.client.create(JOBS, namespace, wanted)
        except ApiError as error:
            if error.code != 409:
                await self._warn(cron_job, "FailedCreate", f"Error creating job: {error}")
                raise
            # made before (we crashed before recording it?): record it if it is ours
            existing = await self.client.get(JOBS, namespace, wanted["metadata"]["name"])
            owner = controller_key(existing, "CronJob", "batch")
            mine = (controller_reference(existing) or {}).get("uid") == cron_job["metadata"]["uid"]
            if owner is None or not mine or in_active(cron_job, existing["metadata"]["uid"]):
                return None
            self.log.info("job already exists", key=key_of(cron_job), job=name_of(existing))
            return existing
        self.log.info("created job", key=key_of(cron_job), job=name_of(created))
        await self._say(cron_job, "SuccessfulCreate", f"Created job {name_of(created)}")
        return created

    async def _delete_job(self, cron_job: Object, name: str, uid: Any) -> bool:
        namespace = cron_job["metadata"]["namespace"]
        try:
            await self.client.delete(JOBS, namespace, name, propagation_policy="Background")
        except ApiError as error:
            await self._warn(cron_job, "FailedDelete", f"Deleted job: {error}")
            return False
        drop_active(cron_job, uid)
        await self._say(cron_job, "SuccessfulDelete", f"Deleted job {name}")
        return True

    async def _clean_up_history(self, cron_job: Object, jobs: list[Object]) -> bool:
        spec = cron_job.get("spec") or {}
        changed = False
        for kind, limit_field in (
            ("Complete", "successfulJobsHistoryLimit"),
            ("Failed", "failedJobsHistoryLimit"),
        ):
            limit = spec.get(limit_field)
            if limit is None:
                continue
            finished = [job for job in jobs if finished_type(job) == kind]
            for job in oldest_beyond(finished, int(limit)):
                changed |= await self._delete_job(cron_job, name_of(job), job["metadata"]["uid"])
        return changed

    async def _say(self, cron_job: Object, reason: str, message: str) -> None:
        await self.recorder.record(cron_job, reason=reason, message=message)

    async def _warn(self, cron_job: Object, reason: str, message: str) -> None:
        await self.recorder.record(cron_job, reason=reason, message=message, warning=True)
