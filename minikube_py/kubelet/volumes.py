"""Pod volumes: what the kubelet prepares for a pod before its containers start, and keeps
current while it runs.

A pod lists its ``volumes``; each container lists the ones it wants in ``volumeMounts``, with
the path it sees them at (``mounts.py`` turns those into the runtime's mounts). The kubelet
prepares every volume once per pod, before the first container starts:

- ``emptyDir``: an empty directory that lives as long as the pod, inside the pod's directory
  (``<pod dir>/volumes/kubernetes.io~empty-dir/<name>/``, upstream's layout); two containers
  that mount it share its files. ``medium: Memory`` is on disk as well (a tmpfs mount needs
  root);
- ``hostPath`` (``hostpath.py``): a path of the node, checked against its ``type``;
- ``projected``, ``configMap``, ``secret``, ``downwardAPI`` (``configvolumes.py``,
  ``projected.py``): files made from API objects, written atomically. Like upstream's kubelet,
  which mounts these on tmpfs, we keep them in memory: a directory of the node's under
  ``/dev/shm`` (``<memory>/<pod uid>/<volume name>/``; where there is no writable
  ``/dev/shm``, under the pod's directory, in upstream's plugin directory);
- ``persistentVolumeClaim`` (``claimvolumes.py``): the bound PersistentVolume's directory.

A volume that cannot be had now raises ``VolumeError`` (``FailedMount``; the pod waits and the
kubelet tries again, at once when a ConfigMap or Secret it waits for appears).

While the pod runs, ``PodVolumes`` (one per kubelet) rewrites its API-object volumes when what
they show changes: a ConfigMap or Secret (``object_changed``, called from the node's
informers in ``watched.py``: no polling), the pod's labels or annotations (``pod_changed``),
or a service-account token coming due. Each rewrite is one atomic swap of ``..data``.

In the process runtime a mount is a symlink at root + ``mountPath`` (see
``runtime/sandbox.py``), and paths into a mount in the container's command line — also those
in a ``sh -c`` script — are placed under the container's root (``runtime/commands.py``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from minikube_py.client.protocol import Client
from minikube_py.clock import Clock
from minikube_py.kubelet.claimvolumes import claim_volumes, resolve_claims
from minikube_py.kubelet.configvolumes import (
    as_projected,
    directory_kind,
    uses_pod_metadata,
    volume_kind,
)
from minikube_py.kubelet.hostpath import host_path_volumes, prepare_host_path
from minikube_py.kubelet.mounts import container_mounts as container_mounts
from minikube_py.kubelet.projected import ObjectReader, VolumeError, payload, write_atomically
from minikube_py.kubelet.tokens import TokenManager
from minikube_py.kubelet.watched import referenced
from minikube_py.logs import get_logger

Object = dict[str, Any]
EMPTY_DIR = "kubernetes.io~empty-dir"
PROJECTED = "kubernetes.io~projected"
RETRY = 10.0  # seconds before a refresh that failed is tried again
SHARED_MEMORY = Path("/dev/shm")  # a tmpfs on Linux
_log = get_logger("kubelet")


@attrs.define
class _Prepared:
    """What the volume manager remembers of a pod whose volumes it made."""

    pod: Object
    directory: Path
    refers: set[tuple[str, str]]  # (kind, name) of the ConfigMaps and Secrets its volumes show
    refresh: asyncio.Task[None] | None = None
    again: bool = False  # a change came while a refresh ran: run once more


class PodVolumes:
    """The kubelet's volume manager: prepares a pod's volumes before its containers start and
    keeps its API-object ones current until ``release``."""

    def __init__(
        self,
        client: Client,
        clock: Clock,
        allocatable: Mapping[str, str],
        reader: ObjectReader | None = None,
    ) -> None:
        self.client = client
        self.clock = clock
        self.allocatable = allocatable
        self.reader = reader  # ConfigMaps and Secrets (None: from the API server each time)
        self.tokens = TokenManager(client, clock)
        self._refreshers: dict[str, asyncio.Task[None]] = {}  # token refreshers, by pod uid
        self._prepared: dict[str, _Prepared] = {}  # by pod uid
        self._memory: Path | None = None  # made on first use, removed by ``close``

    def _memory_directory(self, pod_uid: str) -> Path | None:
        """The pod's directory in memory for projected volumes; None without a tmpfs."""
        if self._memory is None:
            if not (SHARED_MEMORY.is_dir() and os.access(SHARED_MEMORY, os.W_OK)):
                return None
            self._memory = Path(tempfile.mkdtemp(prefix="minikube-py-", dir=SHARED_MEMORY))
        return self._memory / pod_uid

    def close(self) -> None:
        """The kubelet stops: remove every volume kept in memory."""
        for prepared in self._prepared.values():
            if prepared.refresh is not None:
                prepared.refresh.cancel()
        self._prepared.clear()
        if self._memory is not None:
            shutil.rmtree(self._memory, ignore_errors=True)
            self._memory = None

    async def prepare(self, pod: Object, pod_directory: Path) -> dict[str, Path]:
        """Every volume of ``pod`` this kubelet provides: name → host path. Raises
        ``VolumeError`` (upstream's ``FailedMount``) when one cannot be set up now."""
        volumes = (pod.get("spec") or {}).get("volumes") or []
        # emptyDirs and hostPaths are made in a thread (file system work); a pod without any
        # (most: only the service-account volume) makes no thread hop, which costs more than
        # the work on a busy process (the GIL must be won back)
        prepared: dict[str, Path] = {}
        if any("emptyDir" in volume for volume in volumes if isinstance(volume, dict)):
            prepared = await asyncio.to_thread(prepare_volumes, pod, pod_directory)
        for name, source in host_path_volumes(pod):
            prepared[name] = await asyncio.to_thread(prepare_host_path, name, source)
        prepared.update(await self._project(pod, pod_directory))
        if claim_volumes(pod):
            prepared.update(await resolve_claims(self.client, pod))
        uid = str(pod["metadata"].get("uid", ""))
        namespace = str(pod["metadata"].get("namespace") or "")
        refers = {(kind, name) for kind, name in referenced(_volumes_only(pod))}
        self._prepared[uid] = _Prepared(pod, pod_directory, refers)
        _log.debug("volumes prepared", pod=f"{namespace}/{pod['metadata'].get('name')}")
        if self.tokens.refresh_at(uid) is not None and uid not in self._refreshers:
            self._refreshers[uid] = asyncio.ensure_future(self._keep_fresh(uid))
        return prepared

    def release(self, pod_uid: str) -> None:
        """The pod's sandbox is gone: stop refreshing, forget its tokens."""
        refresher = self._refreshers.pop(pod_uid, None)
        if refresher is not None:
            refresher.cancel()
        prepared = self._prepared.pop(pod_uid, None)
        if prepared is not None and prepared.refresh is not None:
            prepared.refresh.cancel()
        self.tokens.forget(pod_uid)
        if self._memory is not None and pod_uid:
            shutil.rmtree(self._memory / pod_uid, ignore_errors=True)

    # -- changes while pods run -------------------------------------------------------------

    def object_changed(self, kind: str, namespace: str, name: str) -> None:
        """A ConfigMap or Secret was added, changed or deleted: rewrite the volumes that
        show it."""
        for uid, prepared in self._prepared.items():
            meta = prepared.pod["metadata"]
            if meta.get("namespace") == namespace and (kind, name) in prepared.refers:
                self._refresh(uid, prepared)

    def pod_changed(self, pod: Object) -> None:
        """The pod object changed: its downward-API files follow its labels and annotations."""
        prepared = self._prepared.get(str(pod["metadata"].get("uid", "")))
        if prepared is None:
            return
        old, prepared.pod = prepared.pod["metadata"], pod
        new = pod["metadata"]
        shown = (old.get("labels"), old.get("annotations"))
        if shown != (new.get("labels"), new.get("annotations")) and uses_pod_metadata(pod):
            self._refresh(str(new.get("uid", "")), prepared)

    def _refresh(self, uid: str, prepared: _Prepared) -> None:
        if prepared.refresh is not None and not prepared.refresh.done():
            prepared.again = True
            return
        prepared.refresh = asyncio.ensure_future(self._rewrite(uid, prepared))

    async def _rewrite(self, uid: str, prepared: _Prepared) -> None:
        meta = prepared.pod["metadata"]
        key = f"{meta.get('namespace')}/{meta.get('name')}"
        while self._prepared.get(uid) is prepared:
            prepared.again = False
            try:
                await self._project(prepared.pod, prepared.directory)
            except (VolumeError, OSError) as error:  # upstream keeps the files it had
                _log.warning("volume update failed", pod=key, error=str(error))
            if not prepared.again:
                return

    # -- API-object volumes ---------------------------------------------------------------

    def projected_directory(self, pod: Object, pod_directory: Path, name: str) -> Path:
        """Where the pod's API-object volume ``name`` lives: in memory where possible."""
        memory = self._memory_directory(str(pod["metadata"].get("uid", "")))
        if memory:
            return memory / name
        volumes: list[Object] = (pod.get("spec") or {}).get("volumes") or []
        volume = next((v for v in volumes if v.get("name") == name), {})
        return pod_directory / "volumes" / directory_kind(volume) / name

    async def _project(self, pod: Object, pod_directory: Path) -> dict[str, Path]:
        written = {}
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            name = volume.get("name")
            if not isinstance(name, str) or volume_kind(volume) is None:
                continue
            try:
                files = await payload(
                    as_projected(volume),
                    pod,
                    client=self.client,
                    tokens=self.tokens,
                    allocatable=self.allocatable,
                    reader=self.reader,
                )
            except VolumeError as error:
                raise VolumeError(
                    f'MountVolume.SetUp failed for volume "{name}" : {error}'
                ) from None
            directory = self.projected_directory(pod, pod_directory, name)
            # a few small files in memory, written in place: cheaper than a thread hop
            write_atomically(directory, files)
            written[name] = directory
        return written

    async def _keep_fresh(self, uid: str) -> None:
        """Rewrite the projected volumes each time one of the pod's tokens is due."""
        while (due := self.tokens.refresh_at(uid)) is not None:
            await self.clock.sleep_until(due)
            prepared = self._prepared.get(uid)
            if prepared is None:
                return
            meta = prepared.pod["metadata"]
            key = f"{meta.get('namespace')}/{meta.get('name')}"
            try:
                await self._project(prepared.pod, prepared.directory)
                _log.info("projected volumes refreshed", pod=key)
            except (VolumeError, OSError) as error:
                _log.warning("projected volume refresh failed", pod=key, error=str(error))
                await self.clock.sleep(RETRY)


def _volumes_only(pod: Object) -> Object:
    """``pod`` with only its volumes (what ``referenced`` should look at for files)."""
    return {"spec": {"volumes": (pod.get("spec") or {}).get("volumes") or []}}


def prepare_volumes(pod: Object, pod_directory: Path) -> dict[str, Path]:
    """Create the pod's ``emptyDir`` volumes (blocking: file system work); volume name → the
    host directory holding it."""
    prepared = {}
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        name = volume.get("name")
        if isinstance(name, str) and "emptyDir" in volume:
            directory = pod_directory / "volumes" / EMPTY_DIR / name
            directory.mkdir(parents=True, exist_ok=True)
            prepared[name] = directory
    return prepared
