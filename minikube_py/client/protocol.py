"""The ``Client`` protocol: how every component talks to the API server.

Controllers, the scheduler, kubelets, the proxy and the CLI never touch the store; they call
the API, as in Kubernetes. They address a collection by *group, version and resource* (a
``GVR``: ``apps``/``v1``/``deployments``), and an object in it by namespace and name. Objects
are plain JSON-shaped dicts, exactly what the wire carries, and every failure is the
Kubernetes ``Status`` the server answered with, raised as ``ApiError`` (``.code`` 404, 409,
410, 422, …; ``.reason`` ``NotFound``, ``AlreadyExists``, ``Conflict``, ``Expired``, …).

Two clients satisfy this one protocol: ``InProcessClient`` (same process as the API server:
the same admission and storage code, no sockets) and ``HttpClient`` (another process, or
another machine: HTTPS with a client certificate or a bearer token). Code written against
``Client`` runs with either.

A watch is an async iterator of ``(type, object)`` pairs, ``type`` one of ``ADDED``,
``MODIFIED``, ``DELETED`` (and ``BOOKMARK`` if asked for). It ends when the server closes the
stream (``timeout_seconds``, or a slow watcher dropped); the caller then watches again from
the last ``resourceVersion`` it saw. If that version is too old the watch raises ``ApiError``
410 ``Expired``, and the caller lists again — the informer in ``informer.py`` does all this.
A watch is an async generator: it opens its stream when first iterated, not when called, and
holds a connection or a subscription until closed, so a caller that stops before the end
should close it (``async with contextlib.aclosing(client.watch(...))``).
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator
from typing import Any, Literal, Protocol

import attrs

from minikube_py.api.errors import ApiError as ApiError  # re-exported: both clients raise it

Object = dict[str, Any]
PatchType = Literal["merge", "json", "strategic"]

# The Content-Type of each patch type on the wire.
PATCH_CONTENT_TYPES: dict[str, str] = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}


@attrs.frozen
class GVR:
    """A collection's address: ``GVR("apps", "v1", "deployments")``; ``""`` is the core group."""

    group: str
    version: str
    resource: str

    @classmethod
    def parse(cls, text: str) -> GVR:
        """``"apps/v1/deployments"`` or, for the core group, ``"v1/pods"``."""
        parts = text.strip("/").split("/")
        if len(parts) == 2:
            return cls("", parts[0], parts[1])
        if len(parts) == 3 and parts[0]:
            return cls(parts[0], parts[1], parts[2])
        raise ValueError(f"not a group/version/resource: {text!r}")

    @property
    def api_version(self) -> str:
        """The ``apiVersion`` of the objects in it: ``v1`` or ``apps/v1``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(
        self, namespace: str | None = None, name: str | None = None, subresource: str | None = None
    ) -> str:
        """The URL path of the collection, of one object in it, or of an object's subresource."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        parts = [base]
        if namespace is not None:
            parts.append(f"namespaces/{namespace}")
        parts.append(self.resource)
        if name is not None:
            parts.append(name)
            if subresource is not None:
                parts.append(subresource)
        return "/".join(parts)

    def __str__(self) -> str:
        return f"{self.api_version}/{self.resource}"


NAMESPACES = GVR("", "v1", "namespaces")
NODES = GVR("", "v1", "nodes")
PODS = GVR("", "v1", "pods")
SERVICES = GVR("", "v1", "services")
ENDPOINTS = GVR("", "v1", "endpoints")
CONFIGMAPS = GVR("", "v1", "configmaps")
SECRETS = GVR("", "v1", "secrets")
EVENTS = GVR("", "v1", "events")
SERVICE_ACCOUNTS = GVR("", "v1", "serviceaccounts")
PERSISTENT_VOLUMES = GVR("", "v1", "persistentvolumes")
PERSISTENT_VOLUME_CLAIMS = GVR("", "v1", "persistentvolumeclaims")
DEPLOYMENTS = GVR("apps", "v1", "deployments")
REPLICASETS = GVR("apps", "v1", "replicasets")
REPLICATION_CONTROLLERS = GVR("", "v1", "replicationcontrollers")
STATEFULSETS = GVR("apps", "v1", "statefulsets")
DAEMONSETS = GVR("apps", "v1", "daemonsets")
CONTROLLER_REVISIONS = GVR("apps", "v1", "controllerrevisions")
JOBS = GVR("batch", "v1", "jobs")
CRONJOBS = GVR("batch", "v1", "cronjobs")
LEASES = GVR("coordination.k8s.io", "v1", "leases")
ENDPOINT_SLICES = GVR("discovery.k8s.io", "v1", "endpointslices")
INGRESSES = GVR("networking.k8s.io", "v1", "ingresses")
EVENTS_V1 = GVR("events.k8s.io", "v1", "events")


def name_of(obj: Object) -> str:
    """The name in an object's metadata; a client-side error if it has none (as client-go)."""
    name = (obj.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not name:
        raise ValueError("resource name may not be empty")
    return name


def delete_options(
    propagation_policy: str | None,
    grace_period_seconds: int | None,
    preconditions: dict[str, str] | None,
) -> Object:
    """The ``DeleteOptions`` body of a delete (what kubectl sends)."""
    options: Object = {"kind": "DeleteOptions", "apiVersion": "v1"}
    if propagation_policy is not None:
        options["propagationPolicy"] = propagation_policy
    if grace_period_seconds is not None:
        options["gracePeriodSeconds"] = grace_period_seconds
    if preconditions:
        options["preconditions"] = dict(preconditions)
    return options


def raise_watch_error(status: Object) -> None:
    """Turn the ``Status`` of a watch ERROR event into the ``ApiError`` it describes."""
    code = status.get("code")
    raise ApiError(
        code if isinstance(code, int) else 500,
        str(status.get("reason") or "InternalError"),
        str(status.get("message") or "watch failed"),
        details=status.get("details"),
    )


class Client(Protocol):
    """Kubernetes API verbs on ``(gvr, namespace, name)``; ``namespace=None`` for cluster scope."""

    async def get(self, gvr: GVR, namespace: str | None, name: str) -> Object: ...

    async def list(
        self,
        gvr: GVR,
        namespace: str | None = None,
        *,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_token: str | None = None,
        resource_version: str = "",
    ) -> Object:
        """The ``<Kind>List``; ``metadata.continue`` is set when ``limit`` cut it short."""
        ...

    def watch(
        self,
        gvr: GVR,
        namespace: str | None = None,
        *,
        resource_version: str = "",
        label_selector: str = "",
        field_selector: str = "",
        timeout_seconds: int | None = None,
    ) -> AsyncGenerator[tuple[str, Object], None]:
        """Events after ``resource_version``; ``""`` or ``"0"``: ADDED for all current first."""
        ...

    async def create(
        self,
        gvr: GVR,
        namespace: str | None,
        obj: Object,
        *,
        dry_run: bool = False,
        subresource: str | None = None,
    ) -> Object:
        """Create ``obj``; with ``subresource`` (``binding``, ``eviction``), POST ``obj`` to that
        subresource of the object ``obj`` names (as client-go's ``Bind`` and ``Evict``)."""
        ...

    async def update(
        self, gvr: GVR, namespace: str | None, obj: Object, *, dry_run: bool = False
    ) -> Object:
        """Replace the object; its ``metadata.resourceVersion``, if set, must be current."""
        ...

    async def update_status(
        self, gvr: GVR, namespace: str | None, obj: Object, *, dry_run: bool = False
    ) -> Object:
        """Replace only the ``status`` (the ``/status`` subresource)."""
        ...

    async def patch(
        self,
        gvr: GVR,
        namespace: str | None,
        name: str,
        patch: Any,
        *,
        patch_type: PatchType = "merge",
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> Object: ...

    async def delete(
        self,
        gvr: GVR,
        namespace: str | None,
        name: str,
        *,
        propagation_policy: str | None = None,
        grace_period_seconds: int | None = None,
        preconditions: dict[str, str] | None = None,
        dry_run: bool = False,
    ) -> Object:
        """The deleted object, or the object marked for deletion if finalizers must run."""
        ...

    async def finalize_namespace(self, namespace: Object) -> Object:
        """PUT ``namespace`` to its ``finalize`` subresource, as client-go's
        ``Namespaces().Finalize``: only its ``spec.finalizers`` change, and a namespace being
        deleted whose finalizers are all gone is removed by the server."""
        ...

    async def server_preferred_resources(self) -> builtins.list[Object]:
        """Discovery: one ``APIResourceList`` per served API group, at the group's preferred
        version (client-go's ``ServerPreferredResources``). Subresources are listed too, named
        ``resource/subresource``, as the server lists them."""
        ...

    async def close(self) -> None: ...
