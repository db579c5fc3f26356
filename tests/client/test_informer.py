"""The informer: against a real cluster through both clients, and with a scripted fake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from minikube_py.client import CONFIGMAPS, NAMESPACES, ApiError, Client, Informer, object_key
from tests.client.helpers import bounded, configmap

NS = "default"
Event = tuple[str, str]  # (handler, key)


def recording(informer: Informer) -> asyncio.Queue[Event]:
    """Handlers that only enqueue, as a controller's do."""
    queue: asyncio.Queue[Event] = asyncio.Queue()
    informer.on_add(lambda obj: queue.put_nowait(("add", object_key(obj))))
    informer.on_update(lambda old, new: queue.put_nowait(("update", object_key(new))))
    informer.on_delete(lambda obj: queue.put_nowait(("delete", object_key(obj))))
    return queue


async def with_informer(informer: Informer, body: Callable[[], Awaitable[None]]) -> None:
    """Run ``body`` while the informer runs; the informer must not have stopped by itself."""
    task = asyncio.create_task(informer.run())
    try:
        await body()
        assert not task.done()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_informer_syncs_and_follows_changes(client: Client) -> None:
    await client.create(CONFIGMAPS, NS, configmap("a", {"app": "web"}))
    await client.create(CONFIGMAPS, "kube-system", configmap("b", {"app": "web"}))
    informer = Informer(client, CONFIGMAPS)
    events = recording(informer)
    assert not informer.has_synced

    async def body() -> None:
        await bounded(informer.wait_synced())
        assert informer.has_synced
        initial = {await bounded(events.get()), await bounded(events.get())}
        assert ("add", "default/a") in initial and ("add", "kube-system/b") in initial
        assert [o["metadata"]["name"] for o in informer.by_label("app", "web")] == ["a", "b"]
        assert [o["metadata"]["name"] for o in informer.by_namespace("kube-system")] == ["b"]

        await client.create(CONFIGMAPS, NS, configmap("c", {"app": "db"}))
        assert await bounded(events.get()) == ("add", "default/c")
        await client.patch(CONFIGMAPS, NS, "a", {"metadata": {"labels": {"app": "db"}}})
        assert await bounded(events.get()) == ("update", "default/a")
        assert [o["metadata"]["name"] for o in informer.by_label("app", "db")] == ["a", "c"]
        assert [o["metadata"]["name"] for o in informer.by_label("app", "web")] == ["b"]
        await client.delete(CONFIGMAPS, "kube-system", "b")
        assert await bounded(events.get()) == ("delete", "kube-system/b")
        assert informer.by_label("app", "web") == []
        assert informer.by_namespace("kube-system") == []
        assert informer.get("default/c") is not None
        assert informer.get("kube-system/b") is None

    await with_informer(informer, body)


async def test_informer_of_cluster_scoped_objects_keys_by_name(client: Client) -> None:
    informer = Informer(client, NAMESPACES, label_selector="team")
    events = recording(informer)

    async def body() -> None:
        await bounded(informer.wait_synced())
        assert len(informer) == 0
        await client.create(NAMESPACES, None, {"metadata": {"name": "t1", "labels": {"team": "x"}}})
        assert await bounded(events.get()) == ("add", "t1")
        assert informer.keys() == ["t1"]
        assert [o["metadata"]["name"] for o in informer.by_namespace("")] == ["t1"]

    await with_informer(informer, body)


def cm(name: str, version: int) -> dict[str, Any]:
    obj = configmap(name)
    obj["metadata"].update(namespace=NS, resourceVersion=str(version))
    return obj


class ScriptedClient:
    """Answers lists from a script; each watch plays the next script entry.

    A watch entry is a list of events, optionally ending in an exception to raise. Once the
    script is played out, a watch sets ``idle`` and waits until the informer is cancelled.
    """

    def __init__(self, lists: list[list[dict[str, Any]]], watches: list[list[Any]]) -> None:
        self.lists = lists
        self.watches = watches
        self.list_calls = 0
        self.watched_from: list[str] = []
        self.idle = asyncio.Event()

    async def list(self, gvr: Any, namespace: Any = None, **options: Any) -> dict[str, Any]:
        items = self.lists[min(self.list_calls, len(self.lists) - 1)]
        self.list_calls += 1
        version = max((int(i["metadata"]["resourceVersion"]) for i in items), default=1)
        return {
            "kind": "ConfigMapList",
            "metadata": {"resourceVersion": str(version)},
            "items": items,
        }

    async def watch(
        self, gvr: Any, namespace: Any = None, *, resource_version: str = "", **options: Any
    ) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
        self.watched_from.append(resource_version)
        script = self.watches.pop(0) if self.watches else None
        if script is None:
            self.idle.set()
            await asyncio.Event().wait()
            return
        for step in script:
            if isinstance(step, BaseException):
                raise step
            yield step


async def test_informer_relists_after_410_and_reports_the_difference() -> None:
    first = [cm("kept", 5), cm("changed", 6), cm("removed", 7)]
    second = [cm("kept", 5), cm("changed", 9), cm("new", 10)]
    expired = ApiError(410, "Expired", "too old resource version: 7 (8)")
    fake = ScriptedClient([first, second], [[("ADDED", cm("seen", 8)), expired]])
    informer = Informer(fake, CONFIGMAPS)  # type: ignore[arg-type]
    events = recording(informer)

    async def body() -> None:
        got = [await bounded(events.get()) for _ in range(8)]
        assert got[:4] == [
            ("add", "default/kept"),
            ("add", "default/changed"),
            ("add", "default/removed"),
            ("add", "default/seen"),
        ]
        # after the 410: one list, then the differences: two deletes, an update, an add
        assert sorted(got[4:]) == [
            ("add", "default/new"),
            ("delete", "default/removed"),
            ("delete", "default/seen"),
            ("update", "default/changed"),
        ]
        await bounded(fake.idle.wait())
        assert fake.list_calls == 2
        assert sorted(informer.keys()) == ["default/changed", "default/kept", "default/new"]
        assert fake.watched_from == ["7", "10"]

    await with_informer(informer, body)


async def test_informer_rewatches_from_the_last_version_when_a_stream_ends() -> None:
    fake = ScriptedClient([[cm("a", 3)]], [[("MODIFIED", cm("a", 4))], []])
    informer = Informer(fake, CONFIGMAPS)  # type: ignore[arg-type]
    events = recording(informer)

    async def body() -> None:
        assert await bounded(events.get()) == ("add", "default/a")
        assert await bounded(events.get()) == ("update", "default/a")
        await bounded(fake.idle.wait())
        assert fake.watched_from == ["3", "4", "4"]
        assert fake.list_calls == 1

    await with_informer(informer, body)


async def test_informer_retries_other_failures_and_survives_handler_errors() -> None:
    failing = ApiError(500, "InternalError", "boom")
    fake = ScriptedClient([[cm("a", 3)]], [[failing]])
    informer = Informer(fake, CONFIGMAPS, max_backoff=0.01)  # type: ignore[arg-type]

    def broken(obj: dict[str, Any]) -> None:
        raise RuntimeError("handler bug")

    informer.on_add(broken)
    events = recording(informer)

    async def body() -> None:
        assert await bounded(events.get()) == ("add", "default/a")
        await bounded(informer.wait_synced())
        await bounded(fake.idle.wait())
        assert fake.list_calls == 2
        assert informer.keys() == ["default/a"]
        assert events.empty()  # relisting an unchanged object reports nothing

    await with_informer(informer, body)
