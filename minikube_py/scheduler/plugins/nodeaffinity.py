"""NodeAffinity: ``nodeSelector`` and node affinity decide which nodes a pod may (or prefers
to) run on, by the nodes' labels.

``spec.nodeSelector`` requires every listed label to match exactly. Required node affinity is
a list of *terms* ORed together; each term's ``matchExpressions`` (on labels) and
``matchFields`` (only ``metadata.name``) are ANDed. Operators: In, NotIn, Exists, DoesNotExist,
Gt, Lt (integers). The preferred terms add their weights to a node's score, normalized so the
best node gets 100. A pod with neither a nodeSelector nor required affinity skips the filter
(upstream's PreFilter Skip), and one without preferred terms sits scoring out.
"""

from __future__ import annotations

from typing import Any

from ..framework import (
    SKIP,
    SUCCESS,
    CycleState,
    NodeInfo,
    Object,
    Status,
    normalize_to_max,
    unschedulable,
)

NAME = "NodeAffinity"
REASON = "node(s) didn't match Pod's node affinity/selector"


def _requirement(expr: Object, values: dict[str, str]) -> bool:
    key, operator = expr.get("key", ""), expr.get("operator", "")
    wanted: list[Any] = expr.get("values") or []
    present = key in values
    if operator == "In":
        return present and values[key] in wanted
    if operator == "NotIn":
        return not present or values[key] not in wanted
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt") and present and len(wanted) == 1:
        try:
            have, bound = int(values[key]), int(wanted[0])
        except ValueError:
            return False
        return have > bound if operator == "Gt" else have < bound
    return False


def term_matches(term: Object, node: NodeInfo) -> bool:
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False  # upstream: an empty term matches no objects
    labels = node.labels
    node_fields = {"metadata.name": node.name}
    return all(_requirement(e, labels) for e in exprs) and all(
        _requirement(f, node_fields) for f in fields
    )


def _affinity(pod: Object) -> Object:
    return ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}


class NodeAffinity:
    name = NAME

    def pre_filter(self, state: CycleState, pod: Object) -> Status:
        selector = (pod.get("spec") or {}).get("nodeSelector")
        required = _affinity(pod).get("requiredDuringSchedulingIgnoredDuringExecution")
        return SUCCESS if selector or required is not None else SKIP

    def filter(self, state: CycleState, pod: Object, node: NodeInfo) -> Status:
        selector = (pod.get("spec") or {}).get("nodeSelector") or {}
        labels = node.labels
        if any(labels.get(k) != v for k, v in selector.items()):
            return unschedulable(NAME, REASON, unresolvable=True)
        required = _affinity(pod).get("requiredDuringSchedulingIgnoredDuringExecution")
        if required is not None:
            terms = required.get("nodeSelectorTerms") or []
            if not any(term_matches(t, node) for t in terms):
                return unschedulable(NAME, REASON, unresolvable=True)
        return SUCCESS

    def pre_score(self, state: CycleState, pod: Object) -> bool:
        return bool(_affinity(pod).get("preferredDuringSchedulingIgnoredDuringExecution"))

    def score(self, state: CycleState, pod: Object, node: NodeInfo) -> int:
        preferred = _affinity(pod).get("preferredDuringSchedulingIgnoredDuringExecution") or []
        return sum(
            int(p.get("weight") or 0)
            for p in preferred
            if term_matches(p.get("preference") or {}, node)
        )

    def normalize(self, state: CycleState, pod: Object, scores: dict[str, int]) -> None:
        normalize_to_max(scores, reverse=False)
