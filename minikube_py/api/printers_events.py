"""Printer columns of events, in both of their API shapes.

An event is stored once and served twice: as ``v1`` ``Event`` (``involvedObject``, ``message``,
``firstTimestamp``/``lastTimestamp``/``count``) and as ``events.k8s.io/v1`` ``Event``
(``regarding``, ``note``, ``deprecated*`` fields, ``series``). Upstream prints both from the
one internal type, so ``kubectl get events`` and ``kubectl get events.events.k8s.io`` show the
same LAST SEEN / TYPE / REASON / OBJECT / MESSAGE. Here the newer shape is mapped onto the
older one and printed by the same cells.

LAST SEEN follows upstream's fallbacks: the series' last observation for a repeating event,
else ``lastTimestamp``, else ``firstTimestamp``, else the micro-precision ``eventTime``.
"""

from __future__ import annotations

from minikube_py.api.printers import Obj, dig, integer, parse_time, since, text
from minikube_py.api.resources import CellFunction, Column


def _first_seen(ev: Obj) -> str:
    if parse_time(dig(ev, "firstTimestamp")) is None:
        return since(dig(ev, "eventTime"))
    return since(dig(ev, "firstTimestamp"))


def _last_seen(ev: Obj) -> str:
    if dig(ev, "series") is not None:
        return since(dig(ev, "series", "lastObservedTime"))
    if parse_time(dig(ev, "lastTimestamp")) is None:
        return _first_seen(ev)
    return since(dig(ev, "lastTimestamp"))


def _count(ev: Obj) -> int:
    if dig(ev, "series") is not None:
        return integer(ev, "series", "count")
    # Singleton events of the newer API carry no count.
    return integer(ev, "count") or 1


def _target(ev: Obj) -> str:
    kind = text(ev, "involvedObject", "kind").lower()
    obj_name = text(ev, "involvedObject", "name")
    return f"{kind}/{obj_name}" if obj_name else kind


def _source(ev: Obj) -> str:
    component = text(ev, "source", "component") or text(ev, "reportingController")
    instance = text(ev, "source", "host") or text(ev, "reportingInstance")
    return f"{component}, {instance}" if instance else component


def as_core_event(ev: Obj) -> Obj:
    """An ``events.k8s.io/v1`` event seen through the field names of a ``v1`` event."""
    return {
        "metadata": dig(ev, "metadata", default={}),
        "involvedObject": dig(ev, "regarding", default={}),
        "type": dig(ev, "type"),
        "reason": dig(ev, "reason"),
        "message": dig(ev, "note"),
        "source": dig(ev, "deprecatedSource", default={}),
        "firstTimestamp": dig(ev, "deprecatedFirstTimestamp"),
        "lastTimestamp": dig(ev, "deprecatedLastTimestamp"),
        "count": dig(ev, "deprecatedCount"),
        "eventTime": dig(ev, "eventTime"),
        "series": dig(ev, "series"),
        "reportingController": dig(ev, "reportingController"),
        "reportingInstance": dig(ev, "reportingInstance"),
    }


def _event_columns(view: CellFunction) -> tuple[Column, ...]:
    """The columns of ``printEvent``, each reading the event through ``view``."""

    def on(cell: CellFunction) -> CellFunction:
        return lambda ev: cell(view(ev))

    return (
        Column(
            "Last Seen",
            description="The time at which the most recent occurrence of this event was recorded.",
            cell=on(_last_seen),
        ),
        Column(
            "Type",
            description="Type of this event (Normal, Warning).",
            cell=on(lambda ev: text(ev, "type")),
        ),
        Column(
            "Reason",
            description="This should be a short, machine understandable string "
            "that gives the reason for the transition into the object's current status.",
            cell=on(lambda ev: text(ev, "reason")),
        ),
        Column("Object", description="The object that this event is about.", cell=on(_target)),
        Column(
            "Subobject",
            priority=1,
            description="The field of the object this event is about.",
            cell=on(lambda ev: text(ev, "involvedObject", "fieldPath")),
        ),
        Column(
            "Source",
            priority=1,
            description="The component reporting this event.",
            cell=on(_source),
        ),
        Column(
            "Message",
            description="A human-readable description of the status of this operation.",
            cell=on(lambda ev: text(ev, "message").strip()),
        ),
        Column(
            "First Seen",
            priority=1,
            description="The time at which the event was first recorded.",
            cell=on(_first_seen),
        ),
        Column(
            "Count",
            priority=1,
            description="The number of times this event has occurred.",
            cell=on(_count),
        ),
        Column(
            "Name",
            priority=1,
            format="name",
            description="Name of the event.",
            cell=on(lambda ev: text(ev, "metadata", "name")),
        ),
    )


EVENT_COLUMNS = _event_columns(lambda ev: ev)
EVENTS_V1_COLUMNS = _event_columns(as_core_event)
