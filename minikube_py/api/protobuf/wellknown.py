"""Kubernetes types whose JSON is not "an object with the message's fields".

In Go these types have their own ``MarshalJSON``, so their protobuf message and their JSON
differ in shape. Each function here takes the message's decoded fields (by field number) and
returns what the JSON API carries; ``None`` means JSON ``null``, which the caller leaves out.

* ``meta.v1.Time``: ``{1: seconds, 2: nanos}`` becomes RFC 3339 in UTC, whole seconds
  (``2024-01-02T03:04:05Z``); Kubernetes drops the nanoseconds on decode. The zero time
  (0001-01-01, or an empty message) is ``null``: that is ``creationTimestamp`` on every new
  object, which kubectl encodes but the JSON path never sends.
* ``meta.v1.MicroTime``: the same with six fractional digits (``...05.123456Z``).
* ``meta.v1.Duration``: nanoseconds become Go's duration text (``1h2m3.5s``).
* ``resource.Quantity``: the canonical string it carries (``500m``, ``1Gi``).
* ``intstr.IntOrString``: ``{1: type, 2: intVal, 3: strVal}`` becomes a number or a string.
* ``runtime.RawExtension`` and ``meta.v1.FieldsV1``: the raw bytes are JSON already.
* ``ExtraValue``/``Verbs``: Go slices given a wrapper message to live in a map; a plain list.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

# Seconds from the Unix epoch back to Go's zero time, 0001-01-01T00:00:00Z.
GO_ZERO_SECONDS = -62135596800
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)

WRAPPED_LISTS = frozenset(
    {
        "meta.v1.Verbs",
        "authentication.v1.ExtraValue",
        "authorization.v1.ExtraValue",
        "certificates.v1.ExtraValue",
    }
)
SPECIAL = (
    frozenset(
        {
            "meta.v1.Time",
            "meta.v1.MicroTime",
            "meta.v1.Duration",
            "resource.Quantity",
            "intstr.IntOrString",
            "runtime.RawExtension",
            "meta.v1.FieldsV1",
        }
    )
    | WRAPPED_LISTS
)


def convert(message: str, values: dict[int, Any], empty: bool) -> Any:
    """The JSON value of a special message; ``empty`` says its bytes were empty."""
    if message in WRAPPED_LISTS:
        items = values.get(1)
        return items or None  # a nil Go slice is null
    if message == "meta.v1.Time":
        # Kubernetes keeps whole seconds only (its JSON never carried more).
        seconds = values.get(1, 0)
        if empty or seconds == GO_ZERO_SECONDS:
            return None
        return _rfc3339(seconds * 1_000_000, fraction=False)
    if message == "meta.v1.MicroTime":
        total_ns = values.get(1, 0) * 1_000_000_000 + values.get(2, 0)
        micros = total_ns // 1000
        if empty or micros == GO_ZERO_SECONDS * 1_000_000:
            return None
        return _rfc3339(micros, fraction=True)
    if message == "meta.v1.Duration":
        return go_duration(values.get(1, 0))
    if message == "resource.Quantity":
        return values.get(1, "0")
    if message == "intstr.IntOrString":
        kind = values.get(1, 0)
        if kind == 0:
            return values.get(2, 0)
        if kind == 1:
            return values.get(3, "")
        raise ValueError(f"IntOrString has type {kind}; only 0 (int) and 1 (string) exist")
    # runtime.RawExtension and meta.v1.FieldsV1 hold their JSON as bytes in field 1.
    raw = values.get(1)
    return None if raw is None else parse_json(raw)


def parse_json(raw: bytes) -> Any:
    """Embedded JSON (a RawExtension, managed fields); malformed or absurdly nested JSON is a
    ValueError like every other defect of the body."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("embedded JSON is nested too deeply") from None
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError(f"embedded JSON does not parse: {error}") from None


def _rfc3339(micros: int, *, fraction: bool) -> str:
    try:
        moment = _EPOCH + datetime.timedelta(microseconds=micros)
    except OverflowError:
        raise ValueError("a timestamp is outside the years 1 to 9999") from None
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    return f"{text}.{moment.microsecond:06d}Z" if fraction else f"{text}Z"


def go_duration(nanos: int) -> str:
    """Go's ``time.Duration.String``: ``0s``, ``1.5µs``, ``20ms``, ``1m0s``, ``2h3m4.5s``."""
    if nanos == 0:
        return "0s"
    sign, value = ("-", -nanos) if nanos < 0 else ("", nanos)
    if value < 1000:
        return f"{sign}{value}ns"
    if value < 1_000_000:
        return f"{sign}{_decimal(value, 3)}µs"
    if value < 1_000_000_000:
        return f"{sign}{_decimal(value, 6)}ms"
    text = f"{_decimal(value % 60_000_000_000, 9)}s"
    minutes = value // 60_000_000_000
    if minutes:
        text = f"{minutes % 60}m{text}"
        if minutes >= 60:
            text = f"{minutes // 60}h{text}"
    return sign + text


def _decimal(value: int, places: int) -> str:
    """``value / 10**places`` without trailing zeros (Go prints 1.5s, never 1.500s)."""
    whole, fraction = divmod(value, 10**places)
    digits = f"{fraction:0{places}d}".rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)
