"""Which collections the garbage collector watches, and where an owner reference points.

An ownerReference names its owner by ``apiVersion`` and ``kind``; to ask the API whether the
owner still exists the collector needs the *resource* (``ReplicaSet`` → ``replicasets``) and
whether it is namespaced — upstream's RESTMapper. ``ResourceMap`` knows the kinds the
collector watches from the start and asks discovery (``Client.server_preferred_resources``)
for any other kind, again at most every ``_REDISCOVER_SECONDS``. Any version of a group names
the same object, so the kind is looked up by group and served at the preferred version.

``MONITORED`` are the collections most controllers also watch: the collector reads them
through the shared informers. Every other deletable resource, custom ones included, gets an
informer of the collector's own (``gc_monitors.py``).
"""

from __future__ import annotations

import attrs

from minikube_py.client.protocol import (
    CONFIGMAPS,
    CONTROLLER_REVISIONS,
    CRONJOBS,
    DAEMONSETS,
    DEPLOYMENTS,
    ENDPOINT_SLICES,
    ENDPOINTS,
    GVR,
    JOBS,
    LEASES,
    NODES,
    PERSISTENT_VOLUME_CLAIMS,
    PODS,
    REPLICASETS,
    REPLICATION_CONTROLLERS,
    SECRETS,
    SERVICE_ACCOUNTS,
    SERVICES,
    STATEFULSETS,
    ApiError,
    Client,
)
from minikube_py.clock import Clock

_REDISCOVER_SECONDS = 30.0
CRDS = GVR("apiextensions.k8s.io", "v1", "customresourcedefinitions")


@attrs.frozen
class Resource:
    """A collection, the kind of its objects, and whether they live in namespaces."""

    gvr: GVR
    kind: str
    namespaced: bool = True


MONITORED: tuple[Resource, ...] = (
    Resource(PODS, "Pod"),
    Resource(REPLICASETS, "ReplicaSet"),
    Resource(DEPLOYMENTS, "Deployment"),
    Resource(REPLICATION_CONTROLLERS, "ReplicationController"),
    Resource(DAEMONSETS, "DaemonSet"),
    Resource(STATEFULSETS, "StatefulSet"),
    Resource(CONTROLLER_REVISIONS, "ControllerRevision"),
    Resource(JOBS, "Job"),
    Resource(CRONJOBS, "CronJob"),
    Resource(CONFIGMAPS, "ConfigMap"),
    Resource(SECRETS, "Secret"),
    Resource(SERVICES, "Service"),
    Resource(ENDPOINTS, "Endpoints"),
    Resource(ENDPOINT_SLICES, "EndpointSlice"),
    Resource(SERVICE_ACCOUNTS, "ServiceAccount"),
    Resource(PERSISTENT_VOLUME_CLAIMS, "PersistentVolumeClaim"),
    Resource(LEASES, "Lease"),  # a node's heartbeat Lease is owned by its Node
    Resource(NODES, "Node", namespaced=False),
)


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


class ResourceMap:
    """(group, kind) → ``Resource``: the monitored kinds, custom ones, then discovery."""

    def __init__(self, client: Client, clock: Clock) -> None:
        self.client = client
        self.clock = clock
        self._kinds: dict[tuple[str, str], Resource] = {}
        self._discovered_at: float | None = None
        for resource in MONITORED:
            self.add(resource)

    def add(self, resource: Resource) -> None:
        self._kinds[(resource.gvr.group, resource.kind)] = resource

    async def resolve(self, api_version: str, kind: str) -> Resource | None:
        """The resource of ``kind`` in ``api_version``'s group; ``None`` if not served."""
        key = (group_of(api_version), kind)
        if key not in self._kinds:
            now = self.clock.now()
            if self._discovered_at is None or now - self._discovered_at >= _REDISCOVER_SECONDS:
                self._discovered_at = now
                await self._discover()
        return self._kinds.get(key)

    async def _discover(self) -> None:
        try:
            lists = await self.client.server_preferred_resources()
        except ApiError:
            return  # the next miss asks again
        for listed in lists:
            group, _, version = str(listed.get("groupVersion") or "").rpartition("/")
            for entry in listed.get("resources") or []:
                name = str(entry.get("name") or "")
                if "/" in name or (group, entry.get("kind")) in self._kinds:
                    continue
                gvr = GVR(group, version, name)
                self.add(Resource(gvr, str(entry.get("kind")), bool(entry.get("namespaced"))))
