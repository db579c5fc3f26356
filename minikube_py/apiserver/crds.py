"""The CRD controller: CustomResourceDefinitions turned into served resources, and back.

Upstream's apiextensions-apiserver runs a few small controllers next to its handlers; this
one does their work for a CRD:

- *naming*: the CRD's plural and kind must not clash with another resource of its group;
  then ``status.acceptedNames`` is its names and ``NamesAccepted`` is ``True``
  (``NoConflicts``), else ``False`` (``PluralConflict`` / ``KindConflict``, ``"x" is already
  in use``) and nothing is served;
- *establishing*: each served version is registered (routing, discovery, OpenAPI and storage
  all read the registry), then ``Established`` is ``True`` (``InitialNamesAccepted``); a
  version no longer served, or a CRD gone, is unregistered;
- *finalizing*: deleting a CRD only marks it (the server adds the finalizer
  ``customresourcecleanup.apiextensions.k8s.io``); the controller sets ``Terminating``,
  deletes every object of the resource, waits for their own finalizers, then removes its
  finalizer so the CRD goes.

It learns of changes from the watch cache (a listener only marks a CRD dirty; one task works
through the dirty ones in order), and syncs every stored CRD before the server serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from typing import Any

import attrs

from minikube_py.api import errors
from minikube_py.api.customresources import (
    CLEANUP_FINALIZER,
    CRD_GROUP,
    CustomResourceType,
    types_from_crd,
)
from minikube_py.api.stamps import now_rfc3339
from minikube_py.apiserver.listing import ListOptions
from minikube_py.apiserver.objects import Object, prefix
from minikube_py.apiserver.storage import Storage
from minikube_py.apiserver.watchcache import WatchCache
from minikube_py.logs import get_logger
from minikube_py.store import WatchEvent

_log = get_logger("apiserver")
_PATIENCE_SECONDS = 120.0


class CrdController:
    """Keeps the registry's custom resources in step with the stored CRDs."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        crds = storage.registry.get(CRD_GROUP, "v1", "customresourcedefinitions")
        assert crds is not None
        self._crds = crds
        self._served: dict[str, list[CustomResourceType]] = {}  # CRD name -> its types
        self._generations: dict[str, int] = {}  # CRD name -> the generation served
        self._refused: set[str] = set()  # CRDs whose names clash: retried when one goes
        self._dirty: dict[str, None] = {}  # ordered set of CRD names to sync
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, cache: WatchCache) -> None:
        """Follow CRD changes, and serve every stored CRD's resources before returning."""
        cache.add_listener(prefix(self._crds, None), self._note)
        listed = await self._storage.list(self._crds, None, ListOptions())
        for crd in listed["items"]:
            await self.sync(crd["metadata"]["name"])
        self._task = asyncio.create_task(self._work())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _note(self, event: WatchEvent | None) -> None:
        # None: the cache restarted, so look at everything again
        names = list(self._served) if event is None else [event.key.rsplit("/", 1)[-1]]
        for name in names:
            self._dirty[name] = None
        self._wake.set()

    async def _work(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._dirty:
                name = next(iter(self._dirty))
                del self._dirty[name]
                try:
                    await self.sync(name)
                except errors.ApiError as error:
                    _log.warning("crd sync failed", key=name, error=error.message)
                    self._dirty[name] = None  # try again on the next change
                except Exception:
                    _log.exception("crd sync failed", key=name)

    async def sync(self, name: str) -> None:
        """Bring one CRD's served resources and status in line with its stored object."""
        try:
            crd = await self._storage.get(self._crds, None, name)
        except errors.ApiError as error:
            if error.code != 404:
                raise
            self._unserve(name)
            self._refused.discard(name)
            for other in self._refused:  # the names it held may be free now
                self._dirty[other] = None
            self._wake.set()
            return
        if crd["metadata"].get("deletionTimestamp"):
            await self._finalize(crd)
            return
        clash = self._clash(crd)
        generation = int(crd["metadata"].get("generation") or 0)
        if clash is not None:
            self._refused.add(name)
        elif name not in self._served or self._generations.get(name) != generation:
            self._refused.discard(name)
            self._serve(name, types_from_crd(crd))
            self._generations[name] = generation
        await self._write_status(crd, clash)

    def _clash(self, crd: Object) -> tuple[str, str] | None:
        """(reason, message) when the CRD's plural or kind is taken in its group."""
        spec, name = crd.get("spec") or {}, crd["metadata"]["name"]
        names = spec.get("names") or {}
        for rt in self._storage.registry:
            if rt.group != spec.get("group") or getattr(rt, "crd_name", None) == name:
                continue
            if rt.plural == names.get("plural"):
                return "PluralConflict", f'"{rt.plural}" is already in use'
            if rt.kind == names.get("kind"):
                return "KindConflict", f'"{rt.kind}" is already in use'
        return None

    def _serve(self, name: str, types: list[CustomResourceType]) -> None:
        registry = self._storage.registry
        for rt in self._served.pop(name, []):
            registry.remove(rt)
        for rt in types:
            registry.remove(rt)  # a stale entry of the same GVR (a CRD renamed its group)
            registry.add(rt)
        self._served[name] = types
        _log.info("custom resource served", key=name, versions=[rt.version for rt in types])

    def _unserve(self, name: str) -> None:
        self._generations.pop(name, None)
        for rt in self._served.pop(name, []):
            self._storage.registry.remove(rt)

    async def _write_status(self, crd: Object, clash: tuple[str, str] | None) -> None:
        status = copy.deepcopy(crd.get("status") or {})
        names = copy.deepcopy((crd.get("spec") or {}).get("names") or {})
        if clash is None:
            status["acceptedNames"] = names
            wanted = [
                ("NamesAccepted", "True", "NoConflicts", "no conflicts found"),
                ("Established", "True", "InitialNamesAccepted",
                 "the initial names have been accepted"),
            ]  # fmt: skip
        else:
            status.setdefault("acceptedNames", {"plural": "", "kind": ""})
            wanted = [
                ("NamesAccepted", "False", *clash),
                ("Established", "False", "NotAccepted", "not all names are accepted"),
            ]
        for kind, state, reason, message in wanted:
            _set_condition(status, kind, state, reason, message)
        if status != crd.get("status"):
            await self._patch_status(crd["metadata"]["name"], status)

    async def _patch_status(self, name: str, status: dict[str, Any]) -> None:
        def change(current: Object) -> Object:
            return {**current, "status": status}

        await self._storage.patch(self._crds, None, name, change, subresource="status",
                                  internal=True)  # fmt: skip

    async def _finalize(self, crd: Object) -> None:
        name = crd["metadata"]["name"]
        if CLEANUP_FINALIZER not in (crd["metadata"].get("finalizers") or []):
            return
        status = copy.deepcopy(crd.get("status") or {})
        _set_condition(status, "Terminating", "True", "InstanceDeletionInProgress",
                       "CustomResource deletion is in progress")  # fmt: skip
        if status != crd.get("status"):
            await self._patch_status(name, status)
        served = self._served.get(name, [])
        if served and not served[0].terminating:  # no new objects from now on
            self._serve(name, [attrs.evolve(rt, terminating=True) for rt in served])
        types = types_from_crd(crd, unserved=True)
        if types:
            await self._delete_all(types[0])

        def release(current: Object) -> Object:
            finalizers = current["metadata"].get("finalizers") or []
            current["metadata"]["finalizers"] = [f for f in finalizers if f != CLEANUP_FINALIZER]
            return current

        await self._storage.patch(self._crds, None, name, release, internal=True)
        _log.info("custom resource definition deleted", key=name)

    async def _delete_all(self, rt: CustomResourceType) -> None:
        """Delete every object of the resource; wait while finalizers of theirs run."""
        delay, waited = 0.05, 0.0
        while waited < _PATIENCE_SECONDS:
            items = (await self._storage.list(rt, None, ListOptions()))["items"]
            if not items:
                return
            for item in items:
                metadata = item["metadata"]
                if metadata.get("deletionTimestamp"):
                    continue
                try:
                    await self._storage.delete(rt, metadata.get("namespace"), metadata["name"])
                except errors.ApiError as error:
                    if error.code not in (404, 409):
                        raise
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 2.0)


def _set_condition(status: dict[str, Any], kind: str, state: str, reason: str, text: str) -> None:
    """Set one condition; its ``lastTransitionTime`` moves only when its status changes."""
    conditions = [c for c in status.get("conditions") or [] if isinstance(c, dict)]
    old = next((c for c in conditions if c.get("type") == kind), None)
    if old is not None and (old.get("status"), old.get("reason"), old.get("message")) == (
        state,
        reason,
        text,
    ):
        return
    changed = old is None or old.get("status") != state
    condition = {
        "type": kind,
        "status": state,
        "lastTransitionTime": now_rfc3339() if changed or old is None else old.get(
            "lastTransitionTime"),
        "reason": reason,
        "message": text,
    }  # fmt: skip
    if old is None:
        conditions.append(condition)
    else:
        conditions[conditions.index(old)] = condition
    status["conditions"] = conditions
