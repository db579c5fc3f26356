"""Cron schedules read as robfig/cron's standard parser does, and the CronJob time helpers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from minikube_py.api.validation_formats import cron_errors
from minikube_py.controllers.cron_jobs import go_rfc3339, job_name, oldest_beyond, rfc1123z
from minikube_py.controllers.cron_schedule import ScheduleError, parse
from minikube_py.controllers.cron_times import due_time, requeue_after


def runs(schedule: str, zone: str, start: datetime, count: int = 3) -> list[str]:
    parsed = parse(schedule, zone)
    moment, found = start.timestamp(), []
    for _ in range(count):
        following = parsed.next_after(moment)
        assert following is not None
        moment = following
        found.append(datetime.fromtimestamp(moment, parsed.zone).isoformat())
    return found


NEW_YEAR = datetime(2026, 1, 1, tzinfo=UTC)  # a Thursday


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("*/20 * * * *", ["2026-01-01T00:20:00+00:00", "2026-01-01T00:40:00+00:00"]),
        ("@hourly", ["2026-01-01T01:00:00+00:00", "2026-01-01T02:00:00+00:00"]),
        ("@weekly", ["2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00"]),
        ("@monthly", ["2026-02-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00"]),
        ("@yearly", ["2027-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00"]),
        ("@annually", ["2027-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00"]),
        # both day fields restricted: either matches (the 13th, or a Friday)
        ("0 0 13 * fri", ["2026-01-02T00:00:00+00:00", "2026-01-09T00:00:00+00:00"]),
        # one day field starred: both must match ("*/2" is not a star: it has a step)
        ("0 0 * * FRI", ["2026-01-02T00:00:00+00:00", "2026-01-09T00:00:00+00:00"]),
        ("0 0 ? JAN,mar 1-5", ["2026-01-02T00:00:00+00:00", "2026-01-05T00:00:00+00:00"]),
        ("30 9-17/4 * * 1-5", ["2026-01-01T09:30:00+00:00", "2026-01-01T13:30:00+00:00"]),
        ("@every 1h30m", ["2026-01-01T01:30:00+00:00", "2026-01-01T03:00:00+00:00"]),
    ],
)
def test_next_runs(schedule: str, expected: list[str]) -> None:
    assert runs(schedule, "UTC", NEW_YEAR, 2) == expected
    assert cron_errors(schedule) == []  # the API server accepts what the controller runs


def test_time_zone_and_daylight_saving() -> None:
    # 2:30 does not exist in New York on 8 March 2026: that day is skipped, as robfig does
    start = datetime(2026, 3, 7, 12, tzinfo=UTC)
    assert runs("30 2 * * *", "America/New_York", start) == [
        "2026-03-09T02:30:00-04:00",
        "2026-03-10T02:30:00-04:00",
        "2026-03-11T02:30:00-04:00",
    ]
    # New Year at midnight UTC is 9:00 in Tokyo: the next run is the following day
    assert runs("TZ=Asia/Tokyo 0 9 * * *", "UTC", NEW_YEAR, 1) == ["2026-01-02T09:00:00+09:00"]


def test_a_date_that_never_comes_has_no_next_run() -> None:
    assert parse("0 0 30 2 *", "UTC").next_after(NEW_YEAR.timestamp()) is None


@pytest.mark.parametrize(
    "schedule", ["* * * *", "61 * * * *", "@fortnightly", "@every 5x", "* * * * mon-", "0 0 0 * *"]
)
def test_refused_schedules(schedule: str) -> None:
    with pytest.raises(ScheduleError):
        parse(schedule, "UTC")
    assert cron_errors(schedule) != []


def test_unknown_time_zone() -> None:
    with pytest.raises(ScheduleError):
        parse("* * * * *", "Mars/Olympus")


def cron(schedule: str, created: float, **extra: object) -> dict[str, object]:
    return {
        "metadata": {"name": "tick", "creationTimestamp": _stamp(created)},
        "spec": {"schedule": schedule, **extra},
        "status": {},
    }


def _stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_only_the_latest_missed_time_is_due() -> None:
    created = NEW_YEAR.timestamp()
    schedule = parse("*/10 * * * *", "UTC")
    due, missed = due_time(cron("*/10 * * * *", created), created + 3605, schedule)
    assert due == created + 3600 and missed == "few"
    assert due_time(cron("*/10 * * * *", created), created + 599, schedule) == (None, "none")
    # with a starting deadline, older times are not even considered
    late = cron("*/10 * * * *", created, startingDeadlineSeconds=60)
    assert due_time(late, created + 3605, schedule)[0] == created + 3600
    assert due_time(late, created + 3665, schedule)[0] is None
    hourly = parse("@hourly", "UTC")
    assert due_time(cron("@hourly", created), created + 102 * 3600, hourly)[1] == "many"
    assert requeue_after(cron("*/10 * * * *", created), created + 5, schedule) == pytest.approx(
        595.1
    )


def test_job_names_and_timestamps() -> None:
    moment = NEW_YEAR.timestamp()
    assert job_name({"metadata": {"name": "tick"}}, moment) == f"tick-{int(moment) // 60}"
    assert go_rfc3339(moment, None) == "2026-01-01T00:00:00Z"
    assert go_rfc3339(moment, "Europe/London") == "2026-01-01T00:00:00Z"
    assert go_rfc3339(moment, "Asia/Kolkata") == "2026-01-01T05:30:00+05:30"
    assert rfc1123z(moment) == "Thu, 01 Jan 2026 00:00:00 +0000"


def test_history_keeps_the_newest() -> None:
    def job(name: str, start: str | None) -> dict[str, object]:
        return {"metadata": {"name": name}, "status": {"startTime": start} if start else {}}

    jobs = [job("c", "2026-01-01T00:03:00Z"), job("a", "2026-01-01T00:01:00Z"), job("z", None)]
    assert [j["metadata"]["name"] for j in oldest_beyond(jobs, 1)] == ["a", "c"]  # type: ignore[index]
    assert oldest_beyond(jobs, 3) == []
