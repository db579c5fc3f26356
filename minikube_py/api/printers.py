"""Printer columns: the shared pieces every kind's ``kubectl get`` columns are made of.

``kubectl get`` does not format objects itself: it asks the API server for a ``Table`` and
prints the cells it gets. Upstream computes those cells in Go
(``pkg/printers/internalversion/printers.go``); here each ``Column`` of a ``ResourceType``
carries a *cell function* that takes the whole object dict and returns one cell. The kinds'
columns live in ``printers_core``, ``printers_workloads`` and ``printers_cluster``; this module
holds what they share: safe field access (objects may be nothing but metadata), timestamps and
upstream's ``HumanDuration`` ("5m", "2d3h"), label and selector formatting, and the ``Name`` /
``Age`` / ``Created At`` columns.

Cells that depend on the current time ("Age", "(5m ago)") read it from ``current_time()``,
which ``tables.to_table`` pins for the duration of one table, so tests can fix the clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

from minikube_py.api.resources import Column

Obj = dict[str, Any]

NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
AGE_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
    "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)

_NOW: ContextVar[datetime | None] = ContextVar("printer_now", default=None)


def current_time() -> datetime:
    """The time cells are computed against: pinned by ``frozen_time``, else the wall clock."""
    return _NOW.get() or datetime.now(UTC)


@contextmanager
def frozen_time(now: datetime | None) -> Iterator[None]:
    """Pin ``current_time()`` so that every row of one table sees the same instant."""
    token = _NOW.set(now)
    try:
        yield
    finally:
        _NOW.reset(token)


def dig(obj: Any, *path: str | int, default: Any = None) -> Any:
    """``obj[path0][path1]...``, or ``default`` where any step is missing or of the wrong type."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(obj, list) or not -len(obj) <= step < len(obj):
                return default
        elif not isinstance(obj, dict) or step not in obj:
            return default
        obj = obj[step]
    return default if obj is None else obj


def items(obj: Any, *path: str | int) -> list[Any]:
    """The list at ``path``, ``[]`` when absent (Go ranges over nil slices happily)."""
    value = dig(obj, *path)
    return value if isinstance(value, list) else []


def mapping(obj: Any, *path: str | int) -> dict[str, Any]:
    value = dig(obj, *path)
    return value if isinstance(value, dict) else {}


def integer(obj: Any, *path: str | int, default: int = 0) -> int:
    value = dig(obj, *path)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def text(obj: Any, *path: str | int, default: str = "") -> str:
    value = dig(obj, *path)
    return str(value) if value is not None and not isinstance(value, dict | list) else default


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp (``Time`` or ``MicroTime``); None for absent, zero or garbage."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    # Go's zero time serialises as year 1; upstream treats it as "no timestamp".
    return None if parsed.year <= 1 else parsed


def human_duration(delta: timedelta) -> str:
    """apimachinery's ``duration.HumanDuration``: about 2-3 significant figures."""
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    # Go's int(d.Seconds()) truncates toward zero, also for negative durations.
    seconds = micros // 1_000_000 if micros >= 0 else -(-micros // 1_000_000)
    # Two seconds of clock skew between machines still count as "now".
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if rest == 0 else f"{years}y{rest}d"
    return f"{hours // 24 // 365}y"


def since(value: Any) -> str:
    """upstream's ``translateTimestampSince``: ``<unknown>`` without a timestamp."""
    when = value if isinstance(value, datetime) else parse_time(value)
    return "<unknown>" if when is None else human_duration(current_time() - when)


def age(obj: Obj) -> str:
    return since(dig(obj, "metadata", "creationTimestamp"))


def name(obj: Obj) -> str:
    return text(obj, "metadata", "name")


def created_at(obj: Obj) -> str:
    """The default table convertor's cell: RFC 3339 in UTC, Go's zero time when absent."""
    when = parse_time(dig(obj, "metadata", "creationTimestamp"))
    if when is None:
        return "0001-01-01T00:00:00Z"
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_labels(labels: Any) -> str:
    """``labels.FormatLabels``: sorted ``k=v`` pairs, ``<none>`` when empty."""
    if not isinstance(labels, dict) or not labels:
        return "<none>"
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


def selector_string(selector: Any) -> str:
    """``LabelSelectorAsSelector(s).String()``: requirements sorted by key, "" when empty."""
    if not isinstance(selector, dict):
        return ""
    requirements: list[tuple[str, str]] = []
    for key, value in mapping(selector, "matchLabels").items():
        requirements.append((key, f"{key}={value}"))
    for expr in items(selector, "matchExpressions"):
        key, op = text(expr, "key"), text(expr, "operator")
        values = ",".join(sorted(str(v) for v in items(expr, "values")))
        rendered = {
            "In": f"{key} in ({values})",
            "NotIn": f"{key} notin ({values})",
            "Exists": key,
            "DoesNotExist": f"!{key}",
        }.get(op)
        if rendered is None:
            return "<error>"  # upstream fails to convert an unknown operator
        requirements.append((key, rendered))
    return ",".join(rendered for _, rendered in sorted(requirements, key=lambda r: r[0]))


def format_selector(selector: Any) -> str:
    """``metav1.FormatLabelSelector``: like ``selector_string`` but ``<none>`` when empty."""
    return selector_string(selector) or "<none>"


def container_cells(containers: list[Any]) -> tuple[str, str]:
    """upstream's ``layoutContainerCells``: names and images, comma-separated."""
    names = ",".join(text(c, "name") for c in containers)
    images = ",".join(text(c, "image") for c in containers)
    return names, images


def template_containers(obj: Obj, *prefix: str) -> list[Any]:
    return items(obj, *prefix, "template", "spec", "containers")


def with_more(shown: list[str], total: int, *, empty: str) -> str:
    """``a,b,c + 2 more...`` once a list is cut at three entries."""
    joined = ",".join(shown)
    if total > len(shown):
        return f"{joined} + {total - len(shown)} more..."
    return joined or empty


def condition(obj: Obj, kind: str) -> dict[str, Any] | None:
    for cond in items(obj, "status", "conditions"):
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return None


NAME = Column("Name", format="name", description=NAME_DOC)
AGE = Column("Age", description=AGE_DOC)
# What upstream's default table convertor shows for kinds without a printer (roles, CRDs, ...).
CREATED_AT = Column("Created At", type="date", description=AGE_DOC, cell=created_at)
DEFAULT_COLUMNS = (NAME, CREATED_AT)


def cell_value(column: Column, obj: Obj) -> Any:
    """One cell: the column's function, or the generic Name / Age cells when it has none."""
    if column.cell is not None:
        return column.cell(obj)
    if column.format == "name":
        return name(obj)
    if column.name == "Age":
        return age(obj)
    return ""
