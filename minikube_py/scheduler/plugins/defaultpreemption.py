"""DefaultPreemption: when no node fits, could evicting lower-priority pods make room?

Upstream's PostFilter plugin answers in three steps, and its answer is the second half of every
``FailedScheduling`` message (``… preemption: 0/3 nodes are available: …``):

1. A pod with ``preemptionPolicy: Never`` may not preempt: "not eligible due to
   preemptionPolicy=Never."
2. Nodes that failed for an *unresolvable* reason (a taint, a label, a cordon) cannot be helped
   by evicting anything: "Preemption is not helpful for scheduling".
3. On the other nodes (resources, host ports) the candidate victims are the pods of lower
   priority. None there: "No preemption victims found for incoming pod". Otherwise the filters
   run again as if those pods were gone; if the pod still does not fit, that node keeps the
   filter's reasons.

Those per-node answers form a second ``FitError``-style histogram. When some node *would* fit
after evictions, upstream goes on to evict the fewest victims and nominate the node, and says
nothing more in the event. This scheduler does not evict yet (it logs that preemption would
have helped), so it also says nothing more; the pod is retried when the cluster changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from minikube_py.logs import get_logger

from ..framework import (
    Code,
    CycleState,
    NodeInfo,
    Object,
    Profile,
    Status,
    histogram_message,
    run_filters,
    unschedulable,
)

NAME = "DefaultPreemption"
NOT_ELIGIBLE = "not eligible due to preemptionPolicy=Never."
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
_log = get_logger("scheduler")


def priority(pod: Object) -> int:
    return int((pod.get("spec") or {}).get("priority") or 0)


class DefaultPreemption:
    name = NAME

    def post_filter(
        self,
        state: CycleState,
        pod: Object,
        profile: Profile,
        nodes: Sequence[NodeInfo],
        statuses: dict[str, Status],
    ) -> str:
        if (pod.get("spec") or {}).get("preemptionPolicy") == "Never":
            return f"preemption: {NOT_ELIGIBLE}"
        own = priority(pod)
        helped: list[str] = []
        outcome: dict[str, Status] = {}
        for node in nodes:
            status = statuses.get(node.name)
            if status is None or status.code is not Code.UNSCHEDULABLE:
                outcome[node.name] = unschedulable(NAME, NOT_HELPFUL, unresolvable=True)
                continue
            victims = [key for key, p in node.pods.items() if priority(p) < own]
            if not victims:
                outcome[node.name] = unschedulable(NAME, NO_VICTIMS, unresolvable=True)
                continue
            # A fresh state: the filters' per-cycle caches must not leak into the dry run.
            again = run_filters(profile.filters, CycleState(), pod, node.without(victims))
            if again.ok:
                helped.append(node.name)
            else:
                outcome[node.name] = again
        if helped:
            _log.info(
                "preemption would help but is not implemented; the pod waits",
                pod=f"{(pod['metadata']).get('namespace')}/{pod['metadata']['name']}",
                nodes=helped,
            )
            return ""
        return f"preemption: {histogram_message(len(nodes), outcome, '')}"
