"""External addresses for type LoadBalancer Services: what ``minikube tunnel`` provides.

In a cloud, the service controller of the cloud-controller-manager sees a Service of type
LoadBalancer, asks the cloud for a load balancer and writes its address into
``status.loadBalancer.ingress``; until then ``kubectl get svc`` shows ``<pending>`` under
EXTERNAL-IP. minikube has no cloud, and ``minikube tunnel`` fills the gap. Here the
addresses come from the cluster's ``load_balancer_block`` (``NetworkPlan``), a loopback block
of its own, and the service proxy listens on them like on a ClusterIP.

The allocator is a small controller: an informer on Services, a set of dirty keys, one
worker. Each Service of type LoadBalancer without a ``spec.loadBalancerClass`` (a class means
another implementation owns it, as upstream's service controller skips those) gets the
requested ``spec.loadBalancerIP`` if it is in the block and free, else the lowest free
address. A Service that is no longer of type LoadBalancer has its status cleared, which frees
the address; a deleted Service frees its address by being gone. Addresses outside the block or
held twice are replaced. The Events are upstream's: ``EnsuringLoadBalancer``,
``EnsuredLoadBalancer``, ``DeletedLoadBalancer``, ``SyncLoadBalancerFailed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from typing import Any

from minikube_py.client import SERVICES, ApiError, Client, Informer, object_key
from minikube_py.client.events import EventRecorder
from minikube_py.config import NetworkPlan
from minikube_py.logs import get_logger

Object = dict[str, Any]
_log = get_logger("service-controller")
COMPONENT = "service-controller"


def ingress_addresses(service: Object) -> list[str]:
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return [str(entry["ip"]) for entry in ingress if isinstance(entry, dict) and entry.get("ip")]


def wants_address(service: Object) -> bool:
    spec = service.get("spec") or {}
    return spec.get("type") == "LoadBalancer" and not spec.get("loadBalancerClass")


class LoadBalancerAllocator:
    """Assigns and releases load-balancer addresses; ``run`` until cancelled."""

    def __init__(self, client: Client, network: NetworkPlan) -> None:
        self.client = client
        self.block = ipaddress.ip_network(network.load_balancer_block)
        self.services = Informer(client, SERVICES)
        self.events = EventRecorder(client, COMPONENT)
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._held: dict[str, str] = {}  # key → address written by us, before the cache has it

    async def run(self) -> None:
        self.services.on_add(lambda obj: self._enqueue(object_key(obj)))
        self.services.on_update(lambda _old, new: self._enqueue(object_key(new)))
        self.services.on_delete(lambda obj: self._forget(object_key(obj)))
        watching = asyncio.create_task(self.services.run(), name="load-balancer informer")
        try:
            await self.services.wait_synced()
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._dirty:
                    key = min(self._dirty)  # a stable order: the same addresses every run
                    self._dirty.discard(key)
                    await self._reconcile(key)
        finally:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching

    def _enqueue(self, key: str) -> None:
        self._dirty.add(key)
        self._wake.set()

    def _forget(self, key: str) -> None:
        self._dirty.discard(key)
        if self._held.pop(key, None) is not None:
            self._requeue_pending()

    def _requeue_pending(self) -> None:
        """An address was freed: the Services still waiting for one may have it now."""
        for service in self.services.items():
            if wants_address(service) and not ingress_addresses(service):
                self._enqueue(object_key(service))

    def _taken(self, key: str) -> set[str]:
        """Addresses other Services hold (as the cache has them, or as we just wrote)."""
        taken = {address for other, address in self._held.items() if other != key}
        for service in self.services.items():
            if object_key(service) != key and wants_address(service):
                taken.update(ingress_addresses(service))
        return taken

    async def _reconcile(self, key: str) -> None:
        service = self.services.get(key)
        if service is None:
            return
        current = ingress_addresses(service)
        try:
            if not wants_address(service):
                self._held.pop(key, None)
                if self._ours(current):
                    await self._write(service, [])
                    self._requeue_pending()
                    await self.events.record(
                        service, reason="DeletedLoadBalancer", message="Deleted load balancer"
                    )
                return
            taken = self._taken(key)
            if current and all(self._in_block(a) and a not in taken for a in current):
                self._held[key] = current[0]
                return
            address = self._choose(service, taken)
            if address is None:
                await self.events.record(
                    service,
                    reason="SyncLoadBalancerFailed",
                    message="Error syncing load balancer: failed to ensure load balancer: "
                    f"no free address in {self.block}",
                    warning=True,
                )
                return
            await self.events.record(
                service, reason="EnsuringLoadBalancer", message="Ensuring load balancer"
            )
            self._held[key] = address
            await self._write(service, [address])
            _log.info("load balancer address assigned", key=key, address=address)
            await self.events.record(
                service, reason="EnsuredLoadBalancer", message="Ensured load balancer"
            )
        except ApiError as error:
            if error.code != 404:  # a deleted Service needs nothing
                _log.warning("cannot write load balancer status", key=key, error=str(error))
                self._retry_later(key)

    def _retry_later(self, key: str) -> None:
        asyncio.get_running_loop().call_later(1.0, self._enqueue, key)

    def _in_block(self, address: str) -> bool:
        try:
            return ipaddress.ip_address(address) in self.block
        except ValueError:
            return False

    def _ours(self, addresses: list[str]) -> bool:
        return any(self._in_block(address) for address in addresses)

    def _choose(self, service: Object, taken: set[str]) -> str | None:
        requested = (service.get("spec") or {}).get("loadBalancerIP")
        if requested and self._in_block(str(requested)) and str(requested) not in taken:
            return str(requested)
        for host in self.block.hosts():
            if str(host) not in taken:
                return str(host)
        return None

    async def _write(self, service: Object, addresses: list[str]) -> None:
        metadata = service["metadata"]
        ingress = [{"ip": address, "ipMode": "VIP"} for address in addresses]
        await self.client.patch(
            SERVICES,
            metadata.get("namespace"),
            metadata["name"],
            {"status": {"loadBalancer": {"ingress": ingress or None}}},  # None deletes it
            subresource="status",
        )
