"""The node lifecycle and taint eviction controllers together, against a real in-process API
server and a fake clock. The tests play the kubelets: they make the Nodes, post their Ready
condition and renew their Leases — or stop doing so."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from minikube_py.api.stamps import micro_time, rfc3339
from minikube_py.client import EVENTS, NODES, PODS, Client
from minikube_py.client.protocol import LEASES
from minikube_py.controllers import ControllerManager
from minikube_py.controllers.nodelifecycle import NodeLifecycleController
from minikube_py.controllers.taint_eviction import TaintEvictionController
from tests.controllers.stepping import SteppingClock, eventually

Object = dict[str, Any]
UNREACHABLE = "node.kubernetes.io/unreachable"


async def post_ready(client: Client, clock: SteppingClock, name: str) -> None:
    """What a kubelet posts: Ready True with a fresh heartbeat."""
    now = rfc3339(clock.now())
    ready = {
        "type": "Ready",
        "status": "True",
        "reason": "KubeletReady",
        "message": "kubelet is posting ready status",
        "lastHeartbeatTime": now,
        "lastTransitionTime": now,
    }
    node = await client.get(NODES, None, name)
    others = [c for c in (node.get("status") or {}).get("conditions") or [] if c["type"] != "Ready"]
    node["status"] = {**(node.get("status") or {}), "conditions": [*others, ready]}
    await client.update_status(NODES, None, node)


async def renew(client: Client, clock: SteppingClock, name: str) -> None:
    spec = {
        "holderIdentity": name,
        "leaseDurationSeconds": 40,
        "renewTime": micro_time(clock.now()),
    }
    try:
        lease = await client.get(LEASES, "kube-node-lease", name)
    except Exception:
        body = {"metadata": {"name": name}, "spec": spec}
        await client.create(LEASES, "kube-node-lease", body)
        return
    await client.update(LEASES, "kube-node-lease", {**lease, "spec": spec})


async def make_node(client: Client, clock: SteppingClock, name: str) -> None:
    await client.create(NODES, None, {"metadata": {"name": name}})
    await post_ready(client, clock, name)
    await renew(client, clock, name)


# Tolerates nothing a node lifecycle taint has (those have no value), yet counts as a say on
# the matter for the API server's DefaultTolerationSeconds, which then adds no 300 s ones.
INTOLERANT = [
    {"key": key, "operator": "Equal", "value": "never", "effect": "NoExecute"}
    for key in ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready")
]


async def make_pod(client: Client, name: str, node: str, tolerations: Any = INTOLERANT) -> None:
    spec: Object = {"nodeName": node, "containers": [{"name": "c", "image": "app:1"}]}
    if tolerations is not None:
        spec["tolerations"] = tolerations
    await client.create(PODS, "default", {"metadata": {"name": name}, "spec": spec})
    condition = {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}
    status = {"status": {"phase": "Running", "conditions": [condition]}}
    await client.patch(PODS, "default", name, status, subresource="status")


@contextlib.asynccontextmanager
async def running(client: Client, clock: SteppingClock) -> AsyncIterator[NodeLifecycleController]:
    lifecycle = NodeLifecycleController(client, clock=clock)
    eviction = TaintEvictionController(client, clock=clock)
    task = asyncio.ensure_future(ControllerManager(client, [lifecycle, eviction]).run())
    try:
        await eventually(lambda: lifecycle.passes > 0, "a first monitor pass")
        yield lifecycle
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def tick(
    client: Client, clock: SteppingClock, lifecycle: NodeLifecycleController, alive: list[str]
) -> None:
    """Five seconds: the ``alive`` kubelets renew their Leases, then one monitor pass."""
    for name in alive:
        await renew(client, clock, name)
    passes = lifecycle.passes
    clock.advance(5.0)
    await eventually(lambda: lifecycle.passes > passes, "a monitor pass")


def taints(node: Object) -> set[tuple[str, str]]:
    return {(t["key"], t["effect"]) for t in (node.get("spec") or {}).get("taints") or []}


async def deleting(client: Client, name: str) -> bool:
    try:
        pod = await client.get(PODS, "default", name)
    except Exception:
        return True
    return bool(pod["metadata"].get("deletionTimestamp"))


async def test_a_silent_node_goes_unknown_is_tainted_and_its_pods_are_evicted(
    client: Client, clock: SteppingClock
) -> None:
    for name in ("n1", "n2"):
        await make_node(client, clock, name)
    await make_pod(client, "plain", "n1")
    tolerate = [
        {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
    ]
    await make_pod(client, "patient", "n1", tolerate)
    await make_pod(client, "elsewhere", "n2")
    async with running(client, clock) as lifecycle:
        for _ in range(7):  # 35 s of silence from n1: still within the grace period
            await tick(client, clock, lifecycle, ["n2"])
        node = await client.get(NODES, None, "n1")
        assert {c["status"] for c in node["status"]["conditions"]} == {"True"}
        for _ in range(2):  # past 40 s: Unknown, then tainted on the next pass
            await tick(client, clock, lifecycle, ["n2"])
        await tick(client, clock, lifecycle, ["n2"])

        async def tainted() -> Object | None:
            node = await client.get(NODES, None, "n1")
            wanted = {(UNREACHABLE, "NoExecute"), (UNREACHABLE, "NoSchedule")}
            return node if taints(node) == wanted else None

        node = await eventually(tainted, "n1 tainted unreachable")
        tainted_at = clock.now()
        ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "Unknown" and ready["reason"] == "NodeStatusUnknown"
        assert ready["message"] == "Kubelet stopped posting node status."
        assert {c["type"] for c in node["status"]["conditions"]} >= {
            "Ready",
            "MemoryPressure",
            "DiskPressure",
            "PIDPressure",
        }
        assert taints(await client.get(NODES, None, "n2")) == set()
        await eventually(lambda: deleting(client, "plain"), "the intolerant pod deleted at once")
        assert not await deleting(client, "patient")
        assert not await deleting(client, "elsewhere")
        patient = await client.get(PODS, "default", "patient")
        pod_ready = next(c for c in patient["status"]["conditions"] if c["type"] == "Ready")
        assert pod_ready["status"] == "False"  # marked not ready with its node

        while clock.now() < tainted_at + 295:
            await tick(client, clock, lifecycle, ["n2"])
        assert not await deleting(client, "patient")
        await tick(client, clock, lifecycle, ["n2"])
        await tick(client, clock, lifecycle, ["n2"])
        await eventually(
            lambda: deleting(client, "patient"), "the tolerant pod deleted after 300 s"
        )

        # the kubelet is back: the taints go
        await post_ready(client, clock, "n1")
        await tick(client, clock, lifecycle, ["n1", "n2"])

        async def untainted() -> bool:
            return taints(await client.get(NODES, None, "n1")) == set()

        await eventually(untainted, "n1 untainted")
    events = (await client.list(EVENTS, "default"))["items"]
    by_reason = {(e["reason"], e["involvedObject"]["name"]): e for e in events}
    node_event = by_reason[("NodeNotReady", "n1")]
    assert node_event["message"] == "Node n1 status is now: NodeNotReady"
    assert node_event["source"]["component"] == "node-controller"
    assert by_reason[("NodeNotReady", "patient")]["message"] == "Node is not ready"
    eviction = by_reason[("TaintManagerEviction", "plain")]
    assert eviction["message"] == "Marking for deletion Pod default/plain"
    assert eviction["source"]["component"] == "taint-eviction-controller"


async def test_a_lone_silent_node_is_not_evicted(client: Client, clock: SteppingClock) -> None:
    await make_node(client, clock, "only")
    await make_pod(client, "plain", "only")
    async with running(client, clock) as lifecycle:
        for _ in range(12):
            await tick(client, clock, lifecycle, [])

        async def unknown() -> Object | None:
            node = await client.get(NODES, None, "only")
            ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
            return node if ready["status"] == "Unknown" and taints(node) else None

        node = await eventually(unknown, "the node Unknown")
        # every zone fully disrupted: the controller suspects itself, not the node
        assert taints(node) == {(UNREACHABLE, "NoSchedule")}
        assert not await deleting(client, "plain")
