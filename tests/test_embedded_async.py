"""``AsyncCluster`` on the test's own loop: the same verbs as ``Cluster``, awaited."""

from __future__ import annotations

import asyncio

import pytest

from minikube_py import ApiError, AsyncCluster, ClusterError


async def test_an_async_cluster_applies_waits_and_stops_on_the_callers_loop() -> None:
    async with AsyncCluster(runtime="fake") as cluster:
        assert cluster.kubeconfig.is_file()
        manifest = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: nginx}]
"""
        await cluster.apply(manifest)
        ready = await cluster.wait_for(
            "deploy/api", lambda d: d.get("status", {}).get("readyReplicas") == 2, timeout=60
        )
        assert ready is not None
        pods = await cluster.list("pods", "default", label_selector="app=api")
        assert len(pods) == 2
        assert {p["spec"]["nodeName"] for p in pods} == {"minikube"}
        # the in-process client is there for what the verbs do not cover
        resource = await cluster.resource("deploy")
        scale = await cluster.client.get(resource.gvr, "default", "api")
        assert scale["spec"]["replicas"] == 2
        with pytest.raises(ApiError) as error:
            await cluster.get("deployments", "missing")
        assert error.value.reason == "NotFound"
        directory = cluster.directory
    assert not directory.exists()
    with pytest.raises(ClusterError, match="not running"):
        await cluster.get("pods", "x")


async def test_two_async_clusters_start_at_once_on_one_loop() -> None:
    async with AsyncCluster(runtime="fake") as a, AsyncCluster(runtime="fake") as b:
        nodes = await asyncio.gather(a.list("nodes"), b.list("nodes"))
        addresses = [
            {x["address"] for x in n[0]["status"]["addresses"] if x["type"] == "InternalIP"}
            for n in nodes
        ]
        assert addresses[0] != addresses[1]
        await a.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "only-a"}})
        assert [n["metadata"]["name"] for n in await b.list("ns")].count("only-a") == 0


async def test_an_unknown_addon_fails_the_start_and_leaves_nothing() -> None:
    cluster = AsyncCluster(addons=("no-such-addon",))
    with pytest.raises(ClusterError):
        async with cluster:
            pytest.fail("started with an unknown addon")
