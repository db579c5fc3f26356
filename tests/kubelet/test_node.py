"""Node registration and status against a real in-process API server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from minikube_py.api.quantities import value
from minikube_py.client import EVENTS, NODES, Client
from minikube_py.config import NodeConfig, plan_nodes
from minikube_py.kubelet.machine import EvictionThresholds
from minikube_py.kubelet.node import NodeStatusManager
from tests.client.helpers import in_process_client
from tests.clusters import ephemeral_config
from tests.kubelet.heartbeat_helpers import Ticker

if TYPE_CHECKING:
    from minikube_py.cluster import RunningCluster

FIRST, SECOND = plan_nodes("lab", 2)


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Client]:
    from minikube_py.cluster import running_cluster

    running: RunningCluster
    async with running_cluster(ephemeral_config(tmp_path / "cluster")) as running:
        made = in_process_client(running)
        try:
            yield made
        finally:
            await made.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def manager(api: Client, node: NodeConfig, tmp_path: Path, **options: Any) -> NodeStatusManager:
    return NodeStatusManager(api, node, profile="lab", state_dir=tmp_path, **options)


async def node_events(api: Client, name: str) -> list[tuple[str, str]]:
    listed = await api.list(EVENTS, "default", field_selector=f"involvedObject.name={name}")
    return [(e["reason"], e["message"]) for e in listed["items"]]


async def test_registration_labels_spec_and_status(api: Client, tmp_path: Path) -> None:
    await manager(api, FIRST, tmp_path).register()
    node = await api.get(NODES, None, "lab")
    labels = node["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == "lab"
    assert labels["kubernetes.io/os"] == labels["beta.kubernetes.io/os"] == "linux"
    assert labels["kubernetes.io/arch"] in ("amd64", "arm64")
    assert labels["node-role.kubernetes.io/control-plane"] == ""
    assert labels["minikube.k8s.io/name"] == "lab" and labels["minikube.k8s.io/primary"] == "true"
    assert node["spec"]["podCIDR"] == "127.244.0.0/24"
    assert node["spec"]["podCIDRs"] == ["127.244.0.0/24"]
    status = node["status"]
    capacity = status["capacity"]
    assert value(capacity["cpu"]) >= 1 and capacity["pods"] == "110"
    assert capacity["memory"].endswith("Ki") and value(capacity["memory"]) > 0
    assert value(capacity["ephemeral-storage"]) > 0
    assert status["allocatable"] == capacity
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Ready"]["status"] == "True"
    assert conditions["Ready"]["reason"] == "KubeletReady"
    assert conditions["Ready"]["message"] == "kubelet is posting ready status"
    assert conditions["MemoryPressure"]["reason"] == "KubeletHasSufficientMemory"
    assert conditions["DiskPressure"]["reason"] == "KubeletHasNoDiskPressure"
    assert conditions["PIDPressure"]["reason"] == "KubeletHasSufficientPID"
    info = status["nodeInfo"]
    assert info["kubeletVersion"] == "v1.32.0" and info["operatingSystem"] == "linux"
    assert info["containerRuntimeVersion"].startswith("minikube-py://")
    assert info["kernelVersion"] and info["osImage"] and info["machineID"]
    assert status["addresses"] == [
        {"type": "InternalIP", "address": "127.49.0.2"},
        {"type": "Hostname", "address": "lab"},
    ]
    assert status["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 10250}}


async def test_registration_events(api: Client, tmp_path: Path) -> None:
    await manager(api, FIRST, tmp_path).register()
    events = await node_events(api, "lab")
    assert ("Starting", "Starting kubelet.") in events
    for reason in ("NodeHasSufficientMemory", "NodeHasNoDiskPressure", "NodeHasSufficientPID"):
        assert (reason, f"Node lab status is now: {reason}") in events
    assert ("NodeReady", "Node lab status is now: NodeReady") in events


async def test_second_node_configured_values_labels_and_taints(api: Client, tmp_path: Path) -> None:
    taint = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    node = NodeConfig(
        name=SECOND.name,
        address=SECOND.address,
        pod_cidr=SECOND.pod_cidr,
        cpu="2",
        memory="4Gi",
        ephemeral_storage="20Gi",
        labels={"disk": "ssd"},
        taints=(taint,),
    )
    await manager(api, node, tmp_path).register()
    stored = await api.get(NODES, None, "lab-m02")
    labels = stored["metadata"]["labels"]
    assert "node-role.kubernetes.io/control-plane" not in labels
    assert labels["minikube.k8s.io/primary"] == "false" and labels["disk"] == "ssd"
    assert stored["spec"]["taints"] == [taint]
    assert stored["status"]["capacity"]["cpu"] == "2"
    assert stored["status"]["capacity"]["memory"] == "4194304Ki"
    assert stored["status"]["capacity"]["ephemeral-storage"] == "20971520Ki"


async def test_restart_adopts_the_node_and_keeps_its_cordon(api: Client, tmp_path: Path) -> None:
    await manager(api, FIRST, tmp_path).register()
    await api.patch(NODES, None, "lab", {"spec": {"unschedulable": True}})
    await api.patch(NODES, None, "lab", {"metadata": {"labels": {"minikube.k8s.io/name": "x"}}})
    restarted = manager(api, FIRST, tmp_path)
    await restarted.register()
    node = await api.get(NODES, None, "lab")
    assert node["spec"]["unschedulable"] is True  # the cordon survives a kubelet restart
    assert node["metadata"]["labels"]["minikube.k8s.io/name"] == "lab"  # its labels are fixed


async def test_status_is_posted_on_change_or_when_the_report_is_due(
    api: Client, tmp_path: Path
) -> None:
    clock = Clock()
    status = manager(api, FIRST, tmp_path, clock=clock, report_interval=300)
    await status.register()
    first = (await api.get(NODES, None, "lab"))["status"]["conditions"]
    clock.now += 10
    assert not await status.update_status()  # nothing changed: no write
    clock.now += 300
    assert await status.update_status()  # the report is due: heartbeat times move
    again = (await api.get(NODES, None, "lab"))["status"]["conditions"]
    assert [c["lastHeartbeatTime"] for c in again] != [c["lastHeartbeatTime"] for c in first]
    assert [c["lastTransitionTime"] for c in again] == [c["lastTransitionTime"] for c in first]
    # A machine under memory pressure (a threshold above all memory) changes the status now.
    status.thresholds = EvictionThresholds(memory_available=1 << 62)
    clock.now += 10
    assert await status.update_status()
    node = await api.get(NODES, None, "lab")
    memory = next(c for c in node["status"]["conditions"] if c["type"] == "MemoryPressure")
    assert memory["status"] == "True" and memory["reason"] == "KubeletHasInsufficientMemory"
    assert ("NodeHasInsufficientMemory", "Node lab status is now: NodeHasInsufficientMemory") in (
        await node_events(api, "lab")
    )


async def test_run_registers_then_checks_every_interval(api: Client, tmp_path: Path) -> None:
    ticker = Ticker()
    status = manager(
        api,
        FIRST,
        tmp_path,
        clock=ticker,
        sleep=ticker.sleep,
        check_interval=10,
        report_interval=30,
    )
    task = asyncio.create_task(status.run())
    try:
        await ticker.asleep(1)
        assert status.posts == 1 and (await api.get(NODES, None, "lab"))["status"]["capacity"]
        for round_ in range(3):  # at 10 s and 20 s nothing changed; at 30 s the report is due
            assert await ticker.tick() == 10
            await ticker.asleep(round_ + 2)
        assert status.posts == 2
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
