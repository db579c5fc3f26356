"""Emptying a deleted namespace, until the namespace controller takes the job over.

Deleting a namespace marks it ``Terminating``; something must then delete everything in it
and finally the namespace itself. Upstream that is the namespace controller in the controller
manager, and that is where this work moves when the controllers land. Until then the API
server does it itself, in the background: delete every namespaced object in the namespace,
wait until those with finalizers are gone too, then remove the namespace.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from minikube_py.api import errors
from minikube_py.apiserver.listing import ListOptions
from minikube_py.logs import get_logger

if TYPE_CHECKING:
    from minikube_py.apiserver.storage import Storage

_log = get_logger("apiserver")
_PATIENCE_SECONDS = 120.0


async def empty_namespace(storage: Storage, name: str) -> None:
    namespaces = storage.registry.get("", "v1", "namespaces")
    assert namespaces is not None
    delay, waited = 0.05, 0.0
    while waited < _PATIENCE_SECONDS:
        remaining = 0
        for rt in storage.registry:
            if not rt.namespaced or "delete" not in rt.verbs or "list" not in rt.verbs:
                continue
            for item in (await storage.list(rt, name, ListOptions()))["items"]:
                remaining += 1
                if item["metadata"].get("deletionTimestamp"):
                    continue  # its finalizers are running
                try:
                    await storage.delete(rt, name, item["metadata"]["name"])
                except errors.ApiError as error:
                    if error.code not in (404, 409):
                        raise
        if remaining == 0:
            break
        await asyncio.sleep(delay)  # objects with finalizers: give their owners time
        waited += delay
        delay = min(delay * 2, 2.0)
    try:
        current = await storage.get(namespaces, None, name)
        await storage.finalize(namespaces, current)
        _log.info("namespace deleted", key=name)
    except errors.ApiError as error:
        if error.code != 404:
            _log.warning("namespace deletion failed", key=name, error=error.message)
