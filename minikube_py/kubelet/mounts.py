"""A container's mounts: its ``volumeMounts`` over the pod's prepared volumes.

Each ``volumeMount`` names a volume and where the container sees it (``mountPath``). The
runtime gets one ``Mount`` per entry, built as upstream's ``makeMounts`` does:

- ``subPath`` mounts only a path inside the volume; ``subPathExpr`` is the same with
  ``$(VAR)`` expanded from the container's environment (a variable that is undefined or empty
  is an error: ``missing value for POD_NAME``). An absolute sub-path or one with ``..`` is
  refused, and so is one that *leads* out of the volume through a symlink — checked on the real
  file system as the container starts, since a program in the pod may have made that link
  (upstream's ``PrepareSafeSubpath``). A missing sub-path is made a directory.
- A sub-path into a ConfigMap, Secret, downward-API or projected volume is a *copy* of what
  the volume holds when the container starts (``volume-subpaths/<volume>/<container>/<i>`` in
  the pod's directory): upstream bind-mounts the file the ``..data`` link pointed at, so an
  update of the object never reaches it — until the container restarts.
- Those volumes are always read-only; other mounts are if they say ``readOnly`` (or their
  claim does). What the process runtime can enforce of that is in ``docs/volumes.md``.

Errors are ``ConfigError``s: the container waits in ``CreateContainerConfigError``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from minikube_py.kubelet.environment import ConfigError, expand
from minikube_py.runtime.protocol import Mount

Object = dict[str, Any]
SUBPATHS = "volume-subpaths"  # upstream's directory for prepared sub-paths


def container_mounts(
    container: Object,
    volumes: Mapping[str, Path],
    read_only: frozenset[str] = frozenset(),
    *,
    env: Mapping[str, str] | None = None,
    config_volumes: frozenset[str] = frozenset(),
    pod_directory: Path | None = None,
) -> list[Mount]:
    """The runtime mounts for ``container`` (blocking: it may make or copy a sub-path).

    ``read_only``: volumes every mount of which is read-only (a claim with ``readOnly``);
    ``config_volumes``: volumes made of API objects (``configvolumes.config_volume_names``);
    ``pod_directory``: where copies of their sub-paths go (without one, none is copied)."""
    mounts = []
    name = str(container.get("name") or "")
    for index, wanted in enumerate(container.get("volumeMounts") or []):
        volume = str(wanted.get("name"))
        source = volumes.get(volume)
        if source is None:
            continue  # a kind of volume this kubelet does not provide
        sub_path = _sub_path(wanted, env or {})
        config = volume in config_volumes
        if sub_path:
            source = safe_sub_path(source, sub_path, volume, name, make=not config)
            if config and pod_directory is not None:
                copy = pod_directory / SUBPATHS / volume / name / str(index)
                source = _copy(source, copy)
        mounts.append(
            Mount(
                host_path=source,
                container_path=str(wanted.get("mountPath") or ""),
                read_only=config or bool(wanted.get("readOnly")) or volume in read_only,
            )
        )
    return mounts


def _sub_path(wanted: Object, env: Mapping[str, str]) -> str:
    expression = str(wanted.get("subPathExpr") or "")
    if not expression:
        return str(wanted.get("subPath") or "")
    missing = sorted(
        {name for name in _references(expression) if not env.get(name)}  # empty counts too
    )
    if missing:
        raise ConfigError(f"missing value for {', '.join(missing)}")
    return expand(expression, env)


def _references(text: str) -> list[str]:
    """The variable names ``$(NAME)`` in ``text`` refers to (not escaped ``$$(NAME)``)."""
    names, i = [], 0
    while (i := text.find("$", i)) >= 0 and i + 1 < len(text):
        if text[i + 1] == "$":
            i += 2
        elif text[i + 1] == "(" and (close := text.find(")", i + 2)) >= 0:
            names.append(text[i + 2 : close])
            i = close + 1
        else:
            i += 1
    return names


def safe_sub_path(volume: Path, sub_path: str, name: str, container: str, *, make: bool) -> Path:
    """``volume``/``sub_path``, refused if absolute, with ``..``, or leading out of the volume
    through a symlink; made a directory if missing (and ``make``)."""
    if os.path.isabs(sub_path):
        raise ConfigError(f"error SubPath `{sub_path}` must not be an absolute path")
    if ".." in Path(sub_path).parts:
        raise ConfigError(f"unable to provision SubPath `{sub_path}`: must not contain '..'")
    target = volume / sub_path
    root = volume.resolve()
    # upstream does not say why to the user: it could tell about the host's file system
    refused = f'failed to prepare subPath for volumeMount "{name}" of container "{container}"'
    if not target.resolve().is_relative_to(root):
        raise ConfigError(refused)
    if not os.path.lexists(target):
        if not make:
            return target
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError:
            raise ConfigError(
                f'failed to create subPath directory for volumeMount "{name}" of container '
                f'"{container}"'
            ) from None
        if not target.resolve().is_relative_to(root):  # a link raced in while it was made
            raise ConfigError(refused)
    return target.resolve()


def _copy(source: Path, copy: Path) -> Path:
    """A fresh copy of ``source`` (a file or a directory, links followed) at ``copy``."""
    if copy.is_dir() and not copy.is_symlink():
        shutil.rmtree(copy)
    elif os.path.lexists(copy):
        copy.unlink()
    copy.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, copy, symlinks=False)
    elif source.exists():
        shutil.copy2(source, copy)  # keeps the file's mode (defaultMode / item mode)
    else:
        copy.mkdir()  # a key the object does not have: an empty directory, as upstream
    return copy
