"""Discovery: telling clients which groups, versions and resources are served.

Before ``kubectl get deploy`` can send a request it must learn that ``deploy`` is a short name
of ``deployments`` in ``apps/v1``. It asks ``/api`` and ``/apis`` for the groups and versions,
then each ``/api/v1`` and ``/apis/<group>/<version>`` for an ``APIResourceList``. We answer in
the classic JSON shapes (WIRE.md), which every client library reads — and, to a client that
asks for it as kubectl 1.32 does, with aggregated discovery: every group's resources in one
answer to ``/apis``. All of it is derived from the registry.
"""

from __future__ import annotations

import platform
from typing import Any

from minikube_py.api.catalog import subresource
from minikube_py.api.registry import Registry
from minikube_py.api.resources import ResourceType
from minikube_py.config import KUBERNETES_VERSION as KUBERNETES_VERSION  # where it is used


def version_info() -> dict[str, str]:
    """``/version``: all nine fields, since the Python client requires every one."""
    return {
        "major": "1",
        "minor": KUBERNETES_VERSION.split(".")[1],
        "gitVersion": KUBERNETES_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2024-12-11T00:00:00Z",
        "goVersion": f"python{platform.python_version()}",
        "compiler": "cpython",
        "platform": f"{platform.system().lower()}/{_arch()}",
    }


def _arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def api_group_list(registry: Registry) -> dict[str, Any]:
    groups = [_group(name, versions) for name, versions in registry.groups().items()]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, name: str) -> dict[str, Any] | None:
    versions = registry.groups().get(name)
    if versions is None:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def _aliases(rt: ResourceType) -> dict[str, list[str]]:
    """The other names a kind answers to — ``shortNames`` (``deploy``) and ``categories``
    (``all``) — each only when it has some, as both discovery shapes carry them."""
    aliases = {"shortNames": list(rt.short_names), "categories": list(rt.categories)}
    return {field: names for field, names in aliases.items() if names}


def _entries(rt: ResourceType) -> list[dict[str, Any]]:
    main: dict[str, Any] = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
        **_aliases(rt),
    }
    entries = [main]
    for name in rt.subresources:
        sub = subresource(rt, name)
        entry: dict[str, Any] = {
            "name": f"{rt.plural}/{name}",
            "singularName": "",
            "namespaced": rt.namespaced,
            "kind": sub.kind,
            "verbs": list(sub.verbs),
        }
        if (sub.group, sub.version) != (rt.group, rt.version):
            entry.update(group=sub.group, version=sub.version)
        entries.append(entry)
    return entries


def api_resource_list(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    types = registry.in_group_version(group, version)
    if not types:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [entry for rt in types for entry in _entries(rt)],
    }


# -- aggregated discovery (apidiscovery.k8s.io/v2) ---------------------------------------------
#
# kubectl 1.32 asks ``/api`` and ``/apis`` for an ``APIGroupDiscoveryList`` first (its Accept
# header names it); a server that answers with one saves it a request per group version —
# twenty-odd TLS requests on a fresh cache. Older clients ask for plain JSON and get the
# ``APIVersions`` / ``APIGroupList`` above.

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def wants_aggregated(accept: str) -> bool:
    """Whether an Accept header asks for aggregated discovery v2 (one of its media types)."""
    for media in accept.split(","):
        kind, *params = (part.strip() for part in media.split(";"))
        values = dict(param.partition("=")[::2] for param in params)
        if (kind, values.get("g"), values.get("v"), values.get("as")) == (
            "application/json",
            "apidiscovery.k8s.io",
            "v2",
            "APIGroupDiscoveryList",
        ):
            return True
    return False


def _kind(group: str, version: str, kind: str) -> dict[str, str]:
    return {"group": group, "version": version, "kind": kind}


def _resource_discovery(rt: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": rt.plural,
        "responseKind": _kind(rt.group, rt.version, rt.kind),
        "scope": "Namespaced" if rt.namespaced else "Cluster",
        "singularResource": rt.singular,
        "verbs": list(rt.verbs),
        **_aliases(rt),
    }
    subresources = []
    for name in rt.subresources:
        sub = subresource(rt, name)
        subresources.append(
            {
                "subresource": name,
                "responseKind": _kind(sub.group, sub.version, sub.kind),
                "verbs": list(sub.verbs),
            }
        )
    if subresources:
        entry["subresources"] = subresources
    return entry


def _group_discovery(registry: Registry, group: str, versions: list[str]) -> dict[str, Any]:
    return {
        "metadata": {"name": group} if group else {},
        "versions": [
            {
                "version": version,
                "resources": [
                    _resource_discovery(rt) for rt in registry.in_group_version(group, version)
                ],
                "freshness": "Current",
            }
            for version in versions
        ],
    }


def aggregated(registry: Registry, legacy: bool) -> dict[str, Any]:
    """``/api`` (the core group, ``legacy``) or ``/apis`` as one ``APIGroupDiscoveryList``."""
    groups = {"": ["v1"]} if legacy else registry.groups()
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": [_group_discovery(registry, name, vs) for name, vs in groups.items()],
    }
