"""The garbage collector: dependents go when their owners go (or are freed, if asked).

Deleting a ReplicaSet deletes its pods because each pod names the ReplicaSet in
``metadata.ownerReferences``, and this controller (upstream's
``pkg/controller/garbagecollector``) watches those references. ``kubectl delete`` chooses
what happens to the dependents with ``propagationPolicy``; the API server turns it into the
owner's state, and this controller acts on that state:

- **Background** (kubectl's default ``--cascade=background``): the owner is removed at once.
  Its dependents' nodes are checked: one whose owners are all gone (a GET by the reference says
  404, or finds a different uid) is deleted; one with another owner still alive only loses the
  dangling reference.
- **Foreground** (``--cascade=foreground``): the owner stays, marked for deletion with the
  ``foregroundDeletion`` finalizer, while its dependents are deleted (in foreground themselves
  if they have dependents of their own). Once no dependent whose reference has
  ``blockOwnerDeletion`` is left, the finalizer is removed and the server removes the owner.
- **Orphan** (``--cascade=orphan``): the owner is held by the ``orphan`` finalizer while the
  reference to it is removed from every dependent; then the finalizer goes, and the owner.

The graph of owners and dependents (``gc_graph.py``) is built from informers over every
resource that can be listed, watched and deleted, custom resources included: the shared
informers of ``gc_resources.MONITORED`` and monitors of the collector's own for the rest
(``gc_monitors.py``), found by discovery.
Workers handle ``delete/<uid>`` keys ("is this object an orphan, or an owner done waiting?")
and ``orphan/<uid>`` keys ("free this owner's dependents"), each re-reading the object from
the API before acting, with its uid and resourceVersion as preconditions of every write.
"""

from __future__ import annotations

from minikube_py.client.informer import Informer
from minikube_py.client.protocol import ApiError, Client, Object
from minikube_py.clock import Clock
from minikube_py.controllers.controller import Controller
from minikube_py.controllers.gc_graph import FOREGROUND, ORPHAN, Graph, Node, delete_key
from minikube_py.controllers.gc_monitors import Monitors
from minikube_py.controllers.gc_resources import MONITORED, Resource, ResourceMap
from minikube_py.controllers.gc_writes import (
    patch_metadata,
    unblocking,
    without_finalizer,
    without_owners,
)
from minikube_py.controllers.informers import SharedInformers

_UNOBSERVED_RECHECK_SECONDS = 30.0  # an owner that exists but none of our informers shows
_UNRESOLVED_RECHECK_SECONDS = 60.0  # an owner or object of a kind discovery does not list
_ABSENT_CACHE_SIZE = 500  # upstream's absentOwnerCache holds 500 uids


class InvalidOwnerReference(Exception):
    """A reference no owner can satisfy: a cluster-scoped dependent of a namespaced kind."""


class GarbageCollector(Controller):
    """Deletes dependents whose owners are gone; runs foreground and orphan deletions."""

    name = "garbagecollector"
    # Upstream's --concurrent-gc-syncs is 20. Here every worker shares one event loop and one
    # store that serialises writes, so more workers add only contention: 5 keep the API busy.
    workers = 5

    def __init__(
        self, client: Client, *, clock: Clock | None = None, workers: int | None = None
    ) -> None:
        super().__init__(client, clock=clock, workers=workers)
        self.graph = Graph()
        self.resources = ResourceMap(client, self.clock)
        self._absent: dict[str, None] = {}  # uids of owners known gone, oldest first
        self.monitors = Monitors(client, self.resources, self._monitor, self.clock)

    # -- the graph ---------------------------------------------------------------------------

    def wire(self, informers: SharedInformers) -> None:
        for resource in MONITORED:
            self._monitor(informers.get(resource.gvr), resource)
        self.monitors.wire(informers)

    def _monitor(self, informer: Informer, resource: Resource) -> None:
        api_version, kind = resource.gvr.api_version, resource.kind

        def observed(obj: Object) -> None:
            self._enqueue(self.graph.observe(obj, api_version, kind))

        def updated(old: Object, new: Object) -> None:
            if old["metadata"].get("uid") != new["metadata"].get("uid"):
                self._enqueue(self.graph.forget(old))  # deleted and made again meanwhile
            observed(new)

        informer.on_add(observed)
        informer.on_update(updated)
        informer.on_delete(lambda obj: self._enqueue(self.graph.forget(obj)))

    def _enqueue(self, keys: list[str]) -> None:
        for key in keys:
            self.queue.add(key)

    async def run_workers(self) -> None:
        async with self.monitors.running():
            await super().run_workers()

    # -- the workers -------------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        action, _, uid = key.partition("/")
        node = self.graph.get(uid)
        if node is None:
            return None
        try:
            if action == "orphan":
                await self._orphan_dependents(node)
                return None
            return await self._attempt_to_delete(node)
        except InvalidOwnerReference as error:  # as upstream: dropped, not retried forever
            self.log.info("ignoring invalid owner reference", key=node.describe(), error=str(error))
            return None
        except LookupError as error:  # a kind discovery does not know (yet): wait for it
            self.log.warning("unresolvable kind; will retry", key=node.describe(), error=str(error))
            return _UNRESOLVED_RECHECK_SECONDS

    async def _latest(self, node: Node) -> tuple[Resource, Object] | None:
        """The node's object as the API has it now; ``None`` (and the node taken out of the
        graph) if it is gone or another object took its name."""
        resource = await self.resources.resolve(node.api_version, node.kind)
        if resource is None:
            raise LookupError(f"no resource serves {node.api_version} {node.kind}")
        namespace = node.namespace if resource.namespaced else None
        try:
            latest = await self.client.get(resource.gvr, namespace, node.name)
        except ApiError as error:
            if error.code != 404:
                raise
            latest = None
        if latest is None or latest["metadata"].get("uid") != node.uid:
            if node.dependents:
                self._remember_absent(node.uid)
            self._enqueue(self.graph.remove(node))
            return None
        return resource, latest

    async def _attempt_to_delete(self, node: Node) -> float | None:
        if node.being_deleted and not node.deleting_dependents:
            return None  # already going, and not waiting for us
        found = await self._latest(node)
        if found is None:
            return None
        resource, latest = found
        metadata = latest["metadata"]
        if node.deleting_dependents:
            await self._process_deleting_dependents(node, resource, latest)
            return None
        references = metadata.get("ownerReferences") or []
        if references:
            await self._collect_if_orphaned(node, resource, latest, references)
        # an owner seen only through its dependents: look again until an informer shows it
        return _UNOBSERVED_RECHECK_SECONDS if node.virtual else None

    async def _collect_if_orphaned(
        self, node: Node, resource: Resource, latest: Object, references: list[Object]
    ) -> None:
        solid, dangling, waiting = [], [], []
        for reference in references:
            owner = await self._owner(reference, node.namespace)
            if owner is None:
                dangling.append(reference)
            elif owner["metadata"].get("deletionTimestamp") and FOREGROUND in (
                owner["metadata"].get("finalizers") or []
            ):
                waiting.append(reference)
            else:
                solid.append(reference)
        if solid:
            if dangling or waiting:  # keep the object, drop the references that are done
                drop = {str(ref["uid"]) for ref in dangling + waiting}
                self.log.info("removing dangling owner references", key=node.describe())
                await patch_metadata(self.client, resource, latest, without_owners(drop))
            return
        if waiting and node.dependents:
            if any(dependent.deleting_dependents for dependent in node.dependents):
                # a cycle of foreground deletions: stop blocking our owners, or none finishes
                waiting_uids = {str(ref["uid"]) for ref in waiting}
                await patch_metadata(self.client, resource, latest, unblocking(waiting_uids))
            await self._delete(node, resource, latest, "Foreground")
            return
        finalizers = latest["metadata"].get("finalizers") or []
        policy = "Background"
        if ORPHAN in finalizers:
            policy = "Orphan"
        elif FOREGROUND in finalizers:
            policy = "Foreground"
        await self._delete(node, resource, latest, policy)

    async def _owner(self, reference: Object, namespace: str | None) -> Object | None:
        """The owner a reference names, or ``None`` if it is gone (or is another object)."""
        uid = str(reference.get("uid"))
        resource = await self.resources.resolve(
            str(reference.get("apiVersion") or ""), str(reference.get("kind") or "")
        )
        if resource is None:  # cannot tell: try again later rather than delete in doubt
            raise LookupError(f"no resource serves {reference.get('apiVersion')} {reference}")
        if resource.namespaced and namespace is None:
            raise InvalidOwnerReference("a cluster-scoped object cannot have a namespaced owner")
        if uid in self._absent:
            return None
        try:
            owner = await self.client.get(
                resource.gvr, namespace if resource.namespaced else None, str(reference["name"])
            )
        except ApiError as error:
            if error.code != 404:
                raise
            owner = None
        if owner is None or owner["metadata"].get("uid") != uid:
            self._remember_absent(uid)
            return None
        return owner

    def _remember_absent(self, uid: str) -> None:
        self._absent[uid] = None
        while len(self._absent) > _ABSENT_CACHE_SIZE:
            del self._absent[next(iter(self._absent))]

    async def _process_deleting_dependents(
        self, node: Node, resource: Resource, latest: Object
    ) -> None:
        """A foreground deletion: done when no dependent blocks; else hurry the blockers."""
        blocking = node.blocking_dependents()
        if not blocking:
            self.log.info("all blocking dependents gone; removing finalizer", key=node.describe())
            await patch_metadata(self.client, resource, latest, without_finalizer(FOREGROUND))
            return
        for dependent in blocking:
            if not dependent.deleting_dependents:
                self.queue.add(delete_key(dependent.uid))

    async def _orphan_dependents(self, node: Node) -> None:
        """Remove the owner's reference from each of its dependents, then its finalizer."""
        for dependent in list(node.dependents):
            found = await self._latest(dependent)
            if found is None:
                continue
            await patch_metadata(self.client, *found, without_owners({node.uid}))
        found = await self._latest(node)
        if found is not None:
            self.log.info("dependents orphaned; removing finalizer", key=node.describe())
            await patch_metadata(self.client, *found, without_finalizer(ORPHAN))

    # -- writes --------------------------------------------------------------------------------

    async def _delete(self, node: Node, resource: Resource, latest: Object, policy: str) -> None:
        """Delete what was judged: the uid and resourceVersion read are preconditions. If only
        something else changed meanwhile (a status), the owners still are as judged, and the
        delete is sent again with just the uid — as upstream's ``deleteObject``."""
        metadata = latest["metadata"]
        self.log.info("deleting item", key=node.describe(), propagation_policy=policy)
        namespace = metadata.get("namespace") if resource.namespaced else None
        preconditions = {"uid": metadata["uid"], "resourceVersion": metadata["resourceVersion"]}
        for _ in range(2):
            try:
                await self.client.delete(
                    resource.gvr,
                    namespace,
                    metadata["name"],
                    propagation_policy=policy,
                    preconditions=preconditions,
                )
                return
            except ApiError as error:
                if error.code == 404:
                    return
                if error.code != 409 or "resourceVersion" not in preconditions:
                    raise
            try:
                now = await self.client.get(resource.gvr, namespace, metadata["name"])
            except ApiError as error:
                if error.code == 404:
                    return
                raise
            if now["metadata"].get("ownerReferences") != metadata.get("ownerReferences"):
                raise ApiError(409, "Conflict", "owner references changed since judged")
            preconditions = {"uid": metadata["uid"]}
