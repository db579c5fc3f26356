"""SelectorSpread: spread the pods of one owner (a ReplicaSet, a StatefulSet …) over nodes.

Three replicas on three nodes survive a node failure; three on one node do not. The score
counts, per node, the pods that share the incoming pod's controller (its ``ownerReferences``
entry with ``controller: true``) and normalizes reversed, so the node with the fewest gets 100.
Upstream scored this in SelectorSpread until 1.26 and now in PodTopologySpread's default
constraints (by hostname and zone); this plugin keeps the older, simpler hostname-only rule,
which ``NodeInfo.owners`` answers with one dictionary lookup per node.
"""

from __future__ import annotations

from ..framework import CycleState, NodeInfo, Object, normalize_to_max
from ..resources import owner_uid

NAME = "SelectorSpread"


class SelectorSpread:
    name = NAME

    def pre_score(self, state: CycleState, pod: Object) -> bool:
        return bool(owner_uid(pod))

    def score(self, state: CycleState, pod: Object, node: NodeInfo) -> int:
        uid = owner_uid(pod)
        return node.owners.get(uid, 0) if uid else 0

    def normalize(self, state: CycleState, pod: Object, scores: dict[str, int]) -> None:
        normalize_to_max(scores, reverse=True)
