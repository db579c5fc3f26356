"""Versions of one kind that share one storage: converting between what is served and stored.

Some kinds are served in two API versions over the same objects. Upstream keeps one *storage
version* and converts on every read and write, so an object created through one version is
seen, converted, through the other:

- ``autoscaling/v1`` and ``autoscaling/v2`` HorizontalPodAutoscalers are stored as ``v2``.
  ``v1`` only knows a CPU target (``targetCPUUtilizationPercentage``); what it cannot express
  (other metrics, ``behavior``) travels in annotations, as upstream does, so a round trip
  through ``v1`` loses nothing.
- ``events.k8s.io/v1`` Events are core ``v1`` Events: the same fields under other names
  (``regarding`` is ``involvedObject``, ``note`` is ``message``, …).
- Custom resources are stored in their CRD's storage version; with conversion strategy
  ``None`` the versions differ only in ``apiVersion``. Reads also fill in schema defaults.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from minikube_py.api.customresources import CustomResourceType
from minikube_py.api.resources import ResourceType
from minikube_py.api.structural import apply_defaults

Object = dict[str, Any]
GVK = tuple[str, str, str]

# served (group, version, kind) -> stored (group, version, kind, plural)
STORED_AS: dict[GVK, tuple[str, str, str, str]] = {
    ("autoscaling", "v1", "HorizontalPodAutoscaler"): (
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
    ),
    ("events.k8s.io", "v1", "Event"): ("", "v1", "Event", "events"),
}
_METRICS = "autoscaling.alpha.kubernetes.io/metrics"
_BEHAVIOR = "autoscaling.alpha.kubernetes.io/behavior"
# core v1 Event field -> events.k8s.io/v1 Event field
_EVENT_FIELDS = {
    "involvedObject": "regarding",
    "message": "note",
    "reportingComponent": "reportingController",
    "source": "deprecatedSource",
    "firstTimestamp": "deprecatedFirstTimestamp",
    "lastTimestamp": "deprecatedLastTimestamp",
    "count": "deprecatedCount",
}


def storage_location(rt: ResourceType) -> tuple[str, str]:
    """The (group, plural) whose keys hold ``rt``'s objects."""
    stored = STORED_AS.get((rt.group, rt.version, rt.kind))
    return (stored[0], stored[3]) if stored else (rt.group, rt.plural)


def to_storage(rt: ResourceType, obj: Object) -> Object:
    """``obj`` (in ``rt``'s version) as it is stored."""
    key = (rt.group, rt.version, rt.kind)
    if isinstance(rt, CustomResourceType):  # strategy None: only the apiVersion differs
        return {**obj, "apiVersion": f"{rt.group}/{rt.storage_version}"}
    if key == ("autoscaling", "v1", "HorizontalPodAutoscaler"):
        return _hpa_v1_to_v2(obj)
    if key == ("events.k8s.io", "v1", "Event"):
        return _rename(obj, {new: old for old, new in _EVENT_FIELDS.items()}, "v1")
    return obj


def from_storage(rt: ResourceType, obj: Object) -> Object:
    """A stored object as ``rt``'s version shows it."""
    key = (rt.group, rt.version, rt.kind)
    if isinstance(rt, CustomResourceType):
        obj["apiVersion"] = rt.api_version
        if rt.schema is not None:
            apply_defaults(rt.schema, obj)  # defaults added to a CRD later show on reads
        return obj
    if key == ("autoscaling", "v1", "HorizontalPodAutoscaler"):
        return _hpa_v2_to_v1(obj)
    if key == ("events.k8s.io", "v1", "Event"):
        return _rename(obj, _EVENT_FIELDS, "events.k8s.io/v1")
    return obj


def _rename(obj: Object, names: dict[str, str], api_version: str) -> Object:
    converted = {names.get(k, k): v for k, v in obj.items()}
    converted["apiVersion"] = api_version
    return converted


def _section(obj: Object, name: str) -> dict[str, Any]:
    """``obj[name]`` as a dict to edit (created when absent; a stray non-dict is left alone)."""
    value = obj.setdefault(name, {})
    return value if isinstance(value, dict) else {}


def _is_cpu_utilization(metric: Any) -> bool:
    resource = metric.get("resource") if isinstance(metric, dict) else None
    target = resource.get("target") if isinstance(resource, dict) else None
    return (
        metric.get("type") == "Resource"
        and isinstance(resource, dict)
        and resource.get("name") == "cpu"
        and isinstance(target, dict)
        and target.get("type") == "Utilization"
    )


def _hpa_v2_to_v1(obj: Object) -> Object:
    v1 = copy.deepcopy(obj)
    v1["apiVersion"] = "autoscaling/v1"
    spec = _section(v1, "spec")
    metrics = spec.pop("metrics", None) or []
    behavior = spec.pop("behavior", None)
    others = [m for m in metrics if not _is_cpu_utilization(m)]
    for metric in metrics:
        if _is_cpu_utilization(metric):
            spec["targetCPUUtilizationPercentage"] = metric["resource"]["target"].get(
                "averageUtilization"
            )
    annotations = dict((v1.get("metadata") or {}).get("annotations") or {})
    if others:
        annotations[_METRICS] = json.dumps(others, separators=(",", ":"))
    if behavior is not None:
        annotations[_BEHAVIOR] = json.dumps(behavior, separators=(",", ":"))
    if annotations:
        v1.setdefault("metadata", {})["annotations"] = annotations
    status = v1.get("status") if isinstance(v1.get("status"), dict) else None
    if status is not None:
        for metric in status.pop("currentMetrics", None) or []:
            current = (metric.get("resource") or {}).get("current") or {}
            if (metric.get("resource") or {}).get("name") == "cpu" and current:
                status["currentCPUUtilizationPercentage"] = current.get("averageUtilization")
        status.pop("conditions", None)
    return v1


def _hpa_v1_to_v2(obj: Object) -> Object:
    v2 = copy.deepcopy(obj)
    v2["apiVersion"] = "autoscaling/v2"
    spec = _section(v2, "spec")
    annotations = dict((v2.get("metadata") or {}).get("annotations") or {})
    metrics: list[Any] = []
    target = spec.pop("targetCPUUtilizationPercentage", None)
    if target is not None:
        metrics.append(
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": target},
                },
            }
        )
    for name, field in ((_METRICS, "metrics"), (_BEHAVIOR, "behavior")):
        text = annotations.pop(name, None)
        if text is None:
            continue
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if field == "metrics" and isinstance(value, list):
            metrics.extend(value)
        elif field == "behavior":
            spec["behavior"] = value
    if metrics:
        spec["metrics"] = metrics
    if "metadata" in v2:
        if annotations:
            v2["metadata"]["annotations"] = annotations
        else:
            v2["metadata"].pop("annotations", None)
    status = v2.get("status") if isinstance(v2.get("status"), dict) else None
    if status is not None and "currentCPUUtilizationPercentage" in status:
        value = status.pop("currentCPUUtilizationPercentage")
        status["currentMetrics"] = [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "current": {"averageUtilization": value}},
            }
        ]
    return v2
