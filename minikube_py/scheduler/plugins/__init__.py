"""Scheduler plugins, one a module, named and worded as kube-scheduler's in-tree plugins.

``default_profile()`` assembles them as upstream's default profile does: the filters in
upstream's order, the scorers with upstream's default weights, and DefaultPreemption as the
PostFilter that explains whether evicting pods could help.
"""

from __future__ import annotations

from minikube_py.client import Client

from ..framework import Profile
from .defaultpreemption import DefaultPreemption
from .nodeaffinity import NodeAffinity
from .nodename import NodeName
from .nodeports import NodePorts
from .noderesources import BalancedAllocation, NodeResourcesFit
from .nodeunschedulable import NodeUnschedulable
from .selectorspread import SelectorSpread
from .tainttoleration import TaintToleration
from .volumebinding import VolumeBinding


def default_profile(client: Client | None = None) -> Profile:
    """Upstream's default plugins; VolumeBinding too when there is a ``client`` to read
    claims and volumes with (framework tests schedule plain dicts without one)."""
    affinity = NodeAffinity()
    taints = TaintToleration()
    fit = NodeResourcesFit()
    volumes = [VolumeBinding(client)] if client is not None else []
    return Profile(
        filters=[NodeUnschedulable(), NodeName(), taints, affinity, NodePorts(), fit, *volumes],
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
    "VolumeBinding",
    "default_profile",
]
