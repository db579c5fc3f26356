"""Projected volumes: files made from API objects, swapped in atomically when they change.

A ``projected`` volume gathers several sources into one directory: keys of a ConfigMap or a
Secret, downward-API values about the pod (its namespace, labels, …), and a service-account
token (``serviceAccountToken``, fetched through ``tokens.TokenManager``). Each source either
lists ``items`` (key → ``path``, optional ``mode``) or, for ConfigMaps and Secrets, gives every
key as a file of that name. Files get the volume's ``defaultMode`` unless an item says
otherwise. The API server's ServiceAccount admission adds one to every pod
(``kube-api-access-*``: ``token``, ``ca.crt``, ``namespace``).

``payload`` computes the files (it reads the API, so it is async; a missing ConfigMap or Secret
that is not ``optional`` is a ``VolumeError`` the kubelet reports as ``FailedMount``), and
``write_atomically`` puts them in place as upstream's ``AtomicWriter`` does, so a program never
reads half an update::

    <volume>/..2026_11_27_10_00_00.123456789/namespace   the files of this version
    <volume>/..data -> ..2026_11_27_10_00_00.123456789     switched by one rename()
    <volume>/namespace -> ..data/namespace                 what the program opens

A new version is written to a fresh timestamped directory, a ``..data_tmp`` link to it is
renamed over ``..data`` (atomic), then the old directory goes. ConfigMap and Secret volumes of
their own (issue 8) are the same payload with one source.
"""

from __future__ import annotations

import base64
import binascii
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from minikube_py.client.protocol import CONFIGMAPS, SECRETS, ApiError, Client, Object
from minikube_py.kubelet.environment import ConfigError, field_value, resource_value
from minikube_py.kubelet.tokens import TokenManager

DATA_DIR = "..data"
Payload = dict[str, tuple[bytes, int]]  # relative path → (content, mode)


class VolumeError(Exception):
    """A volume cannot be set up now; the message is upstream's ``FailedMount`` reason."""


class ObjectReader(Protocol):
    """Where ConfigMaps and Secrets are read from (``watched.ConfigObjects``: the node's cache)."""

    async def get(self, kind: str, namespace: str, name: str) -> Object | None:
        """The ``"configmap"`` or ``"secret"``; None if there is none; ``ApiError`` otherwise."""
        ...


class ClientReader:
    """An ``ObjectReader`` asking the API server each time (no cache)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def get(self, kind: str, namespace: str, name: str) -> Object | None:
        try:
            return await self.client.get(
                CONFIGMAPS if kind == "configmap" else SECRETS, namespace, name
            )
        except ApiError as error:
            if error.code == 404:
                return None
            raise


async def payload(
    volume: Object,
    pod: Object,
    *,
    client: Client,
    tokens: TokenManager,
    allocatable: Mapping[str, str],
    reader: ObjectReader | None = None,
) -> Payload:
    """The files of the ``projected`` volume ``volume`` of ``pod``; ConfigMaps and Secrets
    come from ``reader`` (by default the API server, through ``client``)."""
    reader = reader or ClientReader(client)
    projected = volume.get("projected") or {}
    default_mode = int(projected.get("defaultMode", 0o644))
    namespace = str(pod["metadata"].get("namespace", ""))
    files: Payload = {}
    for source in projected.get("sources") or []:
        if "serviceAccountToken" in source:
            spec = source["serviceAccountToken"] or {}
            account = str((pod.get("spec") or {}).get("serviceAccountName") or "default")
            audience = spec.get("audience")
            try:
                token = await tokens.get(
                    pod,
                    account,
                    seconds=int(spec.get("expirationSeconds") or 3600),
                    audiences=[audience] if audience else [],
                )
            except ApiError as error:
                raise VolumeError(f"failed to fetch token: {error.message}") from None
            files[str(spec.get("path", "token"))] = (token.token.encode(), default_mode)
        elif "configMap" in source:
            data = await _object_data(reader, "configmap", namespace, source)
            files.update(_items(source["configMap"], data, default_mode, "configmap"))
        elif "secret" in source:
            data = await _object_data(reader, "secret", namespace, source)
            files.update(_items(source["secret"], data, default_mode, "secret"))
        elif "downwardAPI" in source:
            files.update(_downward(source["downwardAPI"], pod, default_mode, allocatable))
    return files


async def _object_data(
    reader: ObjectReader, kind: str, namespace: str, source: Object
) -> dict[str, bytes] | None:
    """A ConfigMap's or Secret's keys as bytes; None if it is missing and optional."""
    ref = source["configMap" if kind == "configmap" else "secret"] or {}
    name = str(ref.get("name", ""))
    try:
        obj = await reader.get(kind, namespace, name)
    except ApiError as error:
        raise VolumeError(f"failed to get {kind} {namespace}/{name}: {error.message}") from None
    if obj is None:
        if ref.get("optional"):
            return None
        raise VolumeError(f'{kind} "{name}" not found')
    data: dict[str, bytes] = {}
    try:
        if kind == "configmap":
            data = {k: str(v).encode() for k, v in (obj.get("data") or {}).items()}
            binary = obj.get("binaryData") or {}
        else:
            binary = obj.get("data") or {}
        data.update({k: base64.b64decode(v) for k, v in binary.items()})
    except (binascii.Error, ValueError) as error:
        raise VolumeError(f"{kind} {namespace}/{name}: {error}") from None
    return data


def _items(ref: Object, data: dict[str, bytes] | None, default_mode: int, kind: str) -> Payload:
    if data is None:
        return {}
    items = ref.get("items")
    if not items:
        return {key: (value, default_mode) for key, value in data.items()}
    files: Payload = {}
    for item in items:
        key = str(item.get("key", ""))
        if key not in data:
            if ref.get("optional"):
                continue
            raise VolumeError(f"{kind} references non-existent config key: {key}")
        files[str(item.get("path", key))] = (data[key], int(item.get("mode", default_mode)))
    return files


def _downward(
    source: Object, pod: Object, default_mode: int, allocatable: Mapping[str, str]
) -> Payload:
    files: Payload = {}
    for item in source.get("items") or []:
        mode = int(item.get("mode", default_mode))
        try:
            if "fieldRef" in item:
                path = str((item["fieldRef"] or {}).get("fieldPath", ""))
                text = _field_text(pod, path)
            else:
                ref = item.get("resourceFieldRef") or {}
                text = resource_value(pod, str(ref.get("containerName", "")), ref, allocatable)
        except ConfigError as error:
            raise VolumeError(str(error)) from None
        files[str(item.get("path", ""))] = (text.encode(), mode)
    return files


def _field_text(pod: Object, path: str) -> str:
    """A downward-API file: a whole label or annotation map is ``key="value"`` lines, sorted."""
    if path in ("metadata.labels", "metadata.annotations"):
        values = (pod["metadata"].get(path.partition(".")[2]) or {}).items()
        return "\n".join(f'{k}="{_quoted(str(v))}"' for k, v in sorted(values))
    return field_value(pod, path, pod_ip="", host_ip="")


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def write_atomically(directory: Path, files: Payload) -> bool:
    """Make ``directory`` hold exactly ``files`` (blocking); False if it already did.

    Every pod writes one of these (its service-account volume) before it starts, so the
    first write — no ``..data`` yet — makes no system call it can spare: file systems answer
    metadata calls slowly under load."""
    data = directory / DATA_DIR
    fresh = not data.is_symlink()
    if not fresh and _holds(data, files):
        return False
    stamp = time.strftime("%Y_%m_%d_%H_%M_%S", time.gmtime()) + f".{time.time_ns() % 10**9:09d}"
    version = directory / f"..{stamp}"
    version.mkdir(parents=True)  # the volume directory too, the first time
    for relative, (content, mode) in files.items():
        target = version / _inside(relative)
        if target.parent != version:
            target.parent.mkdir(parents=True, exist_ok=True)
        # created with its mode; chmod only where the umask took bits away
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode & 0o777)
        try:
            os.write(descriptor, content)
            if os.fstat(descriptor).st_mode & 0o777 != mode & 0o777:
                os.fchmod(descriptor, mode & 0o777)
        finally:
            os.close(descriptor)
    old = None if fresh else os.readlink(data)
    staging = directory / "..data_tmp"
    if not fresh:
        staging.unlink(missing_ok=True)
    staging.symlink_to(version.name)
    staging.replace(data)  # the atomic switch
    wanted = {_inside(relative).parts[0] for relative in files}
    for name in wanted:
        visible = directory / name
        if fresh or not visible.is_symlink():
            visible.symlink_to(f"{DATA_DIR}/{name}")
    if fresh:
        return True
    for entry in directory.iterdir():  # paths the new version no longer has
        if not entry.name.startswith("..") and entry.name not in wanted and entry.is_symlink():
            entry.unlink()
    if old is not None and old != version.name:
        shutil.rmtree(directory / old, ignore_errors=True)
    return True


def _inside(relative: str) -> Path:
    """``relative`` kept inside the volume (validation refuses ``..`` and absolute paths)."""
    return Path(os.path.normpath("/" + relative).lstrip("/"))


def _holds(data: Path, files: Payload) -> bool:
    present = {p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file()}
    if present != {_inside(r).as_posix() for r in files}:
        return False
    for relative, (content, mode) in files.items():
        path = data / _inside(relative)
        if path.read_bytes() != content or path.stat().st_mode & 0o777 != mode & 0o777:
            return False
    return True
