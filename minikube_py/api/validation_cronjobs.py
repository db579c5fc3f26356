"""Validation of CronJobs: a schedule, a time zone, and a template for the Jobs they create.

A CronJob needs a schedule in standard cron syntax (five fields, or a descriptor such as
``@hourly``) without a ``TZ=`` prefix (the ``timeZone`` field says that, and must name a zone
of the IANA database), a known concurrency policy (``Allow``, ``Forbid``, ``Replace``),
non-negative history limits, and a job template that follows the Job rules
(``validation_batch.validate_job_spec``) but leaves its selector to the server, which
generates one for each Job it creates.

Messages follow ``pkg/apis/batch/validation`` of Kubernetes 1.32; cron errors follow the
``robfig/cron/v3`` parser that upstream uses (``validation_formats.cron_errors``).
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

from minikube_py.api.errors import Cause
from minikube_py.api.validation_batch import validate_job_spec
from minikube_py.api.validation_causes import (
    go_label_selector,
    invalid,
    mapping,
    nonnegative,
    not_supported,
    required,
    text,
)
from minikube_py.api.validation_formats import cron_errors


def validate_cron_job(obj: Any, old: Any) -> list[Cause]:
    spec = mapping(obj, "spec")
    schedule, causes = text(spec, "schedule"), []
    if not schedule:
        causes.append(required("spec.schedule"))
    else:
        causes += [invalid("spec.schedule", schedule, error) for error in cron_errors(schedule)]
        had_tz = old is not None and "TZ" in text(mapping(old, "spec"), "schedule")
        if not had_tz and "TZ" in schedule:
            causes.append(
                invalid(
                    "spec.schedule",
                    schedule,
                    "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
                )
            )
    causes += nonnegative("spec.startingDeadlineSeconds", spec.get("startingDeadlineSeconds"))
    zone = spec.get("timeZone")
    if isinstance(zone, str) and (old is None or zone != mapping(old, "spec").get("timeZone")):
        causes += _time_zone(zone)
    policy = text(spec, "concurrencyPolicy")
    if not policy:
        causes.append(required("spec.concurrencyPolicy"))
    elif policy not in ("Allow", "Forbid", "Replace"):
        causes.append(
            not_supported("spec.concurrencyPolicy", policy, ["Allow", "Forbid", "Replace"])
        )
    job = mapping(mapping(spec, "jobTemplate"), "spec")
    causes += validate_job_spec(job, "spec.jobTemplate.spec")
    if job.get("selector") is not None:
        causes.append(
            invalid(
                "spec.jobTemplate.spec.selector",
                go_label_selector(job.get("selector")),
                "`selector` will be auto-generated",
            )
        )
    if job.get("manualSelector") is True:
        causes.append(not_supported("spec.jobTemplate.spec.manualSelector", True, ["nil", "false"]))
    for key in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        causes += nonnegative(f"spec.{key}", spec.get(key))
    return causes


def _time_zone(zone: str) -> list[Cause]:
    if not zone:
        return [invalid("spec.timeZone", zone, "timeZone must be nil or non-empty string")]
    if zone.lower() == "local":
        return [
            invalid(
                "spec.timeZone",
                zone,
                "timeZone must be an explicit time zone as "
                "defined in https://www.iana.org/time-zones",
            )
        ]
    parts = zone.split("/")
    if any(
        not re.fullmatch(r"[A-Za-z.\-_0-9+]{1,14}", p) or p in (".", "..") or p.startswith("-")
        for p in parts
    ):
        return [invalid("spec.timeZone", zone, f"unknown time zone {zone}")]
    try:
        zoneinfo.ZoneInfo(zone)
    except Exception:  # the zone database raises several kinds of errors for unknown names
        return [invalid("spec.timeZone", zone, f"unknown time zone {zone}")]
    return []
