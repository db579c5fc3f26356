"""Which scheduled time a CronJob should run now, and when to look at it again.

The CronJob controller does not keep a timer per CronJob; it is woken at (just after) the next
scheduled time and asks upstream's questions (``pkg/controller/cronjob/utils.go``):

- ``most_recent(…)``: counting from ``status.lastScheduleTime`` (or the CronJob's creation),
  which scheduled times have passed unmet, and which is the latest? With
  ``startingDeadlineSeconds`` times older than the deadline are not even considered. Only the
  latest missed time is run — a CronJob that was stopped for a day does not replay a day of
  runs. More than 100 missed times earn the ``TooManyMissedTimes`` warning (usually a clock
  problem, or a ``startingDeadlineSeconds`` worth setting).
- ``requeue_after(…)``: seconds until the next scheduled time, plus 100 ms against clock skew.

Times are Unix seconds; the schedule (``cron_schedule.py``) knows its time zone.
"""

from __future__ import annotations

from typing import Any, Literal

from minikube_py.api.stamps import parse_time
from minikube_py.controllers.cron_schedule import Schedule, ScheduleError

Object = dict[str, Any]
Missed = Literal["none", "few", "many"]
NEXT_SCHEDULE_DELTA = 0.1  # upstream's nextScheduleDelta
MANY_MISSED = 100


def _earliest(cron_job: Object) -> float:
    status, meta = cron_job.get("status") or {}, cron_job.get("metadata") or {}
    last = parse_time(status.get("lastScheduleTime"))
    if last is not None:
        return last
    return parse_time(meta.get("creationTimestamp")) or 0.0


def most_recent(
    cron_job: Object, now: float, schedule: Schedule, *, with_deadline: bool
) -> tuple[float, float | None, Missed]:
    """(the time counted from, the latest unmet scheduled time or None, how many missed).
    Raises ``ScheduleError`` for a schedule whose runs come less than a second apart (one that
    never fires, like ``0 0 30 2 *``, shows as none due)."""
    earliest = _earliest(cron_job)
    deadline = (cron_job.get("spec") or {}).get("startingDeadlineSeconds")
    if with_deadline and deadline is not None:
        earliest = max(earliest, now - float(deadline))  # nothing older is scheduled
    first = schedule.next_after(earliest)
    second = schedule.next_after(first) if first is not None else None
    if first is None or now < first:
        return earliest, None, "none"
    if second is None or now < second:
        return earliest, first, "none"
    interval = round(second - first)
    if interval < 1:
        raise ScheduleError("time difference between two schedules is less than 1 second")
    missed = int(now - first) // interval + 1
    # jump close to now by whole intervals, then walk the real schedule (which may be uneven)
    latest: float | None = None
    moment: float | None = schedule.next_after(first + (missed - 2) * interval)
    while moment is not None and moment <= now:
        latest = moment
        moment = schedule.next_after(moment)
    kind: Missed = "many" if missed > MANY_MISSED else "few"
    return earliest, latest, kind


def due_time(cron_job: Object, now: float, schedule: Schedule) -> tuple[float | None, Missed]:
    """The scheduled time to run now (None: nothing due) and how many were missed."""
    _, latest, missed = most_recent(cron_job, now, schedule, with_deadline=True)
    if latest is None or latest > now:
        return None, missed
    return latest, missed


def requeue_after(cron_job: Object, now: float, schedule: Schedule) -> float:
    """Seconds from ``now`` until just after the next scheduled time."""
    try:
        earliest, latest, missed = most_recent(cron_job, now, schedule, with_deadline=False)
    except ScheduleError:
        latest, earliest, missed = now, now, "none"
    if latest is None:
        latest = earliest if missed == "none" else now
    following = schedule.next_after(latest)
    if following is None:  # never again: look once a day in case the clock jumps
        return 86400.0
    return following + NEXT_SCHEDULE_DELTA - now
