"""Pod volumes and the mounts each container gets: ``emptyDir`` and ``projected`` so far.

A pod lists its ``volumes``; each container lists the ones it wants in ``volumeMounts``, with
the path it sees them at. The kubelet prepares every volume once per pod, before the first
container starts, and hands the runtime one ``Mount`` per ``volumeMount``. An ``emptyDir``
is an empty directory that lives as long as the pod: two containers that mount it share its
files (an init container can fill a web server's root, as the Kubernetes docs' examples do).
Its place follows upstream's layout, inside the pod's directory, so it goes when the pod's
sandbox is removed::

    <pod dir>/volumes/kubernetes.io~empty-dir/<volume name>/

``medium: Memory`` is a directory on disk as well (a tmpfs mount needs root), and
``sizeLimit`` is not enforced yet. A ``projected`` volume (``projected.py``) is files made
from API objects — the service-account volume every pod gets is one. Like upstream's kubelet,
which mounts these on tmpfs, we keep them in memory: a directory of the node's under
``/dev/shm`` (``<memory>/<pod uid>/<volume name>/``; where there is no writable ``/dev/shm``,
``<pod dir>/volumes/kubernetes.io~projected/<volume name>/``). Every pod writes one before it
starts, and a disk's metadata calls made that the slowest step of a pod's start under load.
Since it reads the API and its token expires, ``PodVolumes`` (one per kubelet) prepares it
and keeps rewriting it while the pod runs, whenever a token is due. The other volume kinds
(configMap, secret, hostPath …) come with the configuration work: until then a mount of one
of them is left out, and the container runs without it. A ``persistentVolumeClaim`` volume is
the directory of the claim's bound PersistentVolume (``claimvolumes.py``), shared by every pod
that uses the claim; a claim not bound yet holds the pod back with ``FailedMount``.

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

from minikube_py.client.protocol import Client
from minikube_py.clock import Clock
from minikube_py.kubelet.claimvolumes import claim_volumes, resolve_claims
from minikube_py.kubelet.projected import VolumeError, payload, write_atomically
from minikube_py.kubelet.tokens import TokenManager
from minikube_py.logs import get_logger
from minikube_py.runtime.protocol import Mount

Object = dict[str, Any]
EMPTY_DIR = "kubernetes.io~empty-dir"
PROJECTED = "kubernetes.io~projected"
RETRY = 10.0  # seconds before a refresh that failed is tried again
SHARED_MEMORY = Path("/dev/shm")  # a tmpfs on Linux
_log = get_logger("kubelet")


class PodVolumes:
    """The kubelet's volume manager: prepares a pod's volumes before its containers start and
    keeps its projected ones current (tokens renewed when due) until ``release``."""

    def __init__(self, client: Client, clock: Clock, allocatable: Mapping[str, str]) -> None:
        self.client = client
        self.clock = clock
        self.allocatable = allocatable
        self.tokens = TokenManager(client, clock)
        self._refreshers: dict[str, asyncio.Task[None]] = {}  # by pod uid
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
        if self._memory is not None:
            shutil.rmtree(self._memory, ignore_errors=True)
            self._memory = None

    async def prepare(self, pod: Object, pod_directory: Path) -> dict[str, Path]:
        """Every volume of ``pod`` this kubelet provides: name → host directory. Raises
        ``VolumeError`` (upstream's ``FailedMount``) when one cannot be set up now."""
        volumes = (pod.get("spec") or {}).get("volumes") or []
        # emptyDirs are made in a thread (a directory tree may be deep); a pod without any
        # (most: only the service-account volume) makes no thread hop, which costs more than
        # the work on a busy process (the GIL must be won back)
        prepared = {}
        if any("emptyDir" in volume for volume in volumes if isinstance(volume, dict)):
            prepared = await asyncio.to_thread(prepare_volumes, pod, pod_directory)
        prepared.update(await self._project(pod, pod_directory))
        if claim_volumes(pod):
            prepared.update(await resolve_claims(self.client, pod))
        uid = str(pod["metadata"].get("uid", ""))
        if self.tokens.refresh_at(uid) is not None and uid not in self._refreshers:
            self._refreshers[uid] = asyncio.ensure_future(self._keep_fresh(pod, pod_directory))
        return prepared

    def release(self, pod_uid: str) -> None:
        """The pod's sandbox is gone: stop refreshing, forget its tokens."""
        refresher = self._refreshers.pop(pod_uid, None)
        if refresher is not None:
            refresher.cancel()
        self.tokens.forget(pod_uid)
        if self._memory is not None and pod_uid:
            shutil.rmtree(self._memory / pod_uid, ignore_errors=True)

    def projected_directory(self, pod: Object, pod_directory: Path, name: str) -> Path:
        """Where the pod's projected volume ``name`` lives: in memory where possible."""
        memory = self._memory_directory(str(pod["metadata"].get("uid", "")))
        return memory / name if memory else pod_directory / "volumes" / PROJECTED / name

    async def _project(self, pod: Object, pod_directory: Path) -> dict[str, Path]:
        written = {}
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            name = volume.get("name")
            if isinstance(name, str) and isinstance(volume.get("projected"), dict):
                try:
                    files = await payload(
                        volume,
                        pod,
                        client=self.client,
                        tokens=self.tokens,
                        allocatable=self.allocatable,
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

    async def _keep_fresh(self, pod: Object, pod_directory: Path) -> None:
        """Rewrite the projected volumes each time one of the pod's tokens is due."""
        uid = str(pod["metadata"].get("uid", ""))
        key = f"{pod['metadata'].get('namespace')}/{pod['metadata'].get('name')}"
        while (due := self.tokens.refresh_at(uid)) is not None:
            await self.clock.sleep_until(due)
            try:
                await self._project(pod, pod_directory)
                _log.info("projected volumes refreshed", pod=key)
            except (VolumeError, OSError) as error:
                _log.warning("projected volume refresh failed", pod=key, error=str(error))
                await self.clock.sleep(RETRY)


def prepare_volumes(pod: Object, pod_directory: Path) -> dict[str, Path]:
    """Create the pod's volumes that this kubelet provides (blocking: file system work);
    volume name → the host directory holding it."""
    prepared = {}
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        name = volume.get("name")
        if isinstance(name, str) and "emptyDir" in volume:
            directory = pod_directory / "volumes" / EMPTY_DIR / name
            directory.mkdir(parents=True, exist_ok=True)
            prepared[name] = directory
    return prepared


def container_mounts(
    container: Object, volumes: dict[str, Path], read_only: frozenset[str] = frozenset()
) -> list[Mount]:
    """The runtime mounts for ``container``'s ``volumeMounts`` over the prepared volumes
    (``subPath`` selects a directory inside the volume, created if missing, as upstream);
    ``read_only``: volumes every mount of which is read-only (``claimvolumes.read_only_claims``
    of the pod: a claim volume with ``readOnly: true``)."""
    mounts = []
    for wanted in container.get("volumeMounts") or []:
        source = volumes.get(str(wanted.get("name")))
        if source is None:
            continue  # a kind of volume this kubelet does not provide yet
        sub_path = str(wanted.get("subPath") or "")
        if sub_path:
            # Validation refuses absolute and ".." sub-paths; normpath keeps it inside anyway.
            source = source / os.path.normpath("/" + sub_path).lstrip("/")
            source.mkdir(parents=True, exist_ok=True)
        mounts.append(
            Mount(
                host_path=source,
                container_path=str(wanted.get("mountPath") or ""),
                read_only=bool(wanted.get("readOnly")) or wanted.get("name") in read_only,
            )
        )
    return mounts
