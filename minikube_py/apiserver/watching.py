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

import json
import random
import time
from typing import Any

from aiohttp import web

from minikube_py.api import errors
from minikube_py.api.resources import ResourceType
from minikube_py.api.tables import to_table
from minikube_py.apiserver import decoding
from minikube_py.apiserver.listing import Filter, ListOptions
from minikube_py.apiserver.objects import Object, decode, prefix
from minikube_py.apiserver.storage import Storage
from minikube_py.apiserver.watchcache import WatchCache
from minikube_py.store import EventType, Expired, WatchEvent

_BOOKMARK_SECONDS = 30.0


def _line(event_type: str, obj: Object) -> bytes:
    return json.dumps({"type": event_type, "object": obj}, separators=(",", ":")).encode() + b"\n"


def to_api_event(event: WatchEvent, selection: Filter) -> tuple[str, Object] | None:
    """The watch event a client with ``selection`` sees for a store event, if any."""
    new = decode(event.value, event.revision) if event.value is not None else None
    old = decode(event.prev_value, event.revision) if event.prev_value is not None else None
    new_matches = new is not None and selection.matches(new)
    old_matches = old is not None and selection.matches(old)
    if event.type is EventType.DELETED:
        return ("DELETED", old) if old is not None and old_matches else None
    assert new is not None
    if event.type is EventType.ADDED or not old_matches:
        return ("ADDED", new) if new_matches else None
    return ("MODIFIED", new) if new_matches else ("DELETED", new)


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
    options = decoding.list_options(query)
    selection = Filter.build(rt, options)
    timeout = decoding.integer(query, "timeoutSeconds", default=random.randint(1800, 3600))
    bookmarks = decoding.flag(query, "allowWatchBookmarks")
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
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    try:
        subscriber = cache.subscribe(prefix(rt, namespace), after)
    except Expired as error:
        await response.prepare(request)
        gone = errors.gone(f"too old resource version: {after} ({error.compacted})")
        await response.write(_line("ERROR", gone.status()))
        await response.write_eof()
        return response
    await response.prepare(request)
    first = True

    def render(obj: Object) -> Object:
        nonlocal first
        if not table:
            return obj
        rendered = to_table(
            rt,
            [obj],
            resource_version=obj["metadata"].get("resourceVersion", ""),
            with_column_definitions=first,
        )
        first = False
        return rendered

    deadline = time.monotonic() + timeout
    try:
        for obj in initial:
            await response.write(_line("ADDED", render(obj)))
        while (left := deadline - time.monotonic()) > 0:
            event = await subscriber.next(wait_seconds=min(left, _BOOKMARK_SECONDS))
            if event is None:
                if subscriber.closed:
                    break
                if bookmarks and deadline - time.monotonic() > 0:
                    await response.write(_line("BOOKMARK", _bookmark(rt, subscriber.revision)))
                continue
            shown = to_api_event(event, selection)
            if shown is not None:
                await response.write(_line(shown[0], render(shown[1])))
        await response.write_eof()
    except (ConnectionResetError, ConnectionError):
        pass  # the client went away
    finally:
        subscriber.close()
    return response


def _bookmark(rt: ResourceType, revision: int) -> dict[str, Any]:
    return {
        "kind": rt.kind,
        "apiVersion": rt.api_version,
        "metadata": {"resourceVersion": str(revision)},
    }
