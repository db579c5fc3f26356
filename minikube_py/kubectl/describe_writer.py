"""The layout of ``kubectl describe``: indented ``Label:  value`` lines aligned in columns.

kubectl writes a description as lines at indentation levels (two spaces a level) with tabs
between a label and its value, through Go's ``text/tabwriter`` (padding 2, no minimum width).
The tabwriter aligns a column over a *block*: consecutive lines that all have a cell in that
column. A line without a tab ends every block, which is why ``Name:`` … ``IP:`` share one
column while the fields under ``Containers:`` get their own. The indentation is part of the
first cell, so ``  IP:`` lines up with ``Controlled By:`` when they are consecutive.

``DescribeWriter`` collects the text and ``render`` aligns it the tabwriter's way. The helpers
here print what every kind shares: the opening (``new_description``: name, namespace, labels
and annotations one per line under the first, ``<none>`` when empty), times in Go's RFC 1123
form, and the closing ``Events:`` table (``render(events)``) of the events whose
``involvedObject`` is the described object, found with the field selector kubectl uses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from minikube_py.api.printers import current_time, dig, parse_time, since, text
from minikube_py.client.discovery import Resource
from minikube_py.client.protocol import EVENTS, ApiError, Object
from minikube_py.kubectl.session import Session

# A describer turns one fetched object into its description; the flag says whether to add
# the events about it (``--show-events``).
Describer = Callable[[Session, Resource, Object, bool], Awaitable[str]]

_FLUSH = "\f"  # a block boundary: kubectl flushes its tabwriter before the events table
_ESCAPES = str.maketrans({"\x1b": "^[", "\r": "\\r"})  # printers.WriteEscaped
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"  # never shown
_MAX_ANNOTATION = 140


class DescribeWriter:
    """kubectl's ``PrefixWriter`` over a tabwriter: ``write(level, text)`` adds two spaces a
    level before ``text`` (which carries its own tabs and newlines)."""

    def __init__(self) -> None:
        self._parts: list[str] = []

    def write(self, level: int, content: str) -> None:
        self._parts.append("  " * level + content.translate(_ESCAPES))

    def line(self, content: str = "") -> None:
        """``WriteLine``: the text and a newline, without indentation."""
        self._parts.append(content.translate(_ESCAPES) + "\n")

    def flush(self) -> None:
        self._parts.append(_FLUSH)

    def render(self, events: list[Object] | None = None) -> str:
        """The text with every tab-separated column aligned as Go's tabwriter does, ending in
        the ``Events:`` table when ``events`` were fetched (None: not asked for)."""
        describe_events(self, events)
        blocks = "".join(self._parts).split(_FLUSH)
        return "".join(_align(block) for block in blocks)


def _align(content: str) -> str:
    lines = content.split("\n")
    rows = [line.split("\t") for line in lines]
    out: list[str] = []
    _format(rows, 0, len(rows), [], out)
    return "\n".join(out)


def _format(rows: list[list[str]], start: int, end: int, widths: list[int], out: list[str]) -> None:
    """Go's ``tabwriter.format``: find each block of lines having a cell in the next column,
    size that column to its widest cell plus padding, and recurse into the columns after it."""
    column = len(widths)
    line = start
    while line < end:
        if column >= len(rows[line]) - 1:  # the last cell of a line is not in a column
            line += 1
            continue
        _emit(rows, start, line, widths, out)
        block_end = line
        width = 0
        while block_end < end and column < len(rows[block_end]) - 1:
            width = max(width, len(rows[block_end][column]) + 2)
            block_end += 1
        _format(rows, line, block_end, [*widths, width], out)
        start = line = block_end
    _emit(rows, start, end, widths, out)


def _emit(rows: list[list[str]], start: int, end: int, widths: list[int], out: list[str]) -> None:
    for cells in rows[start:end]:
        padded = [
            cell + " " * (widths[j] - len(cell)) if j < len(widths) else cell
            for j, cell in enumerate(cells)
        ]
        out.append("".join(padded))


# ------------------------------------------------------------------------------ shared fields


def go_time(value: Any) -> str:
    """``Time.Format(time.RFC1123Z)`` in the local zone; Go's zero time when absent."""
    when = parse_time(value)
    if when is None:
        return "Mon, 01 Jan 0001 00:00:00 +0000"
    return when.astimezone().strftime("%a, %d %b %Y %H:%M:%S %z")


def go_value(value: Any) -> str:
    """Go's ``%v`` of a JSON value: ``<nil>``, ``true``, ``[a b]``, ``map[k:v]``."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if not value.is_integer() or abs(value) >= 1e21 else f"{value:.0f}"
    if isinstance(value, list):
        return "[" + " ".join(go_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_value(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def or_none(value: str) -> str:
    return value or "<none>"


def labels_multiline(w: DescribeWriter, title: str, labels: Any, indent: str = "") -> None:
    """``Labels:  a=b`` and each further label alone on a line under the first."""
    w.write(0, f"{indent}{title}:\t")
    keys = sorted(labels) if isinstance(labels, dict) else []
    if not keys:
        w.line("<none>")
        return
    for i, key in enumerate(keys):
        if i:
            w.write(0, f"{indent}\t")
        w.write(0, f"{key}={labels[key]}\n")


def annotations_multiline(w: DescribeWriter, title: str, annotations: Any) -> None:
    """Like labels, but ``key: value``; long or multi-line values go on lines of their own."""
    w.write(0, f"{title}:\t")
    found = annotations if isinstance(annotations, dict) else {}
    keys = sorted(key for key in found if key != _LAST_APPLIED)
    if not keys:
        w.line("<none>")
        return
    for i, key in enumerate(keys):
        if i:
            w.write(0, "\t")
        value = str(found[key]).removesuffix("\n")
        if len(value) + len(key) + 2 > _MAX_ANNOTATION or "\n" in value:
            w.write(0, f"{key}:\n")
            for part in value.split("\n"):
                short = part if len(part) <= _MAX_ANNOTATION - 2 else part[:138] + "..."
                w.write(0, f"\t  {short}\n")
        else:
            w.write(0, f"{key}: {value}\n")


def tolerations_multiline(w: DescribeWriter, title: str, tolerations: Any) -> None:
    """``key=value:Effect op=Exists for 300s``, one toleration a line, sorted by key."""
    w.write(0, f"{title}:\t")
    found = [t for t in tolerations if isinstance(t, dict)] if isinstance(tolerations, list) else []
    if not found:
        w.line("<none>")
        return
    for i, toleration in enumerate(sorted(found, key=lambda t: text(t, "key"))):
        if i:
            w.write(0, "\t")
        key, value, effect = text(toleration, "key"), text(toleration, "value"), ""
        entry = key + (f"={value}" if value else "")
        if text(toleration, "effect"):
            effect = f":{text(toleration, 'effect')}"
        entry += effect
        if text(toleration, "operator") == "Exists" and not value:
            entry += " op=Exists" if key or effect else "op=Exists"
        seconds = dig(toleration, "tolerationSeconds")
        if isinstance(seconds, int):
            entry += f" for {seconds}s"
        w.write(0, entry + "\n")


def new_description(
    meta: dict[str, Any], *fields: tuple[str, Any], namespaced: bool = True
) -> DescribeWriter:
    """A description begun as most kinds begin theirs: ``Name``, ``Namespace`` (unless the
    kind is not ``namespaced``, or kubectl leaves it out), the kind's own ``(label, value)``
    ``fields`` that kubectl puts before the labels, then ``Labels`` and ``Annotations``."""
    w = DescribeWriter()
    w.write(0, f"Name:\t{text(meta, 'name')}\n")
    if namespaced:
        w.write(0, f"Namespace:\t{text(meta, 'namespace')}\n")
    for label, value in fields:
        w.write(0, f"{label}:\t{value}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    return w


def controlled_by(w: DescribeWriter, obj: Object) -> None:
    """``Controlled By:  Kind/name`` of the owner reference marked ``controller``, if any."""
    for ref in dig(obj, "metadata", "ownerReferences", default=[]):
        if isinstance(ref, dict) and ref.get("controller") is True:
            w.write(0, f"Controlled By:\t{text(ref, 'kind')}/{text(ref, 'name')}\n")
            return


# ----------------------------------------------------------------------------------- events


async def fetch_events(
    session: Session, obj: Object, kind: str | None, uid: str = "", wanted: bool = True
) -> list[Object] | None:
    """The events about ``obj``, asked for as kubectl asks (``kind`` None leaves the kind out
    of the selector, as kubectl does for pods); an error means no events, as in kubectl.
    None when not ``wanted``."""
    if not wanted:
        return None
    meta = obj.get("metadata") or {}
    namespace = str(meta.get("namespace") or "")
    terms = [f"involvedObject.name={meta.get('name', '')}"]
    terms.append(f"involvedObject.namespace={namespace}")
    if kind:
        terms.append(f"involvedObject.kind={kind}")
    uid = uid or str(meta.get("uid") or "")
    if uid:
        terms.append(f"involvedObject.uid={uid}")
    try:
        return await session.list_all(
            EVENTS.path(namespace or None), {"fieldSelector": ",".join(terms)}
        )
    except ApiError:  # kubectl ignores a failed event search
        return []


def _event_time(event: Object) -> datetime:
    for value in (
        dig(event, "series", "lastObservedTime"),
        dig(event, "lastTimestamp"),
        dig(event, "eventTime"),
    ):
        when = parse_time(value)
        if when is not None:
            return when
    return datetime.min.replace(tzinfo=current_time().tzinfo)


def describe_events(w: DescribeWriter, events: list[Object] | None) -> None:
    """The ``Events:`` table, oldest first, with ``Age`` as kubectl computes it; nothing at
    all when events were not asked for (None)."""
    if events is None:
        return
    if not events:
        w.write(0, "Events:\t<none>\n")
        return
    w.flush()
    w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
    w.write(1, "----\t------\t----\t----\t-------\n")
    for event in sorted(events, key=_event_time):
        first = parse_time(event.get("eventTime"))
        first_seen = since(first) if first else since(event.get("firstTimestamp"))
        count = event["count"] if isinstance(event.get("count"), int) else 0
        series = event.get("series")
        if isinstance(series, dict):
            last = since(series.get("lastObservedTime"))
            interval = f"{last} (x{series.get('count', 0)} over {first_seen})"
        elif count > 1:
            interval = f"{since(event.get('lastTimestamp'))} (x{count} over {first_seen})"
        else:
            interval = first_seen
        source = text(event, "source", "component") or text(event, "reportingComponent")
        message = text(event, "message").strip()
        w.write(
            1, f"{text(event, 'type')}\t{text(event, 'reason')}\t{interval}\t{source}\t{message}\n"
        )
