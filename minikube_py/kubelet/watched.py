"""The ConfigMaps and Secrets a kubelet's pods use, kept current by two informers.

Upstream's kubelet reads the ConfigMaps and Secrets its pods refer to through a *watch-based
manager* (``configMapChangeDetectionStrategy: Watch``): one watch per referenced object, so
the environment of a starting container and the files of a ``configMap`` / ``secret`` volume
come from a local cache, and a change reaches the volumes without polling. Here one informer
per kind (over every namespace) does that for the whole node: ``ConfigObjects``

- answers the environment's questions (``environment.EnvSource``: a ConfigMap's ``data``, a
  Secret's ``data`` decoded from base64) and the volumes' (``get``: the whole object);
- tells whoever registered with ``on_change`` the kind, namespace and name of every object
  added, changed or deleted, so the volume manager rewrites the files of the pods that use it
  and the kubelet wakes the pods waiting for it (``CreateContainerConfigError``,
  ``FailedMount``).

Until the informers have synced, and for an object not in the cache (it may have been created
a moment ago), reads go to the API server directly. An object marked
``immutable: true`` cannot change, so its updates are not passed on (upstream stops watching
it after the first read). Secret values stay in memory; they are never logged.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from minikube_py.client.informer import Informer
from minikube_py.client.protocol import CONFIGMAPS, GVR, SECRETS, ApiError, Client
from minikube_py.kubelet.environment import ConfigError

Object = dict[str, Any]
ChangeHandler = Callable[[str, str, str], None]  # kind ("configmap" / "secret"), ns, name
KINDS: dict[str, GVR] = {"configmap": CONFIGMAPS, "secret": SECRETS}


class ConfigObjects:
    """The node's cache of ConfigMaps and Secrets; ``run`` until cancelled."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.informers = {kind: Informer(client, gvr) for kind, gvr in KINDS.items()}
        self._handlers: list[ChangeHandler] = []
        for kind, informer in self.informers.items():
            self._handle(kind, informer)

    def _handle(self, kind: str, informer: Informer) -> None:
        informer.on_add(lambda obj: self._changed(kind, obj))
        informer.on_update(lambda old, new: self._updated(kind, old, new))
        informer.on_delete(lambda obj: self._changed(kind, obj))

    def on_change(self, handler: ChangeHandler) -> None:
        self._handlers.append(handler)

    async def run(self) -> None:
        tasks = [asyncio.ensure_future(informer.run()) for informer in self.informers.values()]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks, return_exceptions=True)

    def _updated(self, kind: str, old: Object, new: Object) -> None:
        if old.get("immutable") and new.get("immutable"):
            return  # nothing can have changed but metadata
        if (old.get("data"), old.get("binaryData")) == (new.get("data"), new.get("binaryData")):
            return  # only metadata changed: the files and variables stay as they are
        self._changed(kind, new)

    def _changed(self, kind: str, obj: Object) -> None:
        meta = obj.get("metadata") or {}
        for handler in list(self._handlers):
            handler(kind, str(meta.get("namespace") or ""), str(meta.get("name") or ""))

    async def get(self, kind: str, namespace: str, name: str) -> Object | None:
        """The ConfigMap or Secret, or None if it does not exist; ``VolumeError``-worthy
        failures (the API server unreachable) raise ``ApiError``."""
        informer = self.informers[kind]
        if informer.has_synced and (found := informer.get(f"{namespace}/{name}")) is not None:
            return found
        # not cached (yet): the object may have been created a moment ago, and its watch event
        # not be here; ask the API server rather than report it missing
        try:
            return await self.client.get(KINDS[kind], namespace, name)
        except ApiError as error:
            if error.code == 404:
                return None
            raise

    # -- environment.EnvSource --------------------------------------------------------------

    async def config_map(self, namespace: str, name: str) -> Mapping[str, str] | None:
        obj = await self._read("configmap", namespace, name)
        return None if obj is None else {k: str(v) for k, v in (obj.get("data") or {}).items()}

    async def secret(self, namespace: str, name: str) -> Mapping[str, str] | None:
        obj = await self._read("secret", namespace, name)
        if obj is None:
            return None
        try:
            # a value may be any bytes; surrogateescape hands them to the process unchanged
            return {
                key: base64.b64decode(value).decode("utf-8", "surrogateescape")
                for key, value in (obj.get("data") or {}).items()
            }
        except (binascii.Error, ValueError):
            raise ConfigError(f"secret {namespace}/{name} holds data that is not base64") from None

    async def _read(self, kind: str, namespace: str, name: str) -> Object | None:
        try:
            return await self.get(kind, namespace, name)
        except ApiError as error:
            raise ConfigError(f"couldn't get {kind} {namespace}/{name}: {error.message}") from None


def referenced(pod: Object) -> set[tuple[str, str]]:
    """(kind, name) of every ConfigMap and Secret ``pod`` refers to, in its containers'
    environment or its volumes (projected ones included)."""
    spec = pod.get("spec") or {}
    found: set[tuple[str, str]] = set()
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    for container in containers:
        for item in container.get("envFrom") or []:
            _add(found, "configmap", item.get("configMapRef"))
            _add(found, "secret", item.get("secretRef"))
        for var in container.get("env") or []:
            value_from = var.get("valueFrom") or {}
            _add(found, "configmap", value_from.get("configMapKeyRef"))
            _add(found, "secret", value_from.get("secretKeyRef"))
    for volume in spec.get("volumes") or []:
        _add(found, "configmap", volume.get("configMap"))
        secret = volume.get("secret") or None
        if isinstance(secret, dict):
            found.add(("secret", str(secret.get("secretName") or "")))
        for source in (volume.get("projected") or {}).get("sources") or []:
            _add(found, "configmap", source.get("configMap"))
            _add(found, "secret", source.get("secret"))
    return found


def _add(found: set[tuple[str, str]], kind: str, ref: Any) -> None:
    if isinstance(ref, dict):
        found.add((kind, str(ref.get("name") or "")))
