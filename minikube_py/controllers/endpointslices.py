"""The EndpointSlice controller: each selecting Service's pods as ``EndpointSlice`` objects.

EndpointSlices are the scalable successor of the Endpoints object: instead of one object
listing every backend of a Service, a Service has slices of at most 100 endpoints each, so a
change to one pod of a big Service rewrites one small slice. The service proxy and DNS read
them. This controller (upstream's ``pkg/controller/endpointslice`` over the
``k8s.io/endpointslice`` reconciler) keys on the Service's ``namespace/name``; a reconcile:

1. **Service gone:** nothing to do — its slices carry an owner reference to it, and the
   garbage collector deletes them. ``ExternalName`` Services and Services without a selector
   get no slices (hand-made slices of the latter are left alone).
2. **Cache fresh?** If our last writes are not in the slice cache yet (``endpoints_tracker``)
   it waits for them instead of planning from stale data, which would duplicate slices.
3. **Plan and write** (``endpoints_slices.plan_slices``): create, update (with the
   ``last-change-trigger-time`` annotation) and delete as little as possible; nothing at all
   when the slices already say what the pods say.

Pods on a node the cache does not know are left out and the key comes back later, as
upstream. Failures are a ``FailedToUpdateEndpointSlices`` Warning event on the Service, and
the key backs off. Slices edited or deleted by anyone else bring the Service back a second
later, so the controller puts them right.
"""

from __future__ import annotations

from typing import Any

from minikube_py.client.protocol import (
    ENDPOINT_SLICES,
    NODES,
    PODS,
    SERVICES,
    ApiError,
    Client,
    Object,
)
from minikube_py.clock import Clock
from minikube_py.controllers.controller import Controller
from minikube_py.controllers.endpoints_pods import service_pods, watch_members
from minikube_py.controllers.endpoints_sliceparts import (
    CONTROLLER_NAME,
    MANAGED_BY_LABEL,
    SERVICE_NAME_LABEL,
)
from minikube_py.controllers.endpoints_slices import MAX_ENDPOINTS_PER_SLICE, SlicePlan, plan_slices
from minikube_py.controllers.endpoints_tracker import SliceTracker
from minikube_py.controllers.endpoints_triggers import (
    LAST_CHANGE_TRIGGER_TIME,
    Moment,
    TriggerTimeTracker,
    format_time,
)
from minikube_py.controllers.informers import SharedInformers
from minikube_py.controllers.podcontrol import namespace_terminating
from minikube_py.controllers.queue import ItemExponentialBackoff, WorkQueue

SLICE_CHANGE_DELAY = 1.0  # upstream's endpointSliceChangeMinSyncDelay
STALE_RETRY = 1.0  # seconds; a backstop; the cache catching up wakes the key sooner


class SyncError(Exception):
    """A sync that wrote what it could, but not everything; the key is retried."""


def _meta(obj: Object) -> dict[str, Any]:
    return obj.get("metadata") or {}


class EndpointSliceController(Controller):
    """Keeps the EndpointSlices of each Service with a selector."""

    name = "endpointslice"
    component = "endpoint-slice-controller"
    workers = 5  # kube-controller-manager's --concurrent-service-endpoint-syncs
    max_retries = 15

    def __init__(
        self,
        client: Client,
        *,
        clock: Clock | None = None,
        workers: int | None = None,
        max_endpoints_per_slice: int = MAX_ENDPOINTS_PER_SLICE,
    ) -> None:
        super().__init__(client, clock=clock, workers=workers)
        # upstream backs this controller off from 1s (not 5ms): a failed sync of a big
        # Service is many writes, and retrying fast would flood the API server
        self.queue = WorkQueue(clock=self.clock, rate_limiter=ItemExponentialBackoff(1.0, 1000.0))
        self.max_endpoints_per_slice = max_endpoints_per_slice
        self.triggers = TriggerTimeTracker()
        self.tracker = SliceTracker()
        self._waiting: set[str] = set()  # keys waiting for the cache to show our writes

    # -- wiring -----------------------------------------------------------------------------

    def wire(self, informers: SharedInformers) -> None:
        self.services = informers.get(SERVICES)
        self.pods = informers.get(PODS)
        self.nodes = informers.get(NODES)
        self.slices = informers.get(ENDPOINT_SLICES)
        watch_members(self, self.services, self.pods)
        self.slices.on_add(self._slice_changed)
        self.slices.on_update(self._slice_updated)
        self.slices.on_delete(self._slice_deleted)

    def _slice_updated(self, old: Object, new: Object) -> None:
        key = _service_key(old)
        if key is not None and _managed(old) and not _managed(new):  # taken from us
            self.queue.add_after(key, SLICE_CHANGE_DELAY)
        self._slice_changed(new)

    def _slice_changed(self, endpoint_slice: Object) -> None:
        key = _service_key(endpoint_slice)
        if key is None or not _managed(endpoint_slice):
            return
        if self.tracker.should_sync(key, endpoint_slice):
            self.queue.add_after(key, SLICE_CHANGE_DELAY)
        elif key in self._waiting:  # our write reached the cache: the sync may go on
            self._waiting.discard(key)
            self.queue.add(key)

    def _slice_deleted(self, endpoint_slice: Object) -> None:
        key = _service_key(endpoint_slice)
        if key is None or not _managed(endpoint_slice):
            return
        if self.tracker.has(key, endpoint_slice) and not self.tracker.deleted(key, endpoint_slice):
            self.queue.add_after(key, SLICE_CHANGE_DELAY)  # someone else deleted it
        elif key in self._waiting:
            self._waiting.discard(key)
            self.queue.add(key)

    # -- reconciling ------------------------------------------------------------------------

    async def reconcile(self, key: str) -> float | None:
        namespace, _, name = key.partition("/")
        service = self.services.get(key)
        if service is None:
            self.triggers.forget(key)
            self.tracker.forget(key)
            self._waiting.discard(key)
            return None
        pods = service_pods(service, self.pods.by_namespace(namespace))
        if pods is None:
            return None
        slices = [
            s
            for s in self.slices.by_label(SERVICE_NAME_LABEL, name)
            if _meta(s).get("namespace") == namespace
            and _managed(s)
            and not _meta(s).get("deletionTimestamp")
        ]
        if self.tracker.stale(key, slices):
            self.log.debug("EndpointSlice informer cache is out of date; waiting", key=key)
            self._waiting.add(key)
            return STALE_RETRY
        trigger = self.triggers.compute(key, service, pods)
        plan = plan_slices(
            service, pods, slices, self.nodes.get, max_per_slice=self.max_endpoints_per_slice
        )
        problems = list(plan.problems)
        try:
            await self._write(key, service, plan, trigger)
        except SyncError as error:
            problems.append(str(error))
        if problems:
            message = problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]"
            await self.recorder.record(
                {**service, "apiVersion": "v1", "kind": "Service"},
                reason="FailedToUpdateEndpointSlices",
                message=f"Error updating Endpoint Slices for Service {key}: {message}",
                warning=True,
            )
            raise SyncError(message)
        return None

    async def _write(
        self, key: str, service: Object, plan: SlicePlan, trigger: Moment | None
    ) -> None:
        """Create, update, delete; stop at the first failure (as upstream's finalize)."""
        namespace, name = key.split("/", 1)
        if not _meta(service).get("deletionTimestamp"):
            # not while the Service is being deleted: the GC would race the new slices
            for endpoint_slice in plan.create:
                try:
                    made = await self.client.create(
                        ENDPOINT_SLICES, namespace, _stamped(endpoint_slice, trigger)
                    )
                except ApiError as error:
                    if namespace_terminating(error):
                        return  # creates will keep failing until it is gone
                    raise SyncError(
                        f"failed to create EndpointSlice for Service {key}: {error.message}"
                    ) from error
                self.tracker.wrote(key, made)
                self.log.info("created EndpointSlice", key=key, slice=_meta(made).get("name"))
        for endpoint_slice in plan.update:
            slice_name = _meta(endpoint_slice).get("name")
            try:
                updated = await self.client.update(
                    ENDPOINT_SLICES, namespace, _stamped(endpoint_slice, trigger)
                )
            except ApiError as error:
                raise SyncError(
                    f"failed to update {slice_name} EndpointSlice for Service {key}: "
                    f"{error.message}"
                ) from error
            self.tracker.wrote(key, updated)
            self.log.info("updated EndpointSlice", key=key, slice=slice_name)
        for endpoint_slice in plan.delete:
            slice_name = _meta(endpoint_slice).get("name")
            try:
                await self.client.delete(ENDPOINT_SLICES, namespace, str(slice_name))
            except ApiError as error:
                if error.code != 404:
                    raise SyncError(
                        f"failed to delete {slice_name} EndpointSlice for Service {key}: "
                        f"{error.message}"
                    ) from error
            self.tracker.deleting(key, endpoint_slice)
            self.log.info("deleted EndpointSlice", key=key, slice=slice_name, service=name)


def _managed(endpoint_slice: Object) -> bool:
    return bool(
        (_meta(endpoint_slice).get("labels") or {}).get(MANAGED_BY_LABEL) == CONTROLLER_NAME
    )


def _service_key(endpoint_slice: Object) -> str | None:
    name = (_meta(endpoint_slice).get("labels") or {}).get(SERVICE_NAME_LABEL)
    return f"{_meta(endpoint_slice).get('namespace')}/{name}" if name else None


def _stamped(endpoint_slice: Object, trigger: Moment | None) -> Object:
    """The slice as written: the trigger time annotated (or the stale one dropped), and
    empty lists as ``null``, which is how upstream's slices read back from storage."""
    metadata = dict(_meta(endpoint_slice))
    annotations = dict(metadata.get("annotations") or {})
    if trigger is not None:
        annotations[LAST_CHANGE_TRIGGER_TIME] = format_time(trigger)
    else:
        annotations.pop(LAST_CHANGE_TRIGGER_TIME, None)
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    body = {
        **endpoint_slice,
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": metadata,
    }
    for field in ("endpoints", "ports"):
        if not body.get(field):
            body[field] = None
    return body
