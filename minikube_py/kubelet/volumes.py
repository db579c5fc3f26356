"""Pod volumes and the mounts each container gets: ``emptyDir`` so far.

A pod lists its ``volumes``; each container lists the ones it wants in ``volumeMounts``, with
the path it sees them at. The kubelet prepares every volume once per pod, before the first
container starts, and hands the runtime one ``Mount`` per ``volumeMount``. An ``emptyDir``
is an empty directory that lives as long as the pod: two containers that mount it share its
files (an init container can fill a web server's root, as the Kubernetes docs' examples do).
Its place follows upstream's layout, inside the pod's directory, so it goes when the pod's
sandbox is removed::

    <pod dir>/volumes/kubernetes.io~empty-dir/<volume name>/

``medium: Memory`` is a directory on disk as well (a tmpfs mount needs root), and
``sizeLimit`` is not enforced yet. The other volume kinds (configMap, secret, hostPath,
persistentVolumeClaim …) come with the configuration and storage work: until then a mount of
one of them is left out, and the container runs without it.

In the process runtime a mount is a symlink at root + ``mountPath`` (see
``runtime/sandbox.py``), and paths into a mount in the container's command line — also those
in a ``sh -c`` script — are placed under the container's root (``runtime/commands.py``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from minikube_py.runtime.protocol import Mount

Object = dict[str, Any]
EMPTY_DIR = "kubernetes.io~empty-dir"


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


def container_mounts(container: Object, volumes: dict[str, Path]) -> list[Mount]:
    """The runtime mounts for ``container``'s ``volumeMounts`` over the prepared volumes
    (``subPath`` selects a directory inside the volume, created if missing, as upstream)."""
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
                read_only=bool(wanted.get("readOnly")),
            )
        )
    return mounts
