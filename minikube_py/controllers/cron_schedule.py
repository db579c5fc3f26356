"""Cron schedules as the CronJob controller reads them: when is the next run after a moment?

Kubernetes parses ``spec.schedule`` with ``robfig/cron/v3``'s standard parser, and so does this
module, to agree with the API server's validation (``api/validation_formats.py``) on what is a
schedule and with upstream on when it fires:

- five fields — minute, hour, day of month, month, day of week — each ``*`` or ``?``, a number
  or name (``jan``, ``mon``, case-insensitive), a range ``a-b``, a step ``*/n``, ``a/n`` or
  ``a-b/n``, or a comma-separated list of those;
- the day fields combine as in Vixie cron: if either starts with ``*`` (or ``?``), both must
  match; if both are restricted, either may;
- descriptors ``@yearly`` / ``@annually``, ``@monthly``, ``@weekly``, ``@daily`` /
  ``@midnight``, ``@hourly``, and ``@every <duration>`` (a Go duration such as ``1h30m``:
  robfig's ``ParseStandard`` accepts it, so the API does too);
- ``TZ=<zone>`` / ``CRON_TZ=<zone>`` in front, which the API refuses in new objects since 1.27
  but old ones may still carry; ``spec.timeZone`` is the supported way.

``croniter`` and ``cronsim`` (both maintained) were considered; neither accepts ``@every`` nor
``?`` in every field, so objects the API accepted would fail here. The walk in ``next_after``
is robfig's: move to a matching month, day, hour, minute in turn (the zone's wall clock for
days, absolute time for hours and minutes, so a daylight-saving change behaves as upstream).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import attrs

STAR = 1 << 63  # robfig's starBit: the field began with "*" or "?"
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NAMES = {3: {m: i + 1 for i, m in enumerate(_MONTHS)}, 4: {d: i for i, d in enumerate(_DAYS)}}
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class ScheduleError(ValueError):
    """The schedule (or its time zone) cannot be read."""


@attrs.frozen
class Schedule:
    """A parsed schedule: bit sets per field, or a constant delay for ``@every``."""

    zone: tzinfo
    fields: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    every: float | None = None  # seconds, for "@every"

    def next_after(self, moment: float) -> float | None:
        """The first run strictly after ``moment`` (Unix seconds); None if none within five
        years (a date that never comes, like 30 February)."""
        if self.every is not None:
            return float(int(moment) + self.every)  # robfig drops the fraction of a second
        minute, hour, dom, month, dow = self.fields
        # the seconds field is always 0: the search starts at the next whole minute
        t = datetime.fromtimestamp((int(moment) // 60 + 1) * 60, self.zone)
        limit = t.year + 5
        while t.year <= limit:
            if not (month >> t.month) & 1:
                t = _date(t.year + (t.month == 12), t.month % 12 + 1, 1, 0, self.zone)
            elif not _day_matches(dom, dow, t):
                t = _next_day(t, self.zone)
            elif not (hour >> t.hour) & 1:
                t = _add(t.replace(minute=0), timedelta(hours=1), self.zone)
            elif not (minute >> t.minute) & 1:
                t = _add(t, timedelta(minutes=1), self.zone)
            else:
                return t.timestamp()
        return None


def _date(year: int, month: int, day: int, hour: int, zone: tzinfo) -> datetime:
    """A wall-clock time in ``zone``; one in a daylight-saving gap moves forward, as Go's."""
    naive = datetime(year, month, day, hour, tzinfo=zone)
    return naive.astimezone(UTC).astimezone(zone)


def _add(t: datetime, delta: timedelta, zone: tzinfo) -> datetime:
    """Absolute-time addition (Python's own on aware datetimes is wall-clock)."""
    return (t.astimezone(UTC) + delta).astimezone(zone)


def _next_day(t: datetime, zone: tzinfo) -> datetime:
    following = t.date() + timedelta(days=1)
    return _date(following.year, following.month, following.day, 0, zone)


def _day_matches(dom: int, dow: int, t: datetime) -> bool:
    dom_match = bool((dom >> t.day) & 1)
    dow_match = bool((dow >> (t.isoweekday() % 7)) & 1)
    if dom & STAR or dow & STAR:
        return dom_match and dow_match
    return dom_match or dow_match


def parse(schedule: str, time_zone: str | None = None) -> Schedule:
    """``schedule`` in ``time_zone`` (a ``TZ=`` prefix wins; neither: this machine's zone, as
    kube-controller-manager uses its own). Raises ``ScheduleError``."""
    spec = schedule.strip()
    if spec.startswith(("TZ=", "CRON_TZ=")):
        prefix, _, spec = spec.partition(" ")
        time_zone = prefix.partition("=")[2]
    zone = load_zone(time_zone)
    if spec.startswith("@every "):
        return Schedule(zone, every=_duration(spec[len("@every ") :]))
    spec = _DESCRIPTORS.get(spec, spec)
    if spec.startswith("@"):
        raise ScheduleError(f"unrecognized descriptor: {spec}")
    parts = spec.split()
    if len(parts) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(parts)}: [{' '.join(parts)}]")
    bits = [_field(part, index) for index, part in enumerate(parts)]
    return Schedule(zone, (bits[0], bits[1], bits[2], bits[3], bits[4]))


def load_zone(name: str | None) -> tzinfo:
    """The zone called ``name`` (IANA, as Go's LoadLocation; ``""`` and ``UTC`` are UTC);
    ``None``: the local zone of this process."""
    if name is None:
        local = datetime.now().astimezone().tzinfo
        return local if local is not None else UTC
    if name in ("", "UTC"):
        return UTC
    try:
        return ZoneInfo(name)
    except (ValueError, OSError) as error:  # ZoneInfoNotFoundError is a KeyError
        raise ScheduleError(f"unknown time zone {name}") from error
    except KeyError as error:
        raise ScheduleError(f"unknown time zone {name}") from error


def _duration(text: str) -> float:
    pieces = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", text)
    if not pieces or "".join(n + u for n, u in pieces) != text:
        raise ScheduleError(f'failed to parse duration @every {text}: invalid duration "{text}"')
    seconds = sum(float(number) * _UNITS[unit] for number, unit in pieces)
    return float(max(1, int(seconds)))  # robfig: at least a second, whole seconds


def _field(text: str, index: int) -> int:
    low, high = _BOUNDS[index]
    bits = 0
    for expr in text.split(","):
        range_, slash, step_text = expr.partition("/")
        bounds = range_.split("-")
        extra = 0
        if bounds[0] in ("*", "?"):
            start, end, extra = low, high, STAR
        else:
            start = end = _number(bounds[0], index)
            if len(bounds) == 2:
                end = _number(bounds[1], index)
            elif len(bounds) > 2:
                raise ScheduleError(f"too many hyphens: {expr}")
        step = 1
        if slash:
            step = _number(step_text, -1)
            if len(bounds) == 1:
                end = high  # "N/step" means "N-max/step"
            if step > 1:
                extra = 0
        if start < low or end > high or start > end or step == 0:
            raise ScheduleError(f"invalid range: {expr}")
        bits |= sum(1 << value for value in range(start, end + 1, step)) | extra
    return bits


def _number(text: str, index: int) -> int:
    named = _NAMES.get(index, {}).get(text.lower())
    if named is not None:
        return named
    if not text.isdigit():
        raise ScheduleError(f"failed to parse int from {text}")
    return int(text)
