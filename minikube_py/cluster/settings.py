"""What a cluster is started with: ``ClusterConfig``, and ``ClusterError`` when it cannot start.

One record holds every choice a user makes when starting a cluster — its profile and state
directory, where the API server listens, the store, the nodes and what they offer, the
container runtime, the controllers and the addons — so the CLI's ``serve`` / ``start``, the
embedded ``Cluster`` and the tests describe a cluster the same way. Defaults are minikube's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import attrs

from minikube_py.config import ControllerSettings, NetworkPlan

if TYPE_CHECKING:  # the kubelet is imported after the API server serves (cluster/__init__.py)
    from minikube_py.kubelet.agent import AgentTimings


class ClusterError(Exception):
    """A cluster cannot start as configured; the message says why, in one line."""


@attrs.frozen
class ClusterConfig:
    """Everything needed to start one cluster."""

    profile: str = "minikube"
    state_dir: Path | None = None  # default: ~/.minikube_py/profiles/<profile>
    address: str | None = None  # where the API server listens; None: the first node's address
    network: NetworkPlan | None = None  # None: the first free address slot (minikube_py.slots)
    port: int = 8443  # 0: a free port
    store_url: str | None = None  # default: SQLite in the state directory
    kubeconfig: Path | None = None  # None: merge into the user's kubeconfig
    write_kubeconfig: bool = True
    nodes: int = 1
    cpus: str | None = None  # per node, a quantity; None: the machine's
    memory: str | None = None
    # "process": containers are real processes; "fake": pods run at once without processes
    # (kwok's idea), for control-plane tests and benchmarks at scale.
    runtime: Literal["process", "fake"] = "process"
    timings: AgentTimings | None = None  # None: the kubelet's defaults (upstream's)
    crash_backoff: float | None = None  # overrides ``timings.crash_backoff`` (a CLI flag)
    controllers: ControllerSettings | None = None  # None: the defaults
    addons: tuple[str, ...] = ()  # minikube's addons this cluster runs: "ingress"

    def agent_timings(self) -> AgentTimings:
        from minikube_py.kubelet.agent import AgentTimings

        timings = self.timings or AgentTimings()
        if self.crash_backoff is not None:
            timings = attrs.evolve(timings, crash_backoff=self.crash_backoff)
        return timings

    @property
    def directory(self) -> Path:
        home = Path(os.environ.get("MINIKUBE_PY_HOME", Path.home() / ".minikube_py"))
        return (self.state_dir or home / "profiles" / self.profile).resolve()
