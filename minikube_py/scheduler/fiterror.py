"""FitError: why no node fits a pod, in the words ``kubectl describe pod`` shows.

When a scheduling cycle finds no feasible node, upstream builds one sentence from everything
the filters said: ``0/3 nodes are available:`` and then a histogram of reasons, each
"<count> <reason>", sorted *as strings* (so "10 …" comes before "2 …") and joined by ", ". A
node that failed for several reasons at once (``Insufficient cpu`` and ``Insufficient memory``)
counts in each. If a PreFilter turned the pod away before any node was looked at, its message
stands instead of the histogram. Each part ends with "." (upstream's ``" %v."`` separator).

The PostFilter (preemption) then appends its own verdict with the same separator, and that
verdict is itself such a sentence ending in "." — hence the ".." real clusters print::

    0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available:
    3 No preemption victims found for incoming pod..

With no nodes at all the message is upstream's ``no nodes available to schedule pods``.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .framework import Status

Object = dict[str, Any]


def histogram_message(num_nodes: int, statuses: dict[str, Status], pre_filter_msg: str) -> str:
    """Upstream's ``FitError`` text without the PostFilter part: ``0/N nodes are available:``
    then the PreFilter's message, or every "<count> <reason>" sorted as strings."""
    text = f"0/{num_nodes} nodes are available:"
    if pre_filter_msg:
        return f"{text} {pre_filter_msg}."
    counts: Counter[str] = Counter()
    for status in statuses.values():
        counts.update(status.reasons)
    parts = sorted(f"{count} {reason}" for reason, count in counts.items())
    return f"{text} {', '.join(parts)}." if parts else text


class FitError(Exception):
    """No node fits; ``str()`` is upstream's aggregated ``FailedScheduling`` message."""

    def __init__(
        self,
        pod: Object,
        num_nodes: int,
        statuses: dict[str, Status],
        *,
        pre_filter_msg: str = "",
        post_filter_msg: str = "",
    ) -> None:
        self.pod = pod
        self.num_nodes = num_nodes
        self.statuses = statuses  # node name → the filter status that rejected it
        self.pre_filter_msg = pre_filter_msg
        self.post_filter_msg = post_filter_msg
        super().__init__(self.message())

    def message(self) -> str:
        if self.num_nodes == 0:  # upstream's ErrNoNodesAvailable
            return "no nodes available to schedule pods"
        text = histogram_message(self.num_nodes, self.statuses, self.pre_filter_msg)
        if self.post_filter_msg:
            text += f" {self.post_filter_msg}."
        return text
