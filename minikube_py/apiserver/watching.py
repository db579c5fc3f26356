"""Serving watches: a chunked stream of ``{"type": ..., "object": ...}`` lines.

A watch starts at a ``resourceVersion``. Unset or ``0`` means "everything now, then changes":
the current objects are sent as synthetic ADDED events first. A number means "changes after
it", served from the shared watch cache; one older than the cache's window gets an ERROR event
carrying a 410 ``Expired`` Status, and the client lists again. Selectors are applied per event
as upstream's cacher does: an object that *stops* matching is sent as DELETED, one that starts
matching as ADDED. ``timeoutSeconds`` closes the stream; ``allowWatchBookmarks`` adds
BOOKMARK events carrying only a revision, so a quiet client's resume point stays fresh.
"""

from __future__ import annotations

import contextlib
import functools
import random
import time
from collections import deque
from typing import Any

from aiohttp import web

from minikube_py.api import errors
from minikube_py.api.conversion import from_storage
from minikube_py.api.field_selectors import object_fields
from minikube_py.api.resources import ResourceType
from minikube_py.api.tables import to_table
from minikube_py.apiserver import decoding
from minikube_py.apiserver.listing import Filter, ListOptions
from minikube_py.apiserver.objects import Object, decode, dump_json, prefix
from minikube_py.apiserver.storage import Storage
from minikube_py.apiserver.watchcache import Subscriber, WatchCache
from minikube_py.store import EventType, Expired, WatchEvent

_BOOKMARK_SECONDS = 30.0


def _line(event_type: str, obj: Object) -> bytes:
    return dump_json({"type": event_type, "object": obj}) + b"\n"


def to_api_event(
    event: WatchEvent, selection: Filter, rt: ResourceType | None = None
) -> tuple[str, Object] | None:
    """The watch event a client with ``selection`` sees for a store event, if any (in ``rt``'s
    version when given)."""

    def shown(value: bytes | None) -> Object | None:
        if value is None:
            return None
        obj = decode(value, event.revision)
        return from_storage(rt, obj) if rt is not None else obj

    if selection.everything:  # most watchers: no need to look at the object before
        if event.type is EventType.DELETED:
            old = shown(event.prev_value)
            return ("DELETED", old) if old is not None else None
        new = shown(event.value)
        assert new is not None
        return ("ADDED" if event.type is EventType.ADDED else "MODIFIED", new)
    # Selective watchers (a kubelet's pods on its node) see every event of the resource but
    # keep few: they test a copy decoded once for all of them, and decode their own copy
    # only for what they keep.
    new_matches = event.value is not None and _selected(selection, event, event.value)
    old_matches = event.prev_value is not None and _selected(selection, event, event.prev_value)
    if event.type is EventType.DELETED:
        return ("DELETED", shown(event.prev_value) or {}) if old_matches else None
    if event.type is EventType.ADDED or not old_matches:
        return ("ADDED", shown(event.value) or {}) if new_matches else None
    if new_matches:
        return ("MODIFIED", shown(event.value) or {})
    return ("DELETED", shown(event.prev_value) or {})  # it left the selection: upstream
    # sends its last matching state


# What selective watchers test of a stored object — its labels and selectable fields — made
# once for all of them (three kubelets' ``spec.nodeName`` watches test each pod) and kept
# without the object: {id of the stored bytes: (bytes, labels, fields)}, the newest few hundred.
_PEEKED: dict[int, tuple[bytes, dict[str, str], dict[str, str]]] = {}
_PEEK_KEEP = 512


def _selected(selection: Filter, event: WatchEvent, value: bytes) -> bool:
    found = _PEEKED.get(id(value))
    if found is None or found[0] is not value:
        obj: Object = decode(value, event.revision)
        labels = (obj.get("metadata") or {}).get("labels") or {}
        if len(_PEEKED) >= _PEEK_KEEP:
            del _PEEKED[next(iter(_PEEKED))]
        # the bytes are held so that their id stays theirs
        found = _PEEKED[id(value)] = (value, labels, object_fields(selection.kind, obj))
    return selection.selects(found[1], found[2])


class WatchStream:
    """A watch as ``(type, object)`` pairs: what HTTP streams and the in-process client yield.

    Opened by ``open_watch``, which checks everything before returning, so a bad request is
    an error before the first byte of a stream. Close it (``contextlib.aclosing``) to leave
    the cache.
    """

    def __init__(
        self,
        rt: ResourceType,
        selection: Filter,
        *,
        initial: list[Object],
        subscriber: Subscriber | None,
        error: Object | None = None,
        timeout_seconds: float | None,
        bookmarks: bool,
    ) -> None:
        self._rt = rt
        self._selection = selection
        self._pending: deque[tuple[str, Object]] = deque(("ADDED", obj) for obj in initial)
        if error is not None:
            self._pending.append(("ERROR", error))
        self._subscriber = subscriber
        self._deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        self._bookmarks = bookmarks

    def __aiter__(self) -> WatchStream:
        return self

    async def __anext__(self) -> tuple[str, Object]:
        if self._pending:
            return self._pending.popleft()
        subscriber = self._subscriber
        while subscriber is not None:
            left = None if self._deadline is None else self._deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            wait = _BOOKMARK_SECONDS if left is None else min(left, _BOOKMARK_SECONDS)
            event = await subscriber.next(wait_seconds=wait)
            if event is None:
                if subscriber.closed:
                    break
                if self._bookmarks:
                    return "BOOKMARK", _bookmark(self._rt, subscriber.revision)
                continue
            visible = to_api_event(event, self._selection, self._rt)
            if visible is not None:
                return visible
        await self.aclose()
        raise StopAsyncIteration

    async def aclose(self) -> None:
        if self._subscriber is not None:
            self._subscriber.close()
            self._subscriber = None


async def open_watch(
    storage: Storage,
    cache: WatchCache,
    rt: ResourceType,
    namespace: str | None,
    options: ListOptions,
    *,
    timeout_seconds: float | None,
    bookmarks: bool = False,
) -> WatchStream:
    """Start a watch: synthetic ADDED events first when no revision is given, then changes."""
    selection = Filter.build(rt, options)
    initial: list[Object] = []
    if options.resource_version in ("", "0"):
        listed = await storage.list(
            rt, namespace, ListOptions(options.label_selector, options.field_selector)
        )
        after, initial = int(listed["metadata"]["resourceVersion"]), listed["items"]
    else:
        try:
            after = int(options.resource_version)
        except ValueError:
            raise errors.bad_request(
                f"invalid resource version: {options.resource_version}"
            ) from None
        await storage.lister.check_not_future(after)
    stream = functools.partial(
        WatchStream, rt, selection, timeout_seconds=timeout_seconds, bookmarks=bookmarks
    )
    try:
        subscriber = cache.subscribe(prefix(rt, namespace), after)
    except Expired as error:
        gone = errors.gone(f"too old resource version: {after} ({error.compacted})")
        return stream(initial=[], subscriber=None, error=gone.status())
    return stream(initial=initial, subscriber=subscriber)


async def serve_watch(
    request: web.Request,
    storage: Storage,
    cache: WatchCache,
    rt: ResourceType,
    namespace: str | None,
    *,
    table: bool,
) -> web.StreamResponse:
    query = request.query
    stream = await open_watch(
        storage,
        cache,
        rt,
        namespace,
        decoding.list_options(query),
        timeout_seconds=decoding.integer(
            query, "timeoutSeconds", default=random.randint(1800, 3600)
        ),
        bookmarks=decoding.flag(query, "allowWatchBookmarks"),
    )
    first = True

    def render(event_type: str, obj: Object) -> Object:
        nonlocal first
        if not table or event_type in ("ERROR", "BOOKMARK"):
            return obj
        rendered = to_table(
            rt,
            [obj],
            resource_version=obj["metadata"].get("resourceVersion", ""),
            with_column_definitions=first,
        )
        first = False
        return rendered

    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    async with contextlib.aclosing(stream):
        await response.prepare(request)
        try:
            async for event_type, obj in stream:
                await response.write(_line(event_type, render(event_type, obj)))
            await response.write_eof()
        except (ConnectionResetError, ConnectionError):
            pass  # the client went away
    return response


def _bookmark(rt: ResourceType, revision: int) -> dict[str, Any]:
    return {
        "kind": rt.kind,
        "apiVersion": rt.api_version,
        "metadata": {"resourceVersion": str(revision)},
    }
