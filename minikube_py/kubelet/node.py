"""The kubelet's Node object: registering it, and keeping its status current.

A node exists in the API because its kubelet registers it: at start the kubelet creates the
Node named after its host (or, after a restart, adopts the one already there, fixing its
labels) with the labels every node carries (``kubernetes.io/hostname``, ``kubernetes.io/os``,
``kubernetes.io/arch`` and their ``beta.`` twins; minikube adds ``minikube.k8s.io/name`` and
``minikube.k8s.io/primary``, kubeadm ``node-role.kubernetes.io/control-plane`` on the first
node) and then posts its *status*: capacity and allocatable, ``nodeInfo``, addresses, the
kubelet's port, and four conditions — ``MemoryPressure``, ``DiskPressure``, ``PIDPressure``
(False while the machine is above its eviction thresholds) and ``Ready``.

Afterwards it recomputes the status every ``check_interval`` (upstream's
``nodeStatusUpdateFrequency``, 10 s) and posts it when something changed or when
``report_interval`` (``nodeStatusReportFrequency``, 5 min) has passed, so an idle cluster does
not rewrite its nodes every few seconds; liveness is the Lease's job (``lease.py``). As
upstream, a kubelet that stops leaves its node as it was: the node controller marks it
``Unknown`` once the Lease expires. Condition changes are Node events (``Node minikube
status is now: NodeHasSufficientMemory``), as are ``Starting`` and ``NodeAllocatableEnforced``.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from minikube_py.api.stamps import rfc3339
from minikube_py.client.events import EventRecorder
from minikube_py.client.protocol import NODES, ApiError, Client
from minikube_py.config import NodeConfig
from minikube_py.kubelet import machine
from minikube_py.logs import get_logger

Object = dict[str, Any]
KUBELET_PORT = 10250
_CONFLICT_RETRIES = 5  # upstream's nodeStatusUpdateRetry

# (type, (reason, message, event) when False, (reason, message, event) when True)
_PRESSURES = (
    (
        "MemoryPressure",
        ("KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("KubeletHasInsufficientMemory", "kubelet has insufficient memory available"),
        ("NodeHasSufficientMemory", "NodeHasInsufficientMemory"),
    ),
    (
        "DiskPressure",
        ("KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("KubeletHasDiskPressure", "kubelet has disk pressure"),
        ("NodeHasNoDiskPressure", "NodeHasDiskPressure"),
    ),
    (
        "PIDPressure",
        ("KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ("KubeletHasInsufficientPID", "kubelet has insufficient PID available"),
        ("NodeHasSufficientPID", "NodeHasInsufficientPID"),
    ),
)


def node_labels(node: NodeConfig, profile: str) -> dict[str, str]:
    """The labels a node registers with: the kubelet's, kubeadm's and minikube's, then the
    configured ones."""
    arch = machine.architecture()
    labels = {
        "beta.kubernetes.io/arch": arch,
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": arch,
        "kubernetes.io/hostname": node.name,
        "kubernetes.io/os": "linux",
        "minikube.k8s.io/name": profile,
        "minikube.k8s.io/primary": "true" if node.control_plane else "false",
    }
    if node.control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
    return {**labels, **node.labels}


class NodeStatusManager:
    """Registers one node and keeps its status current; ``run()`` until cancelled."""

    def __init__(
        self,
        client: Client,
        node: NodeConfig,
        *,
        profile: str = "minikube",
        state_dir: Path,
        recorder: EventRecorder | None = None,
        thresholds: machine.EvictionThresholds | None = None,
        check_interval: float = 10.0,
        report_interval: float = 300.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.node = node
        self.profile = profile
        self.state_dir = state_dir
        self.recorder = recorder or EventRecorder(client, "kubelet", host=node.name)
        self.thresholds = thresholds or machine.EvictionThresholds()
        self.check_interval = check_interval
        self.report_interval = report_interval
        self.clock = clock
        self.sleep = sleep
        self.registered: Object | None = None  # the Node as last written
        self.posts = 0  # status writes made (for tests and metrics)
        self._posted: Object | None = None  # the status last posted, heartbeat times blanked
        self._posted_at = 0.0
        self._info = machine.node_info(node.name)
        self._log = get_logger("kubelet.node").bind(node=node.name)

    @property
    def reference(self) -> Object:
        """The node as the kubelet's events name it: upstream uses the node name as uid."""
        name = self.node.name
        return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "uid": name}}

    async def run(self) -> None:
        delay = 0.1  # registration retries back off as upstream's: 100 ms doubling to 7 s
        while self.registered is None:
            try:
                await self.register()
            except Exception as error:
                self._log.warning("node registration failed", error=str(error), retry_in=delay)
                await self.sleep(delay)
                delay = min(delay * 2, 7.0)
        while True:
            await self.sleep(self.check_interval)
            try:
                await self.update_status()
            except Exception as error:  # refused or unreachable: the next round tries again
                self._log.warning("node status update failed", error=str(error))

    async def register(self) -> Object:
        """Create the Node (or adopt the existing one) and post its first status."""
        await self.recorder.record(self.reference, reason="Starting", message="Starting kubelet.")
        try:
            self.registered = await self.client.create(NODES, None, self._new_node())
            self._log.info("node registered")
        except ApiError as error:
            if error.code != 409:
                raise
            self.registered = await self._adopt()
        await self.recorder.record(
            self.reference,
            reason="NodeAllocatableEnforced",
            message="Updated Node Allocatable limit across pods",
        )
        await self.update_status(force=True)
        assert self.registered is not None
        return self.registered

    def _new_node(self) -> Object:
        spec: Object = {}
        if self.node.pod_cidr:
            spec = {"podCIDR": self.node.pod_cidr, "podCIDRs": [self.node.pod_cidr]}
        if self.node.taints:
            spec["taints"] = [dict(taint) for taint in self.node.taints]
        annotations = {"volumes.kubernetes.io/controller-managed-attach-detach": "true"}
        metadata = {"name": self.node.name, "labels": self.labels, "annotations": annotations}
        return {"apiVersion": "v1", "kind": "Node", "metadata": metadata, "spec": spec}

    @property
    def labels(self) -> dict[str, str]:
        return node_labels(self.node, self.profile)

    async def _adopt(self) -> Object:
        """After a restart: keep the Node (cordons, taints, others' labels) and reconcile only
        what this kubelet owns — its labels, its annotation, an unset pod CIDR."""
        for _ in range(_CONFLICT_RETRIES):
            existing = await self.client.get(NODES, None, self.node.name)
            wanted = copy.deepcopy(existing)
            metadata = wanted.setdefault("metadata", {})
            metadata["labels"] = {**(metadata.get("labels") or {}), **self.labels}
            annotations = metadata.setdefault("annotations", {})
            annotations["volumes.kubernetes.io/controller-managed-attach-detach"] = "true"
            spec = wanted.setdefault("spec", {})
            if self.node.pod_cidr and not spec.get("podCIDR"):
                spec["podCIDR"] = self.node.pod_cidr
                spec["podCIDRs"] = [self.node.pod_cidr]
            if wanted == existing:
                return existing
            try:
                adopted = await self.client.update(NODES, None, wanted)
            except ApiError as error:
                if error.code == 409:
                    continue
                raise
            self._log.info("node adopted")
            return adopted
        raise ApiError(409, "Conflict", f"could not adopt node {self.node.name!r}")

    async def update_status(self, *, force: bool = False) -> bool:
        """Recompute the status; post it if it changed, if ``report_interval`` has passed, or
        if ``force``. Returns whether it was posted."""
        now = self.clock()
        for _ in range(_CONFLICT_RETRIES):
            current = await self.client.get(NODES, None, self.node.name)
            status, events = self._status(current.get("status") or {}, now)
            comparable = _without_heartbeats(status)
            due = now - self._posted_at >= self.report_interval
            if not force and not due and comparable == self._posted:
                return False
            current["status"] = status
            try:
                self.registered = await self.client.update_status(NODES, None, current)
            except ApiError as error:
                if error.code == 409:
                    continue
                raise
            self._posted, self._posted_at = comparable, now
            self.posts += 1
            for event in events:
                message = f"Node {self.node.name} status is now: {event}"
                await self.recorder.record(self.reference, reason=event, message=message)
            return True
        raise ApiError(409, "Conflict", f"could not update the status of {self.node.name!r}")

    def _status(self, previous: Object, now: float) -> tuple[Object, list[str]]:
        """The new status (other writers' fields kept) and the events its changes make."""
        capacity = machine.capacity(self.node, self.state_dir)
        pressure = machine.pressure(self.state_dir, self.thresholds)
        old = {c.get("type"): c for c in previous.get("conditions") or ()}
        stamp = rfc3339(now)
        conditions, events = [], []
        for (kind, calm, strained, (calm_event, strained_event)), under in zip(
            _PRESSURES, (pressure.memory, pressure.disk, pressure.pid), strict=True
        ):
            state = "True" if under else "False"
            reason, message = strained if under else calm
            conditions.append(_condition(kind, state, reason, message, old.get(kind), stamp))
            if (old.get(kind) or {}).get("status") != state:
                events.append(strained_event if under else calm_event)
        ready = _condition(
            "Ready",
            "True",
            "KubeletReady",
            "kubelet is posting ready status",
            old.get("Ready"),
            stamp,
        )
        conditions.append(ready)
        # Upstream's first status is usually NotReady (the network is not up yet), so users
        # always see NodeReady; here the node is ready at once, and says so the same way.
        if (old.get("Ready") or {}).get("status") != "True":
            events.append("NodeReady")
        status = dict(previous)
        status.update(
            capacity=capacity,
            allocatable=dict(capacity),  # minikube reserves nothing for system daemons
            conditions=conditions,
            addresses=[
                {"type": "InternalIP", "address": self.node.address},
                {"type": "Hostname", "address": self.node.name},
            ],
            daemonEndpoints={"kubeletEndpoint": {"Port": KUBELET_PORT}},
            nodeInfo=dict(self._info),
        )
        return status, events


def _condition(
    kind: str, state: str, reason: str, message: str, old: Object | None, stamp: str
) -> Object:
    unchanged = old is not None and old.get("status") == state
    return {
        "type": kind,
        "status": state,
        "lastHeartbeatTime": stamp,
        "lastTransitionTime": old.get("lastTransitionTime", stamp) if unchanged and old else stamp,
        "reason": reason,
        "message": message,
    }


def _without_heartbeats(status: Object) -> Object:
    compared = copy.deepcopy(status)
    for condition in compared.get("conditions") or ():
        condition.pop("lastHeartbeatTime", None)
    return compared
