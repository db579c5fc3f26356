"""The addons minikube_py has, and how a cluster records which are on.

minikube lists its addons with their maintainers (``minikube addons list``); the record of
which are enabled is the ConfigMap ``minikube-py-addons`` in ``kube-system`` (``addons.py``
runs them). This module is the catalogue alone, so that the command line can check an
``--addons`` flag without loading the components.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from minikube_py.cluster.settings import ClusterError

NAMESPACE = "kube-system"
CONFIG_MAP = "minikube-py-addons"


@attrs.frozen
class Addon:
    """One addon as ``minikube addons list`` shows it."""

    name: str
    maintainer: str
    always_on: bool = False  # part of every cluster here; cannot be switched off


CATALOG: dict[str, Addon] = {
    addon.name: addon
    for addon in (
        Addon("default-storageclass", "Kubernetes", always_on=True),
        Addon("ingress", "Kubernetes"),
        Addon("storage-provisioner", "minikube", always_on=True),
    )
}


def check_addons(names: Iterable[str]) -> None:
    """Refuse names that are no addon, in one line naming the addons that exist."""
    unknown = sorted(set(names) - set(CATALOG))
    if unknown:
        raise ClusterError(
            f"unknown addon {', '.join(unknown)}: the addons are {', '.join(sorted(CATALOG))}"
        )


def enabled_addons(record: dict[str, Any] | None) -> set[str]:
    """The addons a record (the ConfigMap, or None where there is none yet) enables."""
    data = (record or {}).get("data") or {}
    chosen = {name for name, value in data.items() if name in CATALOG and value == "true"}
    return chosen | {name for name, addon in CATALOG.items() if addon.always_on}
