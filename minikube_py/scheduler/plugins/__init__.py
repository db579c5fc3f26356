"""Scheduler plugins, one a module, named and worded as kube-scheduler's in-tree plugins.

``default_profile()`` assembles them as upstream's default profile does: the filters in
upstream's order, the scorers with upstream's default weights, and DefaultPreemption as the
PostFilter that explains whether evicting pods could help.
"""

from __future__ import annotations

from ..framework import Profile
from .defaultpreemption import DefaultPreemption
from .nodeaffinity import NodeAffinity
from .nodename import NodeName
from .nodeports import NodePorts
from .noderesources import BalancedAllocation, NodeResourcesFit
from .nodeunschedulable import NodeUnschedulable
from .selectorspread import SelectorSpread
from .tainttoleration import TaintToleration


def default_profile() -> Profile:
    affinity = NodeAffinity()
    taints = TaintToleration()
    fit = NodeResourcesFit()
    return Profile(
        filters=[NodeUnschedulable(), NodeName(), taints, affinity, NodePorts(), fit],
        scores=[
            (taints, 3),
            (affinity, 2),
            (fit, 1),
            (BalancedAllocation(), 1),
            (SelectorSpread(), 2),
        ],
        post_filters=[DefaultPreemption()],
    )


__all__ = [
    "BalancedAllocation",
    "DefaultPreemption",
    "NodeAffinity",
    "NodeName",
    "NodePorts",
    "NodeResourcesFit",
    "NodeUnschedulable",
    "SelectorSpread",
    "TaintToleration",
    "default_profile",
]
