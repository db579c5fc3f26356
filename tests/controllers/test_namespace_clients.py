"""The two client methods the namespace controller added, through both clients against one
real cluster: discovery of the served resources, and a namespace's ``finalize``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from minikube_py.client import NAMESPACES, ApiError, Client, HttpClient
from tests.client.helpers import in_process_client
from tests.clusters import ephemeral_config

if TYPE_CHECKING:
    from minikube_py.cluster import RunningCluster


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[RunningCluster]:
    from minikube_py.cluster import running_cluster

    async with running_cluster(ephemeral_config(tmp_path)) as running:
        yield running


async def test_both_clients_discover_the_same_preferred_resources_and_finalize(
    cluster: RunningCluster,
) -> None:
    assert cluster.kubeconfig is not None
    local: Client = in_process_client(cluster)
    http: Client = HttpClient.from_kubeconfig(cluster.kubeconfig)
    try:
        seen = await http.server_preferred_resources()
        assert seen == await local.server_preferred_resources()
        by_version = {listed["groupVersion"]: listed for listed in seen}
        assert "v1" in by_version and "apps/v1" in by_version
        pods = next(r for r in by_version["v1"]["resources"] if r["name"] == "pods")
        assert pods["namespaced"] and "delete" in pods["verbs"]
        assert any(r["name"] == "namespaces/finalize" for r in by_version["v1"]["resources"])

        for name, client in (("by-http", http), ("in-process", local)):
            # a finalizer of our own holds it, whatever a namespace controller does
            held = {"metadata": {"name": name}, "spec": {"finalizers": ["example.com/hold"]}}
            await client.create(NAMESPACES, None, held)
            await client.delete(NAMESPACES, None, name)
            namespace = await client.get(NAMESPACES, None, name)
            assert namespace["status"]["phase"] == "Terminating"
            namespace["spec"]["finalizers"] = []
            await client.finalize_namespace(namespace)
            with pytest.raises(ApiError) as gone:
                await client.get(NAMESPACES, None, name)
            assert gone.value.code == 404
    finally:
        await http.close()
