"""Default toleration seconds: how long a pod stays on a node that stopped answering.

When a node's kubelet stops posting its status, the node lifecycle controller taints the node
``node.kubernetes.io/unreachable:NoExecute`` (or ``not-ready:NoExecute`` when the kubelet says
it is not ready), and the taint eviction controller deletes the pods that do not tolerate the
taint. Deleting every pod the moment a node blinks would be rash, so upstream's
``DefaultTolerationSeconds`` admission plugin gives every new pod two tolerations of 300 s
(``--default-not-ready-toleration-seconds`` / ``--default-unreachable-toleration-seconds``)
unless it already tolerates those taints: a node may be gone for five minutes before its pods
are replaced elsewhere. A pod that wants another delay says so in its own tolerations.
"""

from __future__ import annotations

from typing import Any

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
DEFAULT_SECONDS = 300


def _tolerates(tolerations: list[Any], key: str) -> bool:
    """Whether some toleration already covers ``key``'s NoExecute taint (an empty key or an
    empty effect matches every key or effect, as upstream checks it)."""
    return any(
        isinstance(t, dict)
        and t.get("key", "") in (key, "")
        and t.get("effect", "") in ("NoExecute", "")
        for t in tolerations
    )


def add_default_tolerations(pod: dict[str, Any], seconds: int = DEFAULT_SECONDS) -> None:
    """Append the not-ready and unreachable tolerations the pod lacks (on create and on
    update of the pod itself, not its subresources, as upstream)."""
    spec = pod.setdefault("spec", {})
    tolerations = spec.get("tolerations") or []
    added = [
        {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": seconds}
        for key in (NOT_READY, UNREACHABLE)
        if not _tolerates(tolerations, key)
    ]
    if added:
        spec["tolerations"] = [*tolerations, *added]
