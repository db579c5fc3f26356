"""Pod sandboxes and container roots: the directories a pod's processes live in.

A real runtime gives each pod a sandbox (network namespace, pause container) and each
container a root filesystem: an overlay mount of the image's read-only layers under a
writable layer. Overlay mounts need root (or a user namespace), so the process runtime copies
instead: the container's root is ``shutil.copytree`` of the image root, symlinks kept as
symlinks. Built-in images hold a few small scripts, so the copy costs about as much as
creating the directory; the image itself is never modified. The layout of a pod directory::

    <pod dir>/containers/<name>-<attempt>/rootfs   the container's root (MINIKUBE_PY_ROOT)
    <pod dir>/logs/<name>/<attempt>.log            its CRI log (kept after the container is
                                                   removed, for ``kubectl logs --previous``)

Volume mounts are symlinks at root + mountPath pointing to the volume's directory (or file);
whatever the image had at that path is hidden, as a bind mount hides it. ``read_only`` is not
enforced: a symlink cannot be made read-only without changing the volume itself. The
termination message file (``/dev/termination-log`` by default) is created empty under the
root, as the kubelet creates and mounts it, so a program can write it at that path, and so is
``/tmp``, which every real image has: an argument ``/tmp/x`` then stays inside the container.
The kubelet's resolver configuration (``ContainerConfig.resolv_conf``, per the pod's
``dnsPolicy``) is written to ``/etc/resolv.conf`` in the root, as containerd bind-mounts the
sandbox's; host programs do not read it (docs/networking.md says who does).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import attrs

from .protocol import ContainerError, Mount, SandboxConfig


@attrs.define
class Sandbox:
    """One pod's sandbox: its config and the ids of the containers made in it."""

    id: str
    config: SandboxConfig
    containers: set[str] = attrs.field(factory=set)

    @property
    def directory(self) -> Path:
        return self.config.directory


@attrs.frozen
class ContainerPaths:
    """Where one container attempt's files live inside its pod directory."""

    directory: Path
    root: Path
    log: Path

    @classmethod
    def of(cls, pod_directory: Path, name: str, attempt: int) -> ContainerPaths:
        directory = pod_directory / "containers" / f"{name}-{attempt}"
        return cls(
            directory, directory / "rootfs", pod_directory / "logs" / name / f"{attempt}.log"
        )


def under_root(root: Path, container_path: str) -> Path:
    """The host path of ``container_path`` inside ``root`` (``..`` may not climb out)."""
    target = Path(os.path.normpath("/" + container_path.lstrip("/")))
    return root / target.relative_to("/")


def prepare_root(
    image_root: Path,
    paths: ContainerPaths,
    *,
    mounts: Sequence[Mount],
    working_dir: str,
    termination_message_path: str,
    resolv_conf: str | None = None,
) -> Path:
    """Make the container's root (blocking: run it off the event loop); returns its workdir."""
    try:
        if paths.directory.exists():  # a left-over of an attempt that failed half-way
            shutil.rmtree(paths.directory)
        paths.directory.mkdir(parents=True)
        shutil.copytree(image_root, paths.root, symlinks=True)
        (paths.root / "tmp").mkdir(exist_ok=True)  # every image has one; `-C /tmp` stays inside
        if resolv_conf is not None:  # before the mounts: a volume at /etc/resolv.conf wins
            _write_file(paths.root, "etc/resolv.conf", resolv_conf)
        for mount in mounts:
            _mount(paths.root, mount)
        message_file = under_root(paths.root, termination_message_path)
        if not os.path.lexists(message_file):
            message_file.parent.mkdir(parents=True, exist_ok=True)
            message_file.touch()
        workdir = under_root(paths.root, working_dir or "/")
        workdir.mkdir(parents=True, exist_ok=True)  # runc creates a missing cwd too
        paths.log.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ContainerError(
            "CreateContainerError", f"failed to prepare the container's root: {error}"
        ) from error
    return workdir


def _write_file(root: Path, container_path: str, content: str) -> None:
    """A file the runtime provides (not a link into the image, which must stay unchanged)."""
    target = under_root(root, container_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.parent.resolve().is_relative_to(root.resolve()):
        return  # the image links that directory out of its root: never write there
    if os.path.lexists(target):
        target.unlink()
    target.write_text(content)


def _mount(root: Path, mount: Mount) -> None:
    target = under_root(root, mount.container_path)
    if target == root:
        raise ContainerError("CreateContainerError", "a volume cannot be mounted at /")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    elif os.path.lexists(target):
        target.unlink()
    target.symlink_to(mount.host_path.resolve())
