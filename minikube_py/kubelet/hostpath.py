"""``hostPath`` volumes: a path on the node, checked against the volume's ``type``.

A ``hostPath`` volume mounts a file or directory of the node into the pod. Before it does,
upstream's plugin checks that the path is what ``type`` says, and makes it for the two
``…OrCreate`` types:

=====================  ======================================================================
``""`` (unset)         no check; a missing path is made a directory, as containerd does when
                       it bind-mounts a host path that is not there
``DirectoryOrCreate``  made (mode 0755) if missing, then must be a directory
``Directory``          must be a directory
``FileOrCreate``       made empty (mode 0644) if missing (its parent must exist), then a file
``File``               must be a regular file
``Socket``             must be a UNIX socket
``CharDevice``         must be a character device
``BlockDevice``        must be a block device
=====================  ======================================================================

A failed check is upstream's ``FailedMount`` message, ``MountVolume.SetUp failed for volume
"x" : hostPath type check failed: /p is not a directory``, and the pod waits (the kubelet tries
again). The check is blocking file-system work: call it in a thread.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from minikube_py.kubelet.projected import VolumeError

Object = dict[str, Any]
_CHECKS = {
    "Directory": (stat.S_ISDIR, "a directory"),
    "File": (stat.S_ISREG, "a file"),
    "Socket": (stat.S_ISSOCK, "a socket file"),
    "CharDevice": (stat.S_ISCHR, "a character device"),
    "BlockDevice": (stat.S_ISBLK, "a block device"),
}


def host_path_volumes(pod: Object) -> list[tuple[str, Object]]:
    """(volume name, ``hostPath`` source) of the pod's hostPath volumes."""
    return [
        (str(volume["name"]), volume["hostPath"])
        for volume in (pod.get("spec") or {}).get("volumes") or []
        if isinstance(volume, dict) and isinstance(volume.get("hostPath"), dict)
    ]


def prepare_host_path(name: str, source: Object) -> Path:
    """The checked (or made) path of the hostPath volume ``name`` (blocking)."""
    path = Path(str(source.get("path") or ""))
    kind = str(source.get("type") or "")
    try:
        return _check(path, kind)
    except VolumeError as error:
        raise VolumeError(f'MountVolume.SetUp failed for volume "{name}" : {error}') from None
    except OSError as error:
        raise VolumeError(
            f'MountVolume.SetUp failed for volume "{name}" : {error.strerror}: {path}'
        ) from None


def _check(path: Path, kind: str) -> Path:
    if kind == "":
        if not os.path.lexists(path):
            path.mkdir(mode=0o755, parents=True, exist_ok=True)
        return path
    if kind == "DirectoryOrCreate":
        if not os.path.lexists(path):
            path.mkdir(mode=0o755, parents=True, exist_ok=True)
        kind = "Directory"
    elif kind == "FileOrCreate":
        if not os.path.lexists(path):
            # upstream opens O_CREAT with 0644; a missing parent directory is an error
            os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o644))
        kind = "File"
    check = _CHECKS.get(kind)
    if check is None:
        raise VolumeError(f"{kind} is an invalid volume type")
    test, what = check
    try:
        mode = path.stat().st_mode  # follows symlinks, as upstream's os.Stat
    except FileNotFoundError:
        raise VolumeError(f"hostPath type check failed: {path} is not {what}") from None
    if not test(mode):
        raise VolumeError(f"hostPath type check failed: {path} is not {what}")
    return path
