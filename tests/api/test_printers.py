"""Printer cells of pods, nodes and services, as kubectl 1.32 shows them."""

from __future__ import annotations

from typing import Any

import pytest

from minikube_py.api.tables import to_table
from tests.api.test_tables import NOW, ago, cells, rt_of


def container(name: str, **status: Any) -> dict[str, Any]:
    return {"name": name, "image": f"{name}:1", **status}


def test_running_pod_with_restarts() -> None:
    pod = {
        "metadata": {"name": "web-1", "creationTimestamp": ago(hours=2)},
        "spec": {"nodeName": "minikube", "containers": [container("app"), container("log")]},
        "status": {
            "phase": "Running",
            "podIP": "127.244.0.5",
            "podIPs": [{"ip": "127.244.0.5"}],
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [
                container(
                    "app",
                    ready=True,
                    restartCount=3,
                    state={"running": {"startedAt": ago(minutes=5)}},
                    lastState={
                        "terminated": {
                            "exitCode": 1,
                            "reason": "Error",
                            "finishedAt": ago(minutes=5, seconds=2),
                        }
                    },
                ),
                container("log", ready=False, restartCount=0, state={"running": {}}),
            ],
        },
    }
    assert cells(rt_of("", "v1", "pods"), pod) == {
        "Name": "web-1",
        "Ready": "1/2",
        "Status": "Running",
        "Restarts": "3 (5m2s ago)",
        "Age": "120m",
        "IP": "127.244.0.5",
        "Node": "minikube",
        "Nominated Node": "<none>",
        "Readiness Gates": "<none>",
    }


@pytest.mark.parametrize(
    ("status", "deleting", "want"),
    [
        (
            {"phase": "Running", "containerStatuses": [{"ready": True, "state": {"running": {}}}]},
            True,
            "Terminating",
        ),
        ({"phase": "Succeeded"}, True, "Succeeded"),
        ({"phase": "Running", "reason": "NodeLost"}, True, "Unknown"),
        (
            {
                "phase": "Pending",
                "containerStatuses": [{"state": {"waiting": {"reason": "CrashLoopBackOff"}}}],
            },
            False,
            "CrashLoopBackOff",
        ),
        (
            {"phase": "Failed", "containerStatuses": [{"state": {"terminated": {"exitCode": 3}}}]},
            False,
            "ExitCode:3",
        ),
        (
            {
                "phase": "Failed",
                "containerStatuses": [{"state": {"terminated": {"exitCode": 137, "signal": 9}}}],
            },
            False,
            "Signal:9",
        ),
        (
            {
                "phase": "Succeeded",
                "containerStatuses": [
                    {"state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
                ],
            },
            False,
            "Completed",
        ),
        (
            {
                "phase": "Pending",
                "initContainerStatuses": [
                    {"name": "init", "state": {"waiting": {"reason": "PodInitializing"}}}
                ],
            },
            False,
            "Init:0/1",
        ),
        (
            {
                "phase": "Pending",
                "initContainerStatuses": [
                    {"name": "init", "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}
                ],
            },
            False,
            "Init:Error",
        ),
        (
            {
                "phase": "Pending",
                "conditions": [
                    {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
                ],
            },
            False,
            "SchedulingGated",
        ),
        ({}, False, ""),
    ],
)
def test_pod_status(status: dict[str, Any], deleting: bool, want: str) -> None:
    meta: dict[str, Any] = {"name": "p"}
    if deleting:
        meta["deletionTimestamp"] = ago(seconds=3)
    pod = {
        "metadata": meta,
        "spec": {"initContainers": [{"name": "init"}], "containers": [{"name": "c"}]},
        "status": status,
    }
    assert cells(rt_of("", "v1", "pods"), pod)["Status"] == want


def test_terminating_pod_row() -> None:
    pod = {
        "metadata": {
            "name": "old",
            "creationTimestamp": ago(days=3, hours=4),
            "deletionTimestamp": ago(seconds=10),
        },
        "spec": {"containers": [{"name": "app"}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {"name": "app", "ready": True, "restartCount": 0, "state": {"running": {}}}
            ],
        },
    }
    row = cells(rt_of("", "v1", "pods"), pod)
    assert (row["Ready"], row["Status"], row["Restarts"], row["Age"]) == (
        "1/1", "Terminating", "0", "3d4h",
    )  # fmt: skip


def test_sidecars_count_and_completed_pods_are_marked() -> None:
    pod = {
        "metadata": {"name": "job-pod"},
        "spec": {
            "initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
            "containers": [{"name": "main"}],
        },
        "status": {
            "phase": "Succeeded",
            "initContainerStatuses": [
                {
                    "name": "proxy",
                    "started": True,
                    "ready": True,
                    "restartCount": 2,
                    "state": {"running": {}},
                }
            ],
        },
    }
    pods = rt_of("", "v1", "pods")
    row = cells(pods, pod)
    assert (row["Ready"], row["Status"], row["Restarts"]) == ("1/2", "Succeeded", "2")
    table = to_table(pods, [pod], resource_version="1", now=NOW)
    assert table["rows"][0]["conditions"] == [{
        "type": "Completed", "status": "True", "reason": "Succeeded",
        "message": "The pod has completed successfully.",
    }]  # fmt: skip


def test_not_ready_node_with_roles() -> None:
    node = {
        "metadata": {
            "name": "minikube-m02",
            "creationTimestamp": ago(days=10),
            "labels": {
                "node-role.kubernetes.io/control-plane": "",
                "node-role.kubernetes.io/worker": "",
                "kubernetes.io/hostname": "m02",
            },
        },
        "spec": {"unschedulable": True},
        "status": {
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": "False"},
            ],
            "addresses": [
                {"type": "InternalIP", "address": "127.49.0.3"},
                {"type": "Hostname", "address": "minikube-m02"},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.32.0",
                "osImage": "minikube-py",
                "kernelVersion": "6.1.0",
                "containerRuntimeVersion": "process://0.1",
            },
        },
    }
    assert cells(rt_of("", "v1", "nodes"), node) == {
        "Name": "minikube-m02",
        "Status": "NotReady,SchedulingDisabled",
        "Roles": "control-plane,worker",
        "Age": "10d",
        "Version": "v1.32.0",
        "Internal-IP": "127.49.0.3",
        "External-IP": "<none>",
        "OS-Image": "minikube-py",
        "Kernel-Version": "6.1.0",
        "Container-Runtime": "process://0.1",
    }
    bare = cells(rt_of("", "v1", "nodes"), {"metadata": {"name": "n"}})
    assert (bare["Status"], bare["Roles"], bare["OS-Image"]) == ("Unknown", "<none>", "<unknown>")


def test_node_port_service() -> None:
    svc = {
        "metadata": {"name": "web", "creationTimestamp": ago(days=1)},
        "spec": {
            "type": "NodePort",
            "clusterIP": "127.96.0.20",
            "clusterIPs": ["127.96.0.20"],
            "selector": {"app": "web", "tier": "front"},
            "ports": [
                {"port": 80, "nodePort": 30080, "protocol": "TCP"},
                {"port": 53, "protocol": "UDP"},
            ],
        },
    }
    assert cells(rt_of("", "v1", "services"), svc) == {
        "Name": "web",
        "Type": "NodePort",
        "Cluster-IP": "127.96.0.20",
        "External-IP": "<none>",
        "Port(s)": "80:30080/TCP,53/UDP",
        "Age": "24h",
        "Selector": "app=web,tier=front",
    }


def test_service_external_ips() -> None:
    services = rt_of("", "v1", "services")
    pending = {"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "ports": []}}
    assert cells(services, pending)["External-IP"] == "<pending>"
    assert cells(services, pending)["Port(s)"] == "<none>"
    assert cells(services, pending)["Cluster-IP"] == "<none>"
    assigned = {**pending, "status": {"loadBalancer": {"ingress": [{"ip": "127.50.0.2"}]}}}
    assert cells(services, assigned)["External-IP"] == "127.50.0.2"
    external = {
        "metadata": {"name": "db"},
        "spec": {"type": "ExternalName", "externalName": "db.example.com"},
    }
    assert cells(services, external)["External-IP"] == "db.example.com"
