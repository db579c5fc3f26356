"""TaintToleration: a node's taints repel pods that do not tolerate them.

A taint is ``key=value:effect``. ``NoSchedule`` and ``NoExecute`` taints are hard: a pod
lacking a matching toleration is filtered out, and the reason names the first such taint as
upstream does (``node(s) had untolerated taint {dedicated: gpu}``). ``PreferNoSchedule`` is
soft: the score counts untolerated ones and normalizes reversed, so fewer is better.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..framework import (
    SUCCESS,
    CycleState,
    NodeInfo,
    Object,
    Status,
    normalize_to_max,
    unschedulable,
)
from ..resources import tolerates

NAME = "TaintToleration"
_SOFT_KEY = "TaintToleration.softTolerations"


def _tolerations(pod: Object) -> list[Object]:
    return list((pod.get("spec") or {}).get("tolerations") or [])


class TaintToleration:
    name = NAME

    def filter_nodes(
        self, state: CycleState, pod: Object, nodes: Sequence[NodeInfo]
    ) -> dict[int, Status]:
        return {
            index: status
            for index, node in enumerate(nodes)
            if node.hard_taints and not (status := self.filter(state, pod, node)).ok
        }

    def filter(self, state: CycleState, pod: Object, node: NodeInfo) -> Status:
        if not node.hard_taints:  # most nodes: nothing to tolerate
            return SUCCESS
        tolerations = _tolerations(pod)
        for taint in node.hard_taints:
            if not any(tolerates(t, taint) for t in tolerations):
                reason = (
                    f"node(s) had untolerated taint {{{taint.get('key', '')}: "
                    f"{taint.get('value', '')}}}"
                )
                return unschedulable(NAME, reason, unresolvable=True)
        return SUCCESS

    def pre_score(self, state: CycleState, pod: Object) -> bool:
        # Only tolerations that could apply to PreferNoSchedule count, as upstream filters.
        state.data[_SOFT_KEY] = [
            t for t in _tolerations(pod) if (t.get("effect") or "") in ("", "PreferNoSchedule")
        ]
        return True

    def score_nodes(self, state: CycleState, pod: Object, nodes: Sequence[NodeInfo]) -> list[int]:
        return [self.score(state, pod, n) if n.soft_taints else 0 for n in nodes]

    def score(self, state: CycleState, pod: Object, node: NodeInfo) -> int:
        taints = node.soft_taints
        if not taints:
            return 0
        if _SOFT_KEY not in state.data:
            self.pre_score(state, pod)
        soft: list[Object] = state.data[_SOFT_KEY]
        return sum(1 for taint in taints if not any(tolerates(t, taint) for t in soft))

    def normalize(self, state: CycleState, pod: Object, scores: dict[str, int]) -> None:
        normalize_to_max(scores, reverse=True)
