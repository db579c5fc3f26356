"""Kinds served in two versions share one storage: each version sees the same objects."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from minikube_py.api.catalog import builtin_registry
from minikube_py.api.conversion import from_storage, to_storage
from minikube_py.apiserver.listing import ListOptions
from minikube_py.apiserver.storage import Storage
from tests.clusters import bootstrapped_storage

REGISTRY = builtin_registry()
HPA1 = REGISTRY.get("autoscaling", "v1", "horizontalpodautoscalers")
HPA2 = REGISTRY.get("autoscaling", "v2", "horizontalpodautoscalers")
EVENT = REGISTRY.get("", "v1", "events")
EVENT2 = REGISTRY.get("events.k8s.io", "v1", "events")
assert HPA1 and HPA2 and EVENT and EVENT2

TARGET = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}


@pytest.fixture
async def storage() -> AsyncIterator[Storage]:
    async with bootstrapped_storage(REGISTRY) as storage:
        yield storage


async def test_an_hpa_written_as_v1_reads_as_v2_and_back(storage: Storage) -> None:
    v1 = {
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": TARGET, "maxReplicas": 5, "targetCPUUtilizationPercentage": 70},
    }
    await storage.create(HPA1, "default", v1)
    as_v2 = await storage.get(HPA2, "default", "web")
    assert as_v2["apiVersion"] == "autoscaling/v2"
    assert as_v2["spec"]["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 70},
            },
        }
    ]
    assert "targetCPUUtilizationPercentage" not in as_v2["spec"]
    listed = await storage.list(HPA1, "default", ListOptions())
    assert listed["items"][0]["spec"]["targetCPUUtilizationPercentage"] == 70
    assert listed["items"][0]["apiVersion"] == "autoscaling/v1"


def test_v2_metrics_v1_cannot_express_survive_a_round_trip() -> None:
    memory = {
        "type": "Resource",
        "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}},
    }
    stored = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": TARGET,
            "maxReplicas": 3,
            "metrics": [memory],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}},
        },
    }
    v1 = from_storage(HPA1, stored)
    assert "metrics" not in v1["spec"] and "behavior" not in v1["spec"]
    assert to_storage(HPA1, v1) == stored


async def test_core_events_are_events_k8s_io_events(storage: Storage) -> None:
    core = {
        "metadata": {"name": "e1"},
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
        "reason": "Scheduled",
        "message": "assigned default/web to minikube",
        "type": "Normal",
        "reportingComponent": "default-scheduler",
    }
    await storage.create(EVENT, "default", core)
    seen = await storage.get(EVENT2, "default", "e1")
    assert seen["apiVersion"] == "events.k8s.io/v1"
    assert seen["regarding"]["name"] == "web" and seen["note"].startswith("assigned")
    assert seen["reportingController"] == "default-scheduler"
    assert "message" not in seen and "involvedObject" not in seen
    assert (await storage.get(EVENT, "default", "e1"))["message"] == core["message"]
