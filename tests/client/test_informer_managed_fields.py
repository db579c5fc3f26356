"""The informer's cache drops ``managedFields`` (as upstream's controller manager and
scheduler do), unless asked to keep them, and a write from a cached object keeps them."""

from __future__ import annotations

import asyncio

from minikube_py.client import CONFIGMAPS, Client, Informer
from tests.client.helpers import bounded, configmap

NS = "default"


async def cached(informer: Informer, key: str) -> dict[str, object]:
    task = asyncio.create_task(informer.run())
    try:
        await bounded(informer.wait_synced())
        obj = informer.get(key)
        assert obj is not None
        return obj
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_the_cache_drops_managed_fields_unless_asked_to_keep_them(client: Client) -> None:
    await client.create(CONFIGMAPS, NS, configmap("trimmed", {"app": "web"}))
    stored = await client.get(CONFIGMAPS, NS, "trimmed")
    assert stored["metadata"]["managedFields"]  # the server records who wrote what

    trimmed = await cached(Informer(client, CONFIGMAPS, NS), f"{NS}/trimmed")
    assert "managedFields" not in trimmed["metadata"]
    assert trimmed["metadata"]["labels"] == {"app": "web"}  # the rest is whole

    whole = await cached(
        Informer(client, CONFIGMAPS, NS, keep_managed_fields=True), "default/trimmed"
    )
    assert whole["metadata"]["managedFields"] == stored["metadata"]["managedFields"]

    # an update sent from the trimmed copy keeps the stored entries, as upstream
    trimmed["data"] = {"key": "changed"}
    updated = await client.update(CONFIGMAPS, NS, trimmed)
    managers = {entry["manager"] for entry in updated["metadata"]["managedFields"]}
    assert {entry["manager"] for entry in stored["metadata"]["managedFields"]} <= managers
