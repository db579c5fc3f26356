"""What a scheduler plugin is: the extension points it may implement and what it answers.

kube-scheduler's framework calls plugins at named points of a cycle; a plugin implements the
ones it needs, each a small method here (a ``Protocol``, so plugins need no base class):

- **PreFilter** (``pre_filter``): once per pod; may precompute into the ``CycleState``, reject
  the pod outright, or answer ``SKIP`` (this pod asks nothing of the plugin);
- **Filter** (``filter``; ``filter_nodes`` for many nodes in one call): may the pod run on
  this node? A ``Status`` with upstream's reason texts when not;
- **PreScore** (``pre_score``), **Score** (``score``; ``score_nodes`` for all feasible nodes)
  and **NormalizeScore** (``normalize``): how good is each feasible node, 0 to 100;
- **PostFilter** (in ``framework.py``): what to do when no node fits (preemption);
- **PreBind** (``pre_bind``, async): work before the binding is written (VolumeBinding);
  a plugin with its own caches is an ``InformingPlugin`` the scheduler runs beside it.

A ``Status`` code says whether preemption could help: ``UNSCHEDULABLE`` (resources, ports:
evicting pods may make room) or ``UNRESOLVABLE`` (labels, taints, a cordon: it cannot).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from .nodeinfo import NodeInfo

Object = dict[str, Any]


class Code(Enum):
    SUCCESS = "Success"
    UNSCHEDULABLE = "Unschedulable"  # preemption might help (resources, host ports)
    UNRESOLVABLE = "UnschedulableAndUnresolvable"  # preemption cannot help (labels, taints)
    SKIP = "Skip"  # a PreFilter's "nothing to check for this pod"
    ERROR = "Error"


@dataclass(frozen=True)
class Status:
    """A plugin's verdict; ``reasons`` are upstream's exact texts, counted by ``FitError``."""

    code: Code = Code.SUCCESS
    reasons: tuple[str, ...] = ()
    plugin: str = ""

    @property
    def ok(self) -> bool:
        return self.code is Code.SUCCESS

    @property
    def message(self) -> str:
        return ", ".join(self.reasons)


SUCCESS = Status()
SKIP = Status(Code.SKIP)


def unschedulable(plugin: str, *reasons: str, unresolvable: bool = False) -> Status:
    code = Code.UNRESOLVABLE if unresolvable else Code.UNSCHEDULABLE
    return Status(code, reasons, plugin)


@dataclass
class CycleState:
    """Scratch space for one pod's cycle (e.g. its summed requests, computed once)."""

    data: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class PreFilterPlugin(Protocol):
    name: str

    def pre_filter(self, state: CycleState, pod: Object) -> Status: ...


class FilterPlugin(Protocol):
    name: str

    def filter(self, state: CycleState, pod: Object, node: NodeInfo) -> Status: ...


@runtime_checkable
class BatchFilterPlugin(FilterPlugin, Protocol):
    """A filter that judges many nodes in one call: ``{index: status}`` of those that fail,
    the same verdicts as ``filter`` per node (most nodes pass, so most answers are ``{}``)."""

    def filter_nodes(
        self, state: CycleState, pod: Object, nodes: Sequence[NodeInfo]
    ) -> dict[int, Status]: ...


class ScorePlugin(Protocol):
    name: str

    def score(self, state: CycleState, pod: Object, node: NodeInfo) -> int: ...


@runtime_checkable
class BatchScorePlugin(ScorePlugin, Protocol):
    """A scorer that rates all feasible nodes in one call: the same numbers as ``score`` per
    node, without a Python call per node (a cycle scores hundreds)."""

    def score_nodes(
        self, state: CycleState, pod: Object, nodes: Sequence[NodeInfo]
    ) -> list[int]: ...


@runtime_checkable
class NormalizingScorePlugin(ScorePlugin, Protocol):
    def normalize(self, state: CycleState, pod: Object, scores: dict[str, int]) -> None: ...


@runtime_checkable
class PreScorePlugin(Protocol):
    def pre_score(self, state: CycleState, pod: Object) -> bool:
        """False: nothing to score for this pod (upstream's Skip), so the plugin sits out."""
        ...


@runtime_checkable
class PreBindPlugin(Protocol):
    """Runs after a node is chosen and before the pod is bound to it (upstream's PreBind):
    may do I/O (write a claim's selected node, wait for its volume) and raises to refuse;
    the scheduler then reports ``running PreBind plugin "<name>": <error>`` and retries."""

    name: str

    async def pre_bind(self, pod: Object, node: NodeInfo) -> None: ...


@runtime_checkable
class InformingPlugin(Protocol):
    """A plugin with caches of its own (claims, volumes): the scheduler runs them, waits for
    them before its first cycle, and hears from them when a parked pod may now fit."""

    async def run(self) -> None: ...

    async def wait_synced(self) -> None: ...

    def on_change(self, callback: Callable[[], None]) -> None: ...
