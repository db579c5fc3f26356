"""Resource types: how one kind is named, addressed and printed.

Kubernetes addresses every collection by *group, version and resource* (GVR), e.g. ``apps``,
``v1``, ``deployments``; objects in it carry the *kind* ``Deployment``. A resource is either
namespaced (``/apis/apps/v1/namespaces/default/deployments/web``) or cluster-scoped
(``/api/v1/nodes/minikube``). Short names (``deploy``) and categories (``all``) are what
``kubectl`` uses to resolve what you type; subresources (``status``, ``scale``) are extra
endpoints under one object; printer columns are what ``kubectl get`` shows.

One ``ResourceType`` describes one resource completely; ``registry.py`` holds them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

# A cell of ``kubectl get`` output, computed from the whole object.
CellFunction = Callable[[dict[str, Any]], Any]


@attrs.frozen
class Column:
    """One printer column, as upstream's ``TableColumnDefinition``."""

    name: str
    type: str = "string"  # string, integer, number, boolean, date
    description: str = ""
    priority: int = 0  # 1: only with ``-o wide``
    format: str = ""  # "name" for the NAME column
    cell: CellFunction | None = None  # None: computed by the generic printer (NAME, AGE)


@attrs.frozen
class ResourceType:
    """Everything the API server needs to know about one resource."""

    group: str  # "" for the core group
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    # subresources served under one object, e.g. ("status", "scale")
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = (
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    )
    columns: tuple[Column, ...] = ()
    # The OpenAPI v3 schema of a custom resource version (from its CustomResourceDefinition);
    # None for the built-in kinds, whose schemas come from ``schema.py``. Not compared: two
    # types are the same resource whatever their schema.
    schema: dict[str, Any] | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def api_version(self) -> str:
        """``v1`` for the core group, ``<group>/<version>`` otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    @property
    def group_resource(self) -> str:
        """``deployments.apps`` — how upstream's messages name a resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def __str__(self) -> str:
        return f"{self.group_resource}/{self.version}"
