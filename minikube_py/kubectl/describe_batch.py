"""``kubectl describe job`` and ``cronjob``: runs to completion and their schedules.

A Job's description counts its pods as active (and ready), succeeded and failed, and says when
it started and completed and how long that took; an Indexed Job also which indexes are done.
A CronJob's says when and how it runs (schedule, concurrency policy, history limits), the Job
it makes each time (its template), when it last ran and which of its Jobs are running now.
"""

from __future__ import annotations

from minikube_py.api.printers import (
    dig,
    human_duration,
    items,
    mapping,
    parse_time,
    selector_string,
    text,
)
from minikube_py.client.discovery import Resource
from minikube_py.client.protocol import Object
from minikube_py.kubectl.describe_pods import pod_template
from minikube_py.kubectl.describe_writer import (
    controlled_by,
    fetch_events,
    go_time,
    go_value,
    new_description,
)
from minikube_py.kubectl.session import Session


async def describe_job(
    session: Session, resource: Resource, job: Object, show_events: bool = True
) -> str:
    meta, spec, status = (mapping(job, part) for part in ("metadata", "spec", "status"))
    events = await fetch_events(session, job, "Job", wanted=show_events)
    w = new_description(meta, ("Selector", selector_string(spec.get("selector"))))
    controlled_by(w, job)
    if "parallelism" in spec:
        w.write(0, f"Parallelism:\t{spec['parallelism']}\n")
    w.write(0, f"Completions:\t{spec.get('completions', '<unset>')}\n")
    for field, label in (("completionMode", "Completion Mode"), ("suspend", "Suspend"),
                         ("backoffLimit", "Backoff Limit"),
                         ("ttlSecondsAfterFinished", "TTL Seconds After Finished")):  # fmt: skip
        if field in spec:
            w.write(0, f"{label}:\t{go_value(spec[field])}\n")
    started, completed = (
        parse_time(status.get("startTime")),
        parse_time(status.get("completionTime")),
    )
    if started:
        w.write(0, f"Start Time:\t{go_time(status['startTime'])}\n")
    if completed:
        w.write(0, f"Completed At:\t{go_time(status['completionTime'])}\n")
    if started and completed:
        w.write(0, f"Duration:\t{human_duration(completed - started)}\n")
    if "activeDeadlineSeconds" in spec:
        w.write(0, f"Active Deadline Seconds:\t{spec['activeDeadlineSeconds']}s\n")
    active, done, failed = (dig(status, f, default=0) for f in ("active", "succeeded", "failed"))
    ready = f" ({status['ready']} Ready)" if isinstance(status.get("ready"), int) else ""
    w.write(0, f"Pods Statuses:\t{active} Active{ready} / {done} Succeeded / {failed} Failed\n")
    if text(spec, "completionMode") == "Indexed":
        w.write(0, f"Completed Indexes:\t{_indexes(text(status, 'completedIndexes'))}\n")
    pod_template(w, spec.get("template"))
    return w.render(events)


def _indexes(indexes: str, soft_limit: int = 50) -> str:
    """At most about ``soft_limit`` characters of the completed indexes, cut after a comma."""
    if not indexes:
        return "<none>"
    cut = indexes.find(",", soft_limit)
    return indexes if cut < 0 else indexes[: cut + 1] + "..."


async def describe_cron_job(
    session: Session, resource: Resource, cron_job: Object, show_events: bool = True
) -> str:
    meta, spec = mapping(cron_job, "metadata"), mapping(cron_job, "spec")
    events = await fetch_events(session, cron_job, "CronJob", wanted=show_events)
    w = new_description(meta)
    w.write(0, f"Schedule:\t{text(spec, 'schedule')}\n")
    w.write(0, f"Concurrency Policy:\t{text(spec, 'concurrencyPolicy')}\n")
    suspend = spec.get("suspend")
    w.write(0, f"Suspend:\t{'<unset>' if suspend is None else str(bool(suspend))}\n")
    for field, label in (("successfulJobsHistoryLimit", "Successful Job History Limit"),
                         ("failedJobsHistoryLimit", "Failed Job History Limit")):  # fmt: skip
        w.write(0, f"{label}:\t{spec.get(field, '<unset>')}\n")
    deadline = spec.get("startingDeadlineSeconds")
    w.write(0, f"Starting Deadline Seconds:\t{'<unset>' if deadline is None else f'{deadline}s'}\n")
    job = mapping(spec, "jobTemplate", "spec")
    selector = selector_string(job["selector"]) if "selector" in job else "<unset>"
    w.write(0, f"Selector:\t{selector}\n")
    for field, label in (("parallelism", "Parallelism"), ("completions", "Completions")):
        w.write(0, f"{label}:\t{job.get(field, '<unset>')}\n")
    if "activeDeadlineSeconds" in job:
        w.write(0, f"Active Deadline Seconds:\t{job['activeDeadlineSeconds']}s\n")
    pod_template(w, job.get("template"))
    last = dig(cron_job, "status", "lastScheduleTime")
    w.write(0, f"Last Schedule Time:\t{go_time(last) if last else '<unset>'}\n")
    active = [text(ref, "name") for ref in items(cron_job, "status", "active")]
    w.write(0, f"Active Jobs:\t{', '.join(active) or '<none>'}\n")
    return w.render(events)
