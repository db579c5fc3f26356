"""Shared informers: one cache per (resource, namespace), started, synced and stopped together."""

from __future__ import annotations

import asyncio

from minikube_py.client import CONFIGMAPS, PODS, Client
from minikube_py.controllers import SharedInformers
from tests.client.helpers import configmap
from tests.controllers.stepping import eventually


async def test_one_informer_per_resource_and_namespace(client: Client) -> None:
    informers = SharedInformers(client)
    pods = informers.get(PODS)
    assert informers.get(PODS) is pods
    assert informers.get(PODS, "default") is not pods
    assert informers.get(PODS, "default") is informers.get(PODS, "default")
    assert informers.get(CONFIGMAPS) is not pods
    assert len(informers.informers()) == 3


async def test_start_sync_and_stop(client: Client) -> None:
    await client.create(CONFIGMAPS, "default", configmap("before"))
    informers = SharedInformers(client)
    everywhere = informers.get(CONFIGMAPS)
    in_default = informers.get(CONFIGMAPS, "default")
    informers.start()
    try:
        async with asyncio.timeout(10):
            await informers.wait_synced()
        assert informers.has_synced
        assert everywhere.get("default/before") is not None
        assert in_default.get("default/before") is not None
        # an informer asked for after start() runs from the next start()
        late = informers.get(CONFIGMAPS, "kube-system")
        informers.start()
        await client.create(CONFIGMAPS, "kube-system", configmap("late"))
        await eventually(lambda: late.get("kube-system/late"), "the late informer's cache")
        await eventually(lambda: everywhere.get("kube-system/late"), "the all-namespaces cache")
        assert in_default.get("kube-system/late") is None
    finally:
        await informers.stop()
    await client.create(CONFIGMAPS, "default", configmap("after"))
    await asyncio.sleep(0.05)  # a stopped informer must not see it; nothing to wait for
    assert everywhere.get("default/after") is None
