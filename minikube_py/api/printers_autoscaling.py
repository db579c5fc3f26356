"""Printer columns of horizontal pod autoscalers and pod disruption budgets.

An autoscaler's TARGETS column pairs each metric's current value with its target —
``cpu: 45%/80%``, ``cpu: <unknown>/80%`` before the first measurement — showing two metrics
and counting the rest, as upstream's ``formatHPAMetrics`` does. ``autoscaling/v1`` objects
keep their one CPU target in ``targetCPUUtilizationPercentage``; they print as the
equivalent ``autoscaling/v2`` resource metric, which is what upstream converts them to.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.printers import AGE, NAME, Obj, dig, integer, items, text
from minikube_py.api.resources import Column


def _quantity(value: Any) -> str:
    # Quantities arrive as JSON strings ("500m") or numbers; Go prints a nil one as "<nil>".
    return "<nil>" if value is None else str(value)


def _current(status: Any, source: str, field: str, *, need_field: bool = False) -> str:
    """The measured value, ``<unknown>`` until the autoscaler has reported one."""
    if dig(status, source) is None or (
        need_field and dig(status, source, "current", field) is None
    ):
        return "<unknown>"
    return _quantity(dig(status, source, "current", field))


def _metric(spec: Any, status: Any) -> str:
    """One entry of upstream's ``formatHPAMetrics``."""
    kind = text(spec, "type")
    if kind in ("External", "Object"):
        source = kind.lower()
        target = dig(spec, source, "target")
        if dig(target, "averageValue") is not None:
            now = _current(status, source, "averageValue", need_field=True)
            return f"{now}/{_quantity(dig(target, 'averageValue'))} (avg)"
        return f"{_current(status, source, 'value')}/{_quantity(dig(target, 'value'))}"
    if kind == "Pods":
        target = _quantity(dig(spec, "pods", "target", "averageValue"))
        return f"{_current(status, 'pods', 'averageValue')}/{target}"
    if kind in ("Resource", "ContainerResource"):
        source = "resource" if kind == "Resource" else "containerResource"
        target = dig(spec, source, "target")
        resource = text(spec, source, "name")
        if dig(target, "averageValue") is not None:
            now = _current(status, source, "averageValue")
            return f"{resource}: {now}/{_quantity(dig(target, 'averageValue'))}"
        now = _current(status, source, "averageUtilization", need_field=True)
        wanted = dig(target, "averageUtilization")
        goal = f"{wanted}%" if wanted is not None else "<auto>"
        return f"{resource}: {now if now == '<unknown>' else now + '%'}/{goal}"
    return "<unknown type>"


def _targets(hpa: Obj) -> str:
    specs, statuses = items(hpa, "spec", "metrics"), items(hpa, "status", "currentMetrics")
    cpu = dig(hpa, "spec", "targetCPUUtilizationPercentage")
    if not specs and cpu is not None:
        target = {"type": "Utilization", "averageUtilization": cpu}
        specs = [{"type": "Resource", "resource": {"name": "cpu", "target": target}}]
        used = dig(hpa, "status", "currentCPUUtilizationPercentage")
        current = {"name": "cpu", "current": {"averageUtilization": used}}
        statuses = [] if used is None else [{"type": "Resource", "resource": current}]
    if not specs:
        return "<none>"
    shown = [
        _metric(spec, statuses[i] if i < len(statuses) else None) for i, spec in enumerate(specs)
    ]
    if len(shown) > 2:
        return f"{', '.join(shown[:2])} + {len(shown) - 2} more..."
    return ", ".join(shown)


def _reference(hpa: Obj) -> str:
    ref = dig(hpa, "spec", "scaleTargetRef")
    return f"{text(ref, 'kind')}/{text(ref, 'name')}"


def _min_pods(hpa: Obj) -> str:
    if dig(hpa, "spec", "minReplicas") is None:
        return "<unset>"
    return str(integer(hpa, "spec", "minReplicas"))


HPA_COLUMNS = (
    NAME,
    Column("Reference", description="reference to scaled resource", cell=_reference),
    Column(
        "Targets",
        description="metrics contains the specifications for which to use to "
        "calculate the desired replica count",
        cell=_targets,
    ),
    Column(
        "MinPods",
        description="minReplicas is the lower limit for the number of replicas "
        "to which the autoscaler can scale down.",
        cell=_min_pods,
    ),
    Column(
        "MaxPods",
        description="maxReplicas is the upper limit for the number of replicas "
        "to which the autoscaler can scale up.",
        cell=lambda h: integer(h, "spec", "maxReplicas"),
    ),
    Column(
        "Replicas",
        description="currentReplicas is current number of replicas of pods "
        "managed by this autoscaler.",
        cell=lambda h: integer(h, "status", "currentReplicas"),
    ),
    AGE,
)
PDB_COLUMNS = (
    NAME,
    Column(
        "Min Available",
        description="The minimum number of pods that must be available.",
        cell=lambda p: text(p, "spec", "minAvailable", default="N/A"),
    ),
    Column(
        "Max Unavailable",
        description="The maximum number of pods that may be unavailable.",
        cell=lambda p: text(p, "spec", "maxUnavailable", default="N/A"),
    ),
    Column(
        "Allowed Disruptions",
        type="integer",
        description="Calculated number of pods that may be disrupted at this time.",
        cell=lambda p: integer(p, "status", "disruptionsAllowed"),
    ),
    AGE,
)
