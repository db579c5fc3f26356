"""Watches through both clients: replay from a version, live events, selectors, 410."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

from minikube_py.client import CONFIGMAPS, ApiError, Client
from tests.client.helpers import bounded, configmap

if TYPE_CHECKING:
    from minikube_py.cluster import RunningCluster

NS = "default"


async def take(events: AsyncIterator[tuple[str, dict[str, Any]]], count: int) -> list[Any]:
    """The next ``count`` events as (type, name, data), each within the test's bound."""
    taken = []
    for _ in range(count):
        event_type, obj = await bounded(anext(events))
        taken.append((event_type, obj["metadata"]["name"], obj.get("data")))
    return taken


async def test_watch_replays_added_modified_deleted(client: Client) -> None:
    start = (await client.list(CONFIGMAPS, NS))["metadata"]["resourceVersion"]
    await client.create(CONFIGMAPS, NS, configmap("w", step="1"))
    await client.patch(CONFIGMAPS, NS, "w", {"data": {"step": "2"}})
    await client.delete(CONFIGMAPS, NS, "w")

    async with contextlib.aclosing(client.watch(CONFIGMAPS, NS, resource_version=start)) as ev:
        assert await take(ev, 3) == [
            ("ADDED", "w", {"step": "1"}),
            ("MODIFIED", "w", {"step": "2"}),
            ("DELETED", "w", {"step": "2"}),
        ]


async def test_watch_from_now_lists_first_then_streams_live(client: Client) -> None:
    await client.create(CONFIGMAPS, NS, configmap("before"))
    async with contextlib.aclosing(client.watch(CONFIGMAPS, NS)) as events:
        initial = await take(events, 1)
        assert initial == [("ADDED", "before", None)]
        # the subscription exists once the first event arrived: these are live events
        await client.create(CONFIGMAPS, NS, configmap("after"))
        await client.delete(CONFIGMAPS, NS, "before")
        assert await take(events, 2) == [("ADDED", "after", None), ("DELETED", "before", None)]


async def test_watch_resource_versions_are_resumable(client: Client) -> None:
    start = (await client.list(CONFIGMAPS, NS))["metadata"]["resourceVersion"]
    for name in ("a", "b", "c"):
        await client.create(CONFIGMAPS, NS, configmap(name))
    async with contextlib.aclosing(client.watch(CONFIGMAPS, NS, resource_version=start)) as ev:
        _, first = await bounded(anext(ev))
    resumed = client.watch(CONFIGMAPS, NS, resource_version=first["metadata"]["resourceVersion"])
    async with contextlib.aclosing(resumed) as ev:
        assert [name for _, name, _ in await take(ev, 2)] == ["b", "c"]


async def test_watch_applies_selectors_per_event(client: Client) -> None:
    start = (await client.list(CONFIGMAPS, NS))["metadata"]["resourceVersion"]
    await client.create(CONFIGMAPS, NS, configmap("x", {"app": "web"}))
    await client.create(CONFIGMAPS, NS, configmap("y", {"app": "db"}))
    await client.patch(CONFIGMAPS, NS, "x", {"metadata": {"labels": {"app": "db"}}})
    await client.patch(CONFIGMAPS, NS, "y", {"metadata": {"labels": {"app": "web"}}})
    watched = client.watch(CONFIGMAPS, NS, resource_version=start, label_selector="app=web")
    async with contextlib.aclosing(watched) as events:
        taken = [(kind, name) for kind, name, _ in await take(events, 3)]
    # x stops matching (DELETED), y starts matching (ADDED)
    assert taken == [("ADDED", "x"), ("DELETED", "x"), ("ADDED", "y")]


async def test_watch_ends_after_timeout_seconds(client: Client) -> None:
    events = [e async for e in client.watch(CONFIGMAPS, "kube-public", timeout_seconds=1)]
    assert events == []


async def test_watch_from_a_forgotten_version_raises_410(
    client: Client, cluster: RunningCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A watch cache that forgets an event with every new one once past its capacity (it drops
    # one event per write, so the bootstrap events already in it take a few writes to go).
    monkeypatch.setattr(cluster.api_server.cache, "_capacity", 2)
    created = await client.create(CONFIGMAPS, NS, configmap("busy"))
    version = created["metadata"]["resourceVersion"]
    async with contextlib.aclosing(client.watch(CONFIGMAPS, NS, resource_version=version)) as ev:
        for step in range(20):
            await client.patch(CONFIGMAPS, NS, "busy", {"data": {"step": str(step)}})
            await take(ev, 1)  # the cache has recorded the write
    with pytest.raises(ApiError) as caught:
        async with contextlib.aclosing(
            client.watch(CONFIGMAPS, NS, resource_version=version)
        ) as ev:
            await bounded(anext(ev))
    assert (caught.value.code, caught.value.reason) == (410, "Expired")


async def test_watch_errors_before_streaming(client: Client) -> None:
    with pytest.raises(ApiError) as caught:
        await bounded(anext(client.watch(CONFIGMAPS, NS, resource_version="abc")))
    assert caught.value.code == 400
    with pytest.raises(ApiError) as caught:
        await bounded(anext(client.watch(CONFIGMAPS, NS, label_selector="a in (b")))
    assert caught.value.code == 400
