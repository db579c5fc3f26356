"""Which nodes a DaemonSet's pod belongs on, and how its pod is pinned to one node.

A DaemonSet wants one pod on every *eligible* node. A node is eligible (upstream's
``NodeShouldRunDaemonPod``) when the pod template

- names no other node in ``spec.nodeName``,
- matches the node's labels with its ``nodeSelector`` and its *required* node affinity,
- tolerates the node's ``NoSchedule`` and ``NoExecute`` taints.

The answer has two halves: *should run* (make a pod here) and *should continue running* (keep
an existing pod). A node whose only untolerated taints are ``NoSchedule`` gets no new pod but
keeps the one it has — the same rule the scheduler and the taint eviction follow.

Every daemon pod tolerates, on top of its template's tolerations, the taints the node
lifecycle controller puts on troubled nodes (upstream's ``AddOrUpdateDaemonPodTolerations``):
a node agent such as a log shipper must stay on a node that is not ready, unreachable, short of
disk, memory or pids, or cordoned; with ``hostNetwork`` also one whose network is not set up.

The controller makes a pod for one node by giving it a required node affinity on the field
``metadata.name`` and leaves the binding to the scheduler, as upstream does since 1.12: the
scheduler then accounts for the pod's resources and preemption like for any other pod.
"""

from __future__ import annotations

import copy
from typing import Any

Object = dict[str, Any]

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
PID_PRESSURE = "node.kubernetes.io/pid-pressure"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"
_HARD_EFFECTS = ("NoSchedule", "NoExecute")


def tolerates(toleration: Object, taint: Object) -> bool:
    """Upstream's ``ToleratesTaint``: an empty effect matches every effect, an empty key with
    ``Exists`` every taint, ``Exists`` any value, ``Equal`` (the default) the same value."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    return operator == "Equal" and (toleration.get("value") or "") == (taint.get("value") or "")


def untolerated(
    taints: list[Object], tolerations: list[Object], effects: tuple[str, ...]
) -> list[Object]:
    """The taints with one of ``effects`` that no toleration tolerates."""
    return [
        taint
        for taint in taints
        if taint.get("effect") in effects and not any(tolerates(t, taint) for t in tolerations)
    ]


def daemon_tolerations(spec: Object) -> list[Object]:
    """The pod spec's tolerations plus those every daemon pod gets, each added only if the
    spec lacks a toleration with the same key and effect (a user's own one wins)."""
    tolerations = [dict(t) for t in spec.get("tolerations") or []]
    extra = [(NOT_READY, "NoExecute"), (UNREACHABLE, "NoExecute")]
    extra += [(key, "NoSchedule") for key in (DISK_PRESSURE, MEMORY_PRESSURE, PID_PRESSURE)]
    extra.append((UNSCHEDULABLE, "NoSchedule"))
    if spec.get("hostNetwork"):
        extra.append((NETWORK_UNAVAILABLE, "NoSchedule"))
    for key, effect in extra:
        if not any(t.get("key") == key and t.get("effect") == effect for t in tolerations):
            tolerations.append({"key": key, "operator": "Exists", "effect": effect})
    return tolerations


def _expression_matches(expression: Object, value: str | None) -> bool:
    operator = expression.get("operator")
    values = [str(v) for v in expression.get("values") or []]
    if operator == "In":
        return value is not None and value in values
    if operator == "NotIn":
        return value is None or value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    if operator in ("Gt", "Lt") and value is not None and len(values) == 1:
        try:
            number, bound = int(value), int(values[0])
        except ValueError:
            return False
        return number > bound if operator == "Gt" else number < bound
    return False


def _term_matches(term: Object, labels: dict[str, str], name: str) -> bool:
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False  # an empty term matches nothing, as upstream
    fields_ok = all(
        f.get("key") == "metadata.name" and _expression_matches(f, name) for f in fields
    )
    return fields_ok and all(
        _expression_matches(e, labels.get(e.get("key", ""))) for e in expressions
    )


def fits_node_affinity(spec: Object, node: Object) -> bool:
    """``nodeSelector`` and required node affinity (terms ORed, requirements ANDed)."""
    meta = node.get("metadata") or {}
    labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    affinity = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if not required:
        return True
    terms = required.get("nodeSelectorTerms") or []
    return any(_term_matches(term, labels, str(meta.get("name") or "")) for term in terms)


def should_run(ds: Object, node: Object) -> tuple[bool, bool]:
    """(should a pod be made on ``node``, should an existing one stay there)."""
    spec = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
    node_name = (node.get("metadata") or {}).get("name")
    if spec.get("nodeName") and spec["nodeName"] != node_name:
        return False, False
    if not fits_node_affinity(spec, node):
        return False, False
    taints = list((node.get("spec") or {}).get("taints") or [])
    tolerations = daemon_tolerations(spec)
    if not untolerated(taints, tolerations, _HARD_EFFECTS):
        return True, True
    return False, not untolerated(taints, tolerations, ("NoExecute",))


def pin_to_node(affinity: Object | None, node_name: str) -> Object:
    """``affinity`` with its required node affinity replaced by the one term
    ``metadata.name In [node_name]`` (upstream's ReplaceDaemonSetPodNodeNameNodeAffinity: the
    other terms were already checked by the controller, and an ORed term could send the pod
    elsewhere)."""
    result = copy.deepcopy(affinity) if affinity else {}
    node_affinity = result.setdefault("nodeAffinity", {})
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node_name]}]}
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [term]}
    return result


def target_node(pod: Object) -> str | None:
    """The node a daemon pod is for: its ``nodeName`` once bound, else the node its
    ``metadata.name`` affinity names (upstream's GetTargetNodeName)."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    for term in required.get("nodeSelectorTerms") or []:
        for field in term.get("matchFields") or []:
            values = field.get("values") or []
            by_name = field.get("key") == "metadata.name" and field.get("operator") == "In"
            if by_name and len(values) == 1:
                return str(values[0])
    return None
