"""Paths inside volumes: what keeps a pod's files from escaping the volume they belong to.

A ConfigMap, Secret, downward API or projected volume writes files at paths the pod spec names
(``items: [{key: app.conf, path: conf/app.conf}]``), and a container may mount just a part of
a volume (``subPath: logs/web``). A path like ``../../etc/passwd`` or ``/etc/shadow`` would
reach outside the volume — onto the node itself — so upstream's validation refuses them before
the pod is stored (``validateLocalDescendingPath``, ``validateLocalNonReservedPath``): a path
must be relative, may have no ``..`` element, and an item's path may not start with ``..``
either (``..data`` is the atomic writer's own name). The kubelet checks again when it mounts,
symlinks included (``kubelet/mounts.py``).

``volume_path_causes`` checks the items of every volume of a pod spec, and
``mount_path_causes`` a container's ``subPath`` / ``subPathExpr``, with upstream's messages.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.errors import Cause
from minikube_py.api.validation_causes import (
    as_dict,
    invalid,
    is_int,
    items,
    mapping,
    required,
    text,
)

_MODE = "must be a number between 0 and 0777 (octal), both inclusive"


def descending_path_causes(target: str, path: str) -> list[Cause]:
    """A relative path without ``..`` elements (``validateLocalDescendingPath``)."""
    causes = []
    if target.startswith("/"):
        causes.append(invalid(path, target, "must be a relative path"))
    if ".." in target.split("/"):
        causes.append(invalid(path, target, "must not contain '..'"))
    return causes


def non_reserved_path_causes(target: str, path: str) -> list[Cause]:
    """Also not starting with ``..`` (``validateLocalNonReservedPath``)."""
    causes = descending_path_causes(target, path)
    if target.startswith("..") and not target.startswith("../"):
        causes.append(invalid(path, target, "must not start with '..'"))
    return causes


def _items_causes(source: Any, path: str, *, keyed: bool) -> list[Cause]:
    causes: list[Cause] = []
    for index, item in enumerate(items(source, "items")):
        at = f"{path}.items[{index}]"
        if keyed and not text(item, "key"):
            causes.append(required(f"{at}.key"))
        target = text(item, "path")
        if not target:
            causes.append(required(f"{at}.path"))
        else:
            causes += non_reserved_path_causes(target, f"{at}.path")
        mode = as_dict(item).get("mode")
        if is_int(mode) and not 0 <= mode <= 0o777:
            causes.append(invalid(f"{at}.mode", mode, _MODE))
    return causes


def volume_path_causes(volume: Any, path: str) -> list[Cause]:
    """The item paths of one volume (``path``: ``spec.volumes[0]``)."""
    causes = []
    for source, keyed in (("configMap", True), ("secret", True), ("downwardAPI", False)):
        if source in (volume if isinstance(volume, dict) else {}):
            causes += _items_causes(mapping(volume, source), f"{path}.{source}", keyed=keyed)
    for index, part in enumerate(items(mapping(volume, "projected"), "sources")):
        at = f"{path}.projected.sources[{index}]"
        for source, keyed in (("configMap", True), ("secret", True), ("downwardAPI", False)):
            if isinstance(part, dict) and source in part:
                causes += _items_causes(mapping(part, source), f"{at}.{source}", keyed=keyed)
        token = text(mapping(part, "serviceAccountToken"), "path")
        if token:
            causes += non_reserved_path_causes(token, f"{at}.serviceAccountToken.path")
    return causes


def mount_path_causes(mount: Any, path: str) -> list[Cause]:
    """A volume mount's ``subPath`` / ``subPathExpr`` (``path``: ``…volumeMounts[0]``)."""
    causes = []
    sub_path, expression = text(mount, "subPath"), text(mount, "subPathExpr")
    if sub_path:
        causes += descending_path_causes(sub_path, f"{path}.subPath")
    if expression:
        if sub_path:
            exclusive = "subPathExpr and subPath are mutually exclusive"
            causes.append(invalid(f"{path}.subPathExpr", expression, exclusive))
        causes += descending_path_causes(expression, f"{path}.subPathExpr")
    return causes
