"""The root CA publisher: ``kube-root-ca.crt`` in every namespace, kept as the cluster's CA."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from minikube_py.client import ApiError, Client
from minikube_py.client.protocol import CONFIGMAPS, NAMESPACES
from minikube_py.controllers import ControllerManager
from minikube_py.controllers.rootca import RootCACertPublisher
from tests.controllers.stepping import SteppingClock, eventually

CA = "-----BEGIN CERTIFICATE-----\nY2x1c3Rlcg==\n-----END CERTIFICATE-----\n"
DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters."
)


@contextlib.asynccontextmanager
async def running(client: Client, clock: SteppingClock) -> AsyncIterator[None]:
    controller = RootCACertPublisher(client, CA, clock=clock)
    task = asyncio.ensure_future(ControllerManager(client, [controller]).run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def published(client: Client, namespace: str) -> dict[str, Any] | None:
    """The ConfigMap if it holds the CA with upstream's description, else None."""
    try:
        config_map = await client.get(CONFIGMAPS, namespace, "kube-root-ca.crt")
    except ApiError as error:
        assert error.code == 404
        return None
    annotations = config_map["metadata"].get("annotations") or {}
    if config_map.get("data") != {"ca.crt": CA}:
        return None
    return config_map if annotations.get("kubernetes.io/description") == DESCRIPTION else None


async def test_every_namespace_gets_the_ca(client: Client, clock: SteppingClock) -> None:
    async with running(client, clock):
        await client.create(NAMESPACES, None, {"metadata": {"name": "team-a"}})
        for namespace in ("team-a", "default", "kube-system", "kube-public", "kube-node-lease"):
            await eventually(lambda ns=namespace: published(client, ns), f"the CA in {namespace}")


async def test_a_deleted_config_map_comes_back(client: Client, clock: SteppingClock) -> None:
    async with running(client, clock):
        await eventually(lambda: published(client, "default"), "the CA published")
        await client.delete(CONFIGMAPS, "default", "kube-root-ca.crt")
        await eventually(lambda: published(client, "default"), "the CA published again")


async def test_a_changed_config_map_is_put_back_keeping_other_metadata(
    client: Client, clock: SteppingClock
) -> None:
    async with running(client, clock):
        current = await eventually(lambda: published(client, "default"), "the CA published")
        current["data"] = {"ca.crt": "forged", "extra": "x"}
        current["metadata"]["labels"] = {"mine": "yes"}
        current["metadata"]["annotations"]["kubernetes.io/description"] = "changed"
        await client.update(CONFIGMAPS, "default", current)
        restored = await eventually(lambda: published(client, "default"), "the CA restored")
        assert restored["data"] == {"ca.crt": CA}
        assert restored["metadata"]["labels"] == {"mine": "yes"}
