"""The node lifecycle controller: notice dead nodes, say so, and taint them.

Kubernetes does not ask nodes whether they are alive; each kubelet keeps saying so, by renewing
its Lease and posting its status (``kubelet/lease.py``, ``kubelet/node.py``). This controller
(upstream's ``pkg/controller/nodelifecycle``, Events as ``node-controller``) listens:

1. **Monitor** (every ``monitor_period``, 5 s). For each node, note when its Lease or status
   last moved (``nodelifecycle_health.py``). Silent longer than ``grace_period`` (40 s): its
   conditions become ``Unknown`` / ``NodeStatusUnknown``. A node whose Ready condition just
   stopped being ``True`` gets a ``NodeNotReady`` Event, and its pods' Ready condition is set
   ``False`` (upstream's MarkPodsNotReady, with a ``NodeNotReady`` Event on each pod) so that
   Services stop sending them traffic.
2. **NoExecute taints.** Ready ``Unknown`` → ``node.kubernetes.io/unreachable:NoExecute``,
   ``False`` → ``node.kubernetes.io/not-ready:NoExecute``, ``True`` → neither. The taint
   eviction controller (``taint_eviction.py``) then removes the pods that do not tolerate them
   (after 300 s for ordinary pods, thanks to their default tolerations). Unless every zone is
   fully disrupted, or a small zone partially (``nodelifecycle_taints.py``): then no node gets
   a new NoExecute taint, and with every zone down the existing ones are removed.
3. **NoSchedule taints by condition**, on every node change (the work queue, keyed by node
   name): the scheduler must not place new pods on an unreachable, not-ready, pressured or
   cordoned node.

Upstream also rate-limits tainting per zone (0.1 nodes per second); a mini cluster's few nodes
are tainted at once.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from minikube_py.api.stamps import rfc3339
from minikube_py.client.events import EventRecorder
from minikube_py.client.protocol import LEASES, NODES, PODS, ApiError, Client, Object
from minikube_py.clock import Clock
from minikube_py.controllers.controller import Controller
from minikube_py.controllers.informers import SharedInformers
from minikube_py.controllers.nodelifecycle_health import (
    STARTUP_GRACE_PERIOD,
    NodeHealth,
    grace_period,
    observe,
    unknown_conditions,
)
from minikube_py.controllers.nodelifecycle_taints import (
    FULL,
    NORMAL,
    PARTIAL,
    condition,
    no_execute_taints,
    no_schedule_taints,
    without_no_execute,
    zone_key,
    zone_state,
)

LEASE_NAMESPACE = "kube-node-lease"
LARGE_CLUSTER_THRESHOLD = 50  # upstream's --large-cluster-size-threshold
UPDATE_RETRIES = 5  # upstream's nodeStatusUpdateRetry


class NodeLifecycleController(Controller):
    """Marks silent nodes Unknown, taints unhealthy nodes, marks their pods not ready."""

    component = "node-controller"
    name = "nodelifecycle"
    workers = 1

    def __init__(
        self,
        client: Client,
        *,
        clock: Clock | None = None,
        recorder: EventRecorder | None = None,
        grace_period: float = 40.0,
        startup_grace_period: float = STARTUP_GRACE_PERIOD,
        monitor_period: float = 5.0,
        workers: int | None = None,
    ) -> None:
        super().__init__(client, clock=clock, recorder=recorder, workers=workers)
        self.grace_period = grace_period
        self.startup_grace_period = startup_grace_period
        self.monitor_period = monitor_period
        self.health: dict[str, NodeHealth] = {}
        self.zone_states: dict[str, str] = {}
        self.all_disrupted = False
        self.passes = 0  # monitor passes finished (tests wait on it)

    def wire(self, informers: SharedInformers) -> None:
        self.nodes = informers.get(NODES)
        self.leases = informers.get(LEASES, LEASE_NAMESPACE)
        self.pods = informers.get(PODS)
        self.watch(self.nodes)
        self.nodes.on_delete(self._forget)

    def _forget(self, node: Object) -> None:
        self.health.pop(node["metadata"]["name"], None)

    async def run_workers(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(super().run_workers())
            group.create_task(self._monitor_forever())

    async def _monitor_forever(self) -> None:
        while True:
            try:
                await self.monitor()
            except Exception:  # the next pass tries again
                self.log.exception("monitoring node health failed")
            self.passes += 1
            await self.clock.sleep(self.monitor_period)

    # -- NoSchedule taints by condition (per node change) -----------------------------------

    async def reconcile(self, key: str) -> float | None:
        if self.nodes.get(key) is not None:
            await self._update_taints(key, no_schedule_taints)
        return None

    async def _update_taints(
        self, name: str, change: Callable[[Object], list[Object] | None]
    ) -> None:
        """Apply ``change`` to the node's taints on a fresh read, retrying on conflicts."""
        for attempt in range(UPDATE_RETRIES):
            node = self.nodes.get(name) if attempt == 0 else await self._get(name)
            if node is None:
                return
            taints = change(node)
            if taints is None:
                return
            spec = {**(node.get("spec") or {}), "taints": taints}
            if not taints:
                spec.pop("taints")
            body = {**node, "apiVersion": "v1", "kind": "Node", "spec": spec}
            try:
                await self.client.update(NODES, None, body)
                self.log.info("updated taints", node=name, taints=[t["key"] for t in taints])
                return
            except ApiError as error:
                if error.code == 404:
                    return
                if error.code != 409 or attempt == UPDATE_RETRIES - 1:
                    raise

    async def _get(self, name: str) -> Object | None:
        try:
            return await self.client.get(NODES, None, name)
        except ApiError as error:
            if error.code == 404:
                return None
            raise

    # -- the monitor pass -------------------------------------------------------------------

    async def monitor(self) -> None:
        """One pass over every node (upstream's monitorNodeHealth)."""
        now = self.clock.now()
        zones: dict[str, list[int]] = {}  # zone → [ready, not ready]
        observed_ready: dict[str, str] = {}
        for node in self.nodes.items():
            name = node["metadata"]["name"]
            before, after = await self._check_health(node, now)
            if after is not None:  # a node that never posted Ready is not tainted yet
                observed_ready[name] = before
            counts = zones.setdefault(zone_key(node), [0, 0])
            counts[0 if after == "True" else 1] += 1
            if after != "True" and before == "True":
                await self._record_node(node, "NodeNotReady")
                await self._mark_pods_not_ready(name)
        self._update_zone_states(zones)
        for node in self.nodes.items():
            name = node["metadata"]["name"]
            if self.all_disrupted:
                await self._update_taints(name, without_no_execute)
                continue
            ready = observed_ready.get(name)
            if ready is None:  # appeared during this pass: the next one looks at it
                continue
            zone = zone_key(node)
            # a small zone in partial disruption gets no new evictions (upstream's rate 0)
            partial = self.zone_states.get(zone, NORMAL) == PARTIAL
            allowed = not partial or sum(zones[zone]) > LARGE_CLUSTER_THRESHOLD
            await self._update_taints(name, functools.partial(_no_execute, ready, now, allowed))

    async def _check_health(self, node: Object, now: float) -> tuple[str, str | None]:
        """(the Ready status as observed, the Ready status after this pass: None while the
        node has no Ready condition at all)."""
        name = node["metadata"]["name"]
        health = observe(
            self.health.get(name), node, self.leases.get(f"{LEASE_NAMESPACE}/{name}"), now
        )
        self.health[name] = health
        ready = condition(node, "Ready")
        observed = "Unknown" if ready is None else str(ready.get("status"))
        grace = grace_period(node, self.grace_period, self.startup_grace_period)
        if now <= health.probe_timestamp + grace:
            return observed, None if ready is None else observed
        conditions = unknown_conditions(node, now)
        if conditions is None:
            return observed, "Unknown"
        self.log.info("node stopped posting status", node=name, silent=now - health.probe_timestamp)
        status = {**(node.get("status") or {}), "conditions": conditions}
        body = {**node, "apiVersion": "v1", "kind": "Node", "status": status}
        try:
            await self.client.update_status(NODES, None, body)
        except ApiError as error:  # changed meanwhile: the next pass looks again
            self.log.info("could not mark node unknown", node=name, error=str(error))
            return observed, None if ready is None else observed
        health.ready_status, health.ready_transition = "Unknown", now
        return observed, "Unknown"

    def _update_zone_states(self, zones: dict[str, list[int]]) -> None:
        """Upstream's handleDisruption, for what decides tainting here."""
        states = {zone: zone_state(ready, not_ready) for zone, (ready, not_ready) in zones.items()}
        all_disrupted = bool(states) and all(state == FULL for state in states.values())
        if all_disrupted and not self.all_disrupted:
            self.log.info("all nodes are not ready: entering master disruption mode")
        if self.all_disrupted and not all_disrupted:
            self.log.info("some nodes are ready again: exiting master disruption mode")
            for health in self.health.values():  # give every node a fresh grace period
                health.probe_timestamp = self.clock.now()
        for zone, state in states.items():
            if self.zone_states.get(zone, NORMAL) != state:
                self.log.info("zone state changed", zone=zone or "(none)", state=state)
        self.zone_states, self.all_disrupted = states, all_disrupted

    # -- events and pods --------------------------------------------------------------------

    async def _record_node(self, node: Object, status: str) -> None:
        name = node["metadata"]["name"]
        # upstream refers to the node with its name as the uid
        subject = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "uid": name}}
        await self.recorder.record(
            subject, reason=status, message=f"Node {name} status is now: {status}"
        )

    async def _mark_pods_not_ready(self, node_name: str) -> None:
        """Set the Ready condition of the node's pods to False (upstream's MarkPodsNotReady)."""
        for pod in self.pods.items():
            if (pod.get("spec") or {}).get("nodeName") != node_name:
                continue
            ready = next(
                (
                    c
                    for c in (pod.get("status") or {}).get("conditions") or []
                    if c.get("type") == "Ready"
                ),
                None,
            )
            if ready is None or ready.get("status") == "False":
                continue
            update = {**ready, "status": "False", "lastTransitionTime": rfc3339(self.clock.now())}
            namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
            patch: dict[str, Any] = {"status": {"conditions": [update]}}
            try:
                await self.client.patch(
                    PODS, namespace, name, patch, patch_type="strategic", subresource="status"
                )
            except ApiError as error:
                if error.code != 404:
                    self.log.warning(
                        "could not mark pod not ready", pod=f"{namespace}/{name}", error=str(error)
                    )
                continue
            await self.recorder.record(
                {**pod, "apiVersion": "v1", "kind": "Pod"},
                reason="NodeNotReady",
                message="Node is not ready",
                warning=True,
            )


def _no_execute(ready: str, now: float, allowed: bool, node: Object) -> list[Object] | None:
    return no_execute_taints(node, ready, now, allowed=allowed)
