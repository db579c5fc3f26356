"""The DaemonSet controller against a real in-process API server. No scheduler, no kubelet:
the tests make the Node objects and play both parts (bind each pod to the node its affinity
names, mark it ready, finish its deletion)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from minikube_py.api.stamps import rfc3339
from minikube_py.client import EVENTS, NODES, PODS, Client
from minikube_py.client.protocol import CONTROLLER_REVISIONS, DAEMONSETS, ApiError
from minikube_py.controllers import ControllerManager
from minikube_py.controllers.daemonset import DaemonSetController
from minikube_py.controllers.daemonset_nodes import target_node
from tests.controllers.stepping import SteppingClock, eventually

Object = dict[str, Any]


def daemon_set(**template_spec: Any) -> Object:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "a", "image": "agent:1"}], **template_spec},
            },
        },
    }


async def make_node(client: Client, name: str, labels: Any = None, taints: Any = None) -> None:
    node: Object = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}
    node["metadata"]["labels"] = {"kubernetes.io/hostname": name, **(labels or {})}
    if taints:
        node["spec"] = {"taints": taints}
    await client.create(NODES, None, node)


@contextlib.asynccontextmanager
async def running(client: Client, clock: SteppingClock) -> AsyncIterator[DaemonSetController]:
    controller = DaemonSetController(client, clock=clock)
    task = asyncio.ensure_future(ControllerManager(client, [controller]).run())
    try:
        yield controller
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def live_pods(client: Client) -> list[Object]:
    pods = (await client.list(PODS, "default"))["items"]
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


async def wait_nodes(client: Client, nodes: set[str]) -> list[Object]:
    """Until exactly one live daemon pod targets each of ``nodes`` and none any other."""

    async def check() -> list[Object] | None:
        pods = await live_pods(client)
        targets = [target_node(p) for p in pods]
        return pods if sorted(targets) == sorted(nodes) else None  # type: ignore[type-var]

    result: list[Object] = await eventually(check, f"one pod on each of {sorted(nodes)}")
    return result


async def wait_status(client: Client, expected: Object) -> Object:
    async def check() -> Object | None:
        status = (await client.get(DAEMONSETS, "default", "agent")).get("status") or {}
        return status if all(status.get(k) == v for k, v in expected.items()) else None

    result: Object = await eventually(check, f"status {expected}")
    return result


async def play_kubelet(client: Client, clock: SteppingClock, *, ready: bool = True) -> None:
    """Forever: bind unbound pods to their target node, make them ready, finish deletions."""
    while True:
        for pod in (await client.list(PODS, "default"))["items"]:
            meta, name = pod["metadata"], pod["metadata"]["name"]
            try:
                if meta.get("deletionTimestamp"):
                    await client.delete(PODS, "default", name, grace_period_seconds=0)
                elif not pod["spec"].get("nodeName"):
                    target = {"apiVersion": "v1", "kind": "Node", "name": target_node(pod)}
                    binding = {"metadata": {"name": name}, "target": target}
                    await client.create(PODS, "default", binding, subresource="binding")
                elif ready and (pod.get("status") or {}).get("phase") != "Running":
                    condition = {
                        "type": "Ready",
                        "status": "True",
                        "lastTransitionTime": rfc3339(clock.now()),
                    }
                    status = {"phase": "Running", "conditions": [condition]}
                    await client.patch(
                        PODS, "default", name, {"status": status}, subresource="status"
                    )
            except ApiError:
                pass  # raced with the controller; the next round sees the new state
        await asyncio.sleep(0.005)


async def test_one_pod_per_eligible_node_pinned_by_affinity(
    client: Client, clock: SteppingClock
) -> None:
    await make_node(client, "n1", {"disk": "ssd"})
    await make_node(client, "n2", {"disk": "ssd"})
    await make_node(client, "n3", {"disk": "hdd"})
    gpu = {"key": "gpu", "value": "yes", "effect": "NoSchedule"}
    await make_node(client, "tainted", {"disk": "ssd"}, [gpu])
    async with running(client, clock):
        await client.create(DAEMONSETS, "default", daemon_set(nodeSelector={"disk": "ssd"}))
        pods = await wait_nodes(client, {"n1", "n2"})
        status = await wait_status(
            client,
            {"desiredNumberScheduled": 2, "currentNumberScheduled": 2, "observedGeneration": 1},
        )
    assert status["numberMisscheduled"] == 0 and status["numberUnavailable"] == 2
    pod = pods[0]
    terms = pod["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]["nodeSelectorTerms"]
    assert terms == [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [target_node(pod)]}]}
    ]
    assert not pod["spec"].get("nodeName")  # the scheduler binds it
    tolerations = {(t["key"], t["effect"]) for t in pod["spec"]["tolerations"]}
    assert ("node.kubernetes.io/unreachable", "NoExecute") in tolerations
    assert ("node.kubernetes.io/unschedulable", "NoSchedule") in tolerations
    assert pod["metadata"]["labels"]["controller-revision-hash"]
    events = (await client.list(EVENTS, "default"))["items"]
    created = [e for e in events if e["reason"] == "SuccessfulCreate"]
    assert len(created) == 2
    assert {e["source"]["component"] for e in created} == {"daemonset-controller"}


async def test_a_toleration_admits_the_tainted_node_and_a_new_node_gets_its_pod(
    client: Client, clock: SteppingClock
) -> None:
    for name in ("n1", "n2", "n3"):
        await make_node(client, name)
    await make_node(client, "gpu", taints=[{"key": "gpu", "effect": "NoSchedule"}])
    async with running(client, clock):
        await client.create(DAEMONSETS, "default", daemon_set())
        await wait_nodes(client, {"n1", "n2", "n3"})
        tolerate = [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]
        await client.patch(
            DAEMONSETS,
            "default",
            "agent",
            {"spec": {"template": {"spec": {"tolerations": tolerate}}}},
        )
        await make_node(client, "n4")
        await wait_nodes(client, {"n1", "n2", "n3", "gpu", "n4"})
        await wait_status(client, {"desiredNumberScheduled": 5, "observedGeneration": 2})
        # a node losing the selected label loses its pod
        await client.patch(
            DAEMONSETS, "default", "agent", {"spec": {"updateStrategy": {"type": "OnDelete"}}}
        )
        await client.patch(
            NODES, None, "n4", {"spec": {"taints": [{"key": "x", "effect": "NoExecute"}]}}
        )
        await wait_nodes(client, {"n1", "n2", "n3", "gpu"})


async def test_rolling_update_keeps_n_minus_one_ready_and_records_revisions(
    client: Client, clock: SteppingClock
) -> None:
    for name in ("n1", "n2", "n3"):
        await make_node(client, name)
    lowest = [3]

    async def observe() -> None:
        while True:
            pods = await live_pods(client)
            ready_nodes = {
                target_node(p)
                for p in pods
                if any(
                    c["type"] == "Ready" and c["status"] == "True"
                    for c in (p.get("status") or {}).get("conditions") or []
                )
            }
            lowest[0] = min(lowest[0], len(ready_nodes))
            await asyncio.sleep(0)

    async with running(client, clock):
        kubelet = asyncio.ensure_future(play_kubelet(client, clock))
        await client.create(DAEMONSETS, "default", daemon_set())
        await wait_status(
            client, {"numberReady": 3, "numberAvailable": 3, "updatedNumberScheduled": 3}
        )
        watcher = asyncio.ensure_future(observe())
        await client.patch(
            DAEMONSETS,
            "default",
            "agent",
            {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "agent:2"}]}}}},
        )
        status = await wait_status(
            client,
            {"observedGeneration": 2, "updatedNumberScheduled": 3, "numberAvailable": 3},
        )
        watcher.cancel()
        kubelet.cancel()
        await asyncio.gather(watcher, kubelet, return_exceptions=True)
    assert lowest[0] == 2  # one node at a time was without a ready pod, never two
    assert status["desiredNumberScheduled"] == 3 and status["numberUnavailable"] == 0
    pods = await live_pods(client)
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"agent:2"}
    revisions = (await client.list(CONTROLLER_REVISIONS, "default"))["items"]
    assert sorted(r["revision"] for r in revisions) == [1, 2]
    newest = max(revisions, key=lambda r: r["revision"])
    hash_ = newest["metadata"]["labels"]["controller-revision-hash"]
    assert newest["metadata"]["name"] == f"agent-{hash_}"
    assert {p["metadata"]["labels"]["controller-revision-hash"] for p in pods} == {hash_}


async def test_a_failed_pod_is_replaced_and_extra_pods_are_deleted(
    client: Client, clock: SteppingClock
) -> None:
    await make_node(client, "n1")
    async with running(client, clock):
        await client.create(DAEMONSETS, "default", daemon_set())
        [pod] = await wait_nodes(client, {"n1"})
        name = pod["metadata"]["name"]
        failed = {"status": {"phase": "Failed"}}
        await client.patch(PODS, "default", name, failed, subresource="status")

        async def replaced() -> list[Object] | None:
            pods = await live_pods(client)
            return pods if [p["metadata"]["name"] != name for p in pods] == [True] else None

        [replacement] = await eventually(replaced, "the failed pod replaced")
        assert target_node(replacement) == "n1"

        async def warned() -> Object | None:
            events = (await client.list(EVENTS, "default"))["items"]
            return next((e for e in events if e["reason"] == "FailedDaemonPod"), None)

        event = await eventually(warned, "a FailedDaemonPod event")
        assert event["message"] == (
            f"Found failed daemon pod default/{name} on node n1, will try to kill it"
        )
        assert event["type"] == "Warning"
        # an extra pod for the same node (an orphan that gets adopted): the oldest stays
        extra = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "extra", "labels": {"app": "agent"}},
            "spec": {"nodeName": "n1", "containers": [{"name": "a", "image": "agent:1"}]},
        }
        await client.create(PODS, "default", extra)
        [kept] = await wait_nodes(client, {"n1"})
        assert kept["metadata"]["name"] == replacement["metadata"]["name"]


async def test_surge_never_leaves_a_node_without_a_ready_pod(
    client: Client, clock: SteppingClock
) -> None:
    for name in ("n1", "n2", "n3"):
        await make_node(client, name)
    body = daemon_set()
    rolling = {"maxSurge": 1, "maxUnavailable": 0}
    body["spec"]["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": rolling}
    lowest = [3]

    async def observe() -> None:
        while True:
            pods = await live_pods(client)
            ready = {target_node(p) for p in pods if (p.get("status") or {}).get("conditions")}
            lowest[0] = min(lowest[0], len(ready))
            await asyncio.sleep(0)

    async with running(client, clock):
        kubelet = asyncio.ensure_future(play_kubelet(client, clock))
        await client.create(DAEMONSETS, "default", body)
        await wait_status(client, {"numberAvailable": 3, "updatedNumberScheduled": 3})
        watcher = asyncio.ensure_future(observe())
        image = {
            "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "agent:2"}]}}}
        }
        await client.patch(DAEMONSETS, "default", "agent", image)
        await wait_status(
            client, {"observedGeneration": 2, "updatedNumberScheduled": 3, "numberAvailable": 3}
        )
        await wait_nodes(client, {"n1", "n2", "n3"})
        watcher.cancel()
        kubelet.cancel()
        await asyncio.gather(watcher, kubelet, return_exceptions=True)
    assert lowest[0] == 3
    assert {p["spec"]["containers"][0]["image"] for p in await live_pods(client)} == {"agent:2"}


async def test_on_delete_replaces_only_deleted_pods(client: Client, clock: SteppingClock) -> None:
    for name in ("n1", "n2"):
        await make_node(client, name)
    body = daemon_set()
    body["spec"]["updateStrategy"] = {"type": "OnDelete"}
    async with running(client, clock):
        await client.create(DAEMONSETS, "default", body)
        pods = await wait_nodes(client, {"n1", "n2"})
        image = {
            "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "agent:2"}]}}}
        }
        await client.patch(DAEMONSETS, "default", "agent", image)
        await wait_status(client, {"observedGeneration": 2, "updatedNumberScheduled": 0})
        first = pods[0]["metadata"]["name"]
        await client.delete(PODS, "default", first)
        await wait_status(client, {"updatedNumberScheduled": 1, "currentNumberScheduled": 2})
        now = await wait_nodes(client, {"n1", "n2"})
    images = sorted(p["spec"]["containers"][0]["image"] for p in now)
    assert images == ["agent:1", "agent:2"]
