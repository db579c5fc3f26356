"""The Endpoints controller: each selecting Service's ready and not-ready pod addresses.

A Service with a ``selector`` is backed by the pods it selects. This controller (upstream's
``pkg/controller/endpoint``) keeps, for every such Service, a core/v1 ``Endpoints`` object of
the same name listing those pods' addresses and ports (``endpoints_subsets.py``); older
service proxies, DNS servers and ``kubectl describe service`` read it. The key is the
Service's ``namespace/name``; a reconcile:

1. **Service gone:** delete its Endpoints (upstream sets no owner reference on them; it
   deletes them itself). At start every Endpoints object is checked once the same way, so
   those of Services deleted while no controller ran go too — except leader-election records.
2. **Not ours:** an ``ExternalName`` Service gets none, and a Service without a selector keeps
   whatever Endpoints its user wrote by hand.
3. **Compare, then write:** the desired subsets, labels (the Service's, plus
   ``service.kubernetes.io/headless`` for a headless one) and annotations
   (``last-change-trigger-time``, ``over-capacity`` past 1000 addresses) are compared with the
   cached object, and nothing is written when they match — most pod changes touch no Service.

A write that fails is a ``FailedToCreateEndpoint`` / ``FailedToUpdateEndpoint`` Warning event,
and the key backs off. After an update, the replaced version is remembered: seeing it again in
the cache means the cache lags our own write, and the key waits for the cache instead of
writing from stale data (upstream's staleEndpointsTracker).
"""

from __future__ import annotations

from typing import Any

from minikube_py.client.informer import object_key
from minikube_py.client.protocol import ENDPOINTS, PODS, SERVICES, ApiError, Client, Object
from minikube_py.clock import Clock
from minikube_py.controllers.controller import Controller
from minikube_py.controllers.endpoints_pods import (
    is_headless,
    service_pods,
    watch_members,
)
from minikube_py.controllers.endpoints_subsets import (
    OVER_CAPACITY,
    TRUNCATED,
    desired_subsets,
    normalized,
    truncate,
)
from minikube_py.controllers.endpoints_triggers import (
    LAST_CHANGE_TRIGGER_TIME,
    TriggerTimeTracker,
    format_time,
)
from minikube_py.controllers.informers import SharedInformers
from minikube_py.controllers.podcontrol import namespace_terminating

HEADLESS_LABEL = "service.kubernetes.io/headless"
LEADER_ANNOTATION = "control-plane.alpha.kubernetes.io/leader"  # resourcelock's record
STALE_RETRY = 1.0  # seconds; a backstop; the cache catching up wakes the key sooner


def _meta(obj: Object) -> dict[str, Any]:
    return obj.get("metadata") or {}


class EndpointsController(Controller):
    """Keeps an ``Endpoints`` object for each Service with a selector."""

    name = "endpoint"
    component = "endpoint-controller"
    workers = 5  # kube-controller-manager's --concurrent-endpoint-syncs
    max_retries = 15

    def __init__(
        self, client: Client, *, clock: Clock | None = None, workers: int | None = None
    ) -> None:
        super().__init__(client, clock=clock, workers=workers)
        self.triggers = TriggerTimeTracker()
        self._replaced: dict[str, str] = {}  # key -> resourceVersion our last update replaced
        self._waiting: set[str] = set()  # keys waiting for the cache to show our write

    def wire(self, informers: SharedInformers) -> None:
        self.services = informers.get(SERVICES)
        self.pods = informers.get(PODS)
        self.endpoints = informers.get(ENDPOINTS)
        watch_members(self, self.services, self.pods)
        self.endpoints.on_delete(self.enqueue)  # deleted by someone: made again if due
        self.endpoints.on_update(self._endpoints_updated)

    def _endpoints_updated(self, _old: Object, new: Object) -> None:
        key = object_key(new)
        if key in self._waiting:
            self._waiting.discard(key)
            self.queue.add(key)

    async def run_workers(self) -> None:
        # upstream's checkLeftoverEndpoints: the caches are synced by now
        for endpoints in self.endpoints.items():
            if LEADER_ANNOTATION not in (_meta(endpoints).get("annotations") or {}):
                self.enqueue(endpoints)
        await super().run_workers()

    async def reconcile(self, key: str) -> float | None:
        namespace, _, name = key.partition("/")
        service = self.services.get(key)
        if service is None:
            try:
                await self.client.delete(ENDPOINTS, namespace, name)
                self.log.info("deleted endpoints of a deleted service", key=key)
            except ApiError as error:
                if error.code != 404:
                    raise
            self.triggers.forget(key)
            self._replaced.pop(key, None)
            self._waiting.discard(key)
            return None
        pods = service_pods(service, self.pods.by_namespace(namespace))
        if pods is None:
            return None
        trigger = self.triggers.compute(key, service, pods)
        subsets, truncated = truncate(desired_subsets(service, pods))
        current = self.endpoints.get(key)
        if current is not None and self._replaced.get(key) == _meta(current).get("resourceVersion"):
            self.log.debug("endpoints cache is out of date; waiting", key=key)
            self._waiting.add(key)
            return STALE_RETRY
        labels = dict(_meta(service).get("labels") or {})
        if is_headless(service):
            labels[HEADLESS_LABEL] = ""
        else:
            labels.pop(HEADLESS_LABEL, None)
        if current is not None and _unchanged(current, subsets, labels, truncated):
            return None
        await self._write(service, current, subsets, labels, trigger=trigger, truncated=truncated)
        return None

    async def _write(
        self,
        service: Object,
        current: Object | None,
        subsets: list[Object],
        labels: dict[str, str],
        *,
        trigger: Any,
        truncated: bool,
    ) -> None:
        namespace, name = _meta(service)["namespace"], _meta(service)["name"]
        metadata = dict(_meta(current)) if current is not None else {"name": name}
        metadata["namespace"] = namespace
        metadata["labels"] = labels
        annotations = dict(metadata.get("annotations") or {})
        if trigger is not None:
            annotations[LAST_CHANGE_TRIGGER_TIME] = format_time(trigger)
        else:
            annotations.pop(LAST_CHANGE_TRIGGER_TIME, None)
        if truncated:
            annotations[OVER_CAPACITY] = TRUNCATED
        else:
            annotations.pop(OVER_CAPACITY, None)
        if annotations:
            metadata["annotations"] = annotations
        else:
            metadata.pop("annotations", None)
        body: Object = {"apiVersion": "v1", "kind": "Endpoints", "metadata": metadata}
        if subsets:  # omitted when empty, as upstream's omitempty
            body["subsets"] = subsets
        key = f"{namespace}/{name}"
        try:
            if current is None:
                await self.client.create(ENDPOINTS, namespace, body)
            else:
                updated = await self.client.update(ENDPOINTS, namespace, body)
                replaced = str(_meta(current).get("resourceVersion") or "")
                if _meta(updated).get("resourceVersion") != replaced:
                    self._replaced[key] = replaced
        except ApiError as error:
            if current is None and error.code == 403 and namespace_terminating(error):
                return  # its namespace is going: creates will keep failing, drop the key
            if current is None:
                reason = "FailedToCreateEndpoint"
                message = f"Failed to create endpoint for service {key}: {error.message}"
            else:
                reason = "FailedToUpdateEndpoint"
                message = f"Failed to update endpoint {key}: {error.message}"
            await self.recorder.record(body, reason=reason, message=message, warning=True)
            raise
        self.log.info(
            "created endpoints" if current is None else "updated endpoints",
            key=key,
            addresses=sum(len(s.get("addresses") or []) for s in subsets),
            not_ready=sum(len(s.get("notReadyAddresses") or []) for s in subsets),
        )


def _unchanged(current: Object, subsets: list[Object], labels: dict[str, str], over: bool) -> bool:
    annotations = _meta(current).get("annotations") or {}
    return (
        normalized(current.get("subsets")) == subsets
        and (_meta(current).get("labels") or {}) == labels
        and (OVER_CAPACITY in annotations) == over
    )
