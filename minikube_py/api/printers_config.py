"""Printer columns of the configuration and accounting kinds of the core group.

Namespaces (STATUS is their phase, ``Active`` or ``Terminating``), config maps and secrets
(DATA counts keys, never shows values), service accounts, pod templates, and resource quotas,
whose REQUEST and LIMIT columns print ``used/hard`` per resource (``pods: 2/10``). Limit
ranges have no upstream printer and get the default NAME / CREATED AT columns.
"""

from __future__ import annotations

from minikube_py.api.printers import (
    AGE,
    DEFAULT_COLUMNS,
    NAME,
    Obj,
    container_cells,
    dig,
    format_labels,
    items,
    mapping,
    text,
)
from minikube_py.api.resources import CellFunction, Column

NAMESPACE_COLUMNS = (
    NAME,
    Column(
        "Status",
        description="The status of the namespace",
        cell=lambda ns: text(ns, "status", "phase"),
    ),
    AGE,
)
CONFIGMAP_COLUMNS = (
    NAME,
    Column(
        "Data",
        description="Data contains the configuration data.",
        cell=lambda cm: len(mapping(cm, "data")) + len(mapping(cm, "binaryData")),
    ),
    AGE,
)
SECRET_COLUMNS = (
    NAME,
    Column(
        "Type",
        description="Used to facilitate programmatic handling of secret data.",
        cell=lambda s: text(s, "type"),
    ),
    Column(
        "Data", description="Data contains the secret data.", cell=lambda s: len(mapping(s, "data"))
    ),
    AGE,
)
SERVICEACCOUNT_COLUMNS = (
    NAME,
    Column(
        "Secrets",
        description="Secrets is a list of the secrets in the same namespace.",
        cell=lambda sa: len(items(sa, "secrets")),
    ),
    AGE,
)
PODTEMPLATE_COLUMNS = (
    NAME,
    Column(
        "Containers",
        description="Names of each container in the template.",
        cell=lambda t: container_cells(items(t, "template", "spec", "containers"))[0],
    ),
    Column(
        "Images",
        description="Images referenced by each container in the template.",
        cell=lambda t: container_cells(items(t, "template", "spec", "containers"))[1],
    ),
    Column(
        "Pod Labels",
        description="The labels for the pod template.",
        cell=lambda t: format_labels(dig(t, "template", "metadata", "labels")),
    ),
)


def _quota(limits: bool) -> CellFunction:
    def cell(quota: Obj) -> str:
        hard, used = mapping(quota, "status", "hard"), mapping(quota, "status", "used")
        parts = []
        for resource in sorted(hard):
            if (resource.split(".")[0] == "limits" and "." in resource) == limits:
                parts.append(f"{resource}: {used.get(resource, '0')}/{hard[resource]}")
        return ", ".join(parts)

    return cell


RESOURCEQUOTA_COLUMNS = (
    NAME,
    Column(
        "Request",
        description="Request represents a minimum amount of cpu/memory that a "
        "container may consume.",
        cell=_quota(limits=False),
    ),
    Column(
        "Limit",
        description="Limits control the maximum amount of cpu/memory that a "
        "container may use independent of contention on the node.",
        cell=_quota(limits=True),
    ),
    AGE,
)
LIMITRANGE_COLUMNS = DEFAULT_COLUMNS
