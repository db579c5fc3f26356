"""The Jobs of a CronJob: how they are made, named, referenced and cleaned up.

Each run of a CronJob is a Job made from ``spec.jobTemplate`` (its labels, annotations and
spec) and controlled by the CronJob (an ownerReference with ``controller: true``). Its name is
``<cronjob>-<scheduled time in minutes since the epoch>`` — deterministic, so a controller that
crashed after creating it and before recording it cannot create the run twice: the second
create fails with ``AlreadyExists``. The ``batch.kubernetes.io/cronjob-scheduled-timestamp``
annotation records the scheduled time in RFC 3339, in the CronJob's ``timeZone`` (UTC without
one), as upstream's ``getJobFromTemplate2``.

``status.active`` lists the running Jobs as ObjectReferences; finished Jobs beyond
``successfulJobsHistoryLimit`` / ``failedJobsHistoryLimit`` are deleted oldest first (by
``status.startTime``, then name), with background propagation so their pods follow.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from minikube_py.api.stamps import parse_time
from minikube_py.controllers.cron_schedule import load_zone

Object = dict[str, Any]
SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"


def job_name(cron_job: Object, scheduled: float) -> str:
    return f"{cron_job['metadata']['name']}-{int(scheduled) // 60}"


def go_rfc3339(moment: float, zone_name: str | None) -> str:
    """Go's ``Format(time.RFC3339)`` in the zone: ``2026-01-02T03:04:05+01:00``, or ``…Z`` for a
    zero offset."""
    local = datetime.fromtimestamp(int(moment), load_zone(zone_name or ""))
    text = local.strftime("%Y-%m-%dT%H:%M:%S%z")
    if text.endswith("+0000"):
        return text[:-5] + "Z"
    return f"{text[:-2]}:{text[-2:]}"


def rfc1123z(moment: float) -> str:
    """Go's ``time.RFC1123Z`` in UTC, as the ``MissSchedule`` event prints it."""
    return datetime.fromtimestamp(int(moment), UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")


def job_from_template(cron_job: Object, scheduled: float) -> Object:
    meta, spec = cron_job["metadata"], cron_job.get("spec") or {}
    template = spec.get("jobTemplate") or {}
    template_meta = template.get("metadata") or {}
    annotations = dict(template_meta.get("annotations") or {})
    annotations[SCHEDULED_TIMESTAMP] = go_rfc3339(scheduled, spec.get("timeZone"))
    metadata: Object = {
        "name": job_name(cron_job, scheduled),
        "namespace": meta["namespace"],
        "annotations": annotations,
        "ownerReferences": [
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "name": meta["name"],
                "uid": meta["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    }
    if template_meta.get("labels"):
        metadata["labels"] = dict(template_meta["labels"])
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def reference(job: Object) -> Object:
    """The ObjectReference ``status.active`` keeps for a Job."""
    meta = job["metadata"]
    return {
        "kind": "Job",
        "namespace": meta["namespace"],
        "name": meta["name"],
        "uid": meta["uid"],
        "apiVersion": "batch/v1",
        "resourceVersion": meta.get("resourceVersion", ""),
    }


def finished_type(job: Object) -> str | None:
    """``Complete`` or ``Failed`` if the Job has that condition true, else None."""
    for condition in (job.get("status") or {}).get("conditions") or []:
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return str(condition["type"])
    return None


def in_active(cron_job: Object, uid: Any) -> bool:
    return any(ref.get("uid") == uid for ref in _active(cron_job))


def in_active_by_name(cron_job: Object, name: str) -> bool:
    return any(ref.get("name") == name for ref in _active(cron_job))


def drop_active(cron_job: Object, uid: Any) -> None:
    status = cron_job.setdefault("status", {})
    status["active"] = [ref for ref in _active(cron_job) if ref.get("uid") != uid]


def _active(cron_job: Object) -> list[Object]:
    return list((cron_job.get("status") or {}).get("active") or [])


def oldest_beyond(jobs: list[Object], keep: int) -> list[Object]:
    """The jobs to delete so that ``keep`` remain: the oldest by start time (never-started
    ones count as newest), then by name."""
    excess = len(jobs) - keep
    if excess <= 0:
        return []

    def started(job: Object) -> tuple[bool, float, str]:
        start = parse_time((job.get("status") or {}).get("startTime"))
        return (start is None, start or 0.0, job["metadata"]["name"])

    return sorted(jobs, key=started)[:excess]


def wire_status(status: Object) -> Object:
    """A CronJob status as upstream serialises it: no empty ``active`` list, no nulls."""
    return {key: value for key, value in status.items() if value not in (None, [])}


def name_of(obj: Object) -> str:
    return str(obj["metadata"]["name"])


def key_of(obj: Object) -> str:
    return f"{obj['metadata']['namespace']}/{obj['metadata']['name']}"


def resource_version(obj: Object) -> int:
    """The resourceVersion as a number (this API's versions are store revisions)."""
    try:
        return int(obj["metadata"].get("resourceVersion") or 0)
    except ValueError:
        return 0
