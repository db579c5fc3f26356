"""The node's heartbeat: a Lease in ``kube-node-lease`` that the kubelet renews.

Rewriting a whole Node object every few seconds just to say "still here" is expensive, so
since Kubernetes 1.14 a kubelet proves it is alive by renewing a small
``coordination.k8s.io/v1`` Lease named after its node in the ``kube-node-lease`` namespace:
``holderIdentity`` is the node's name, ``leaseDurationSeconds`` 40, and ``renewTime`` moves
forward every ``interval`` (upstream: a quarter of the duration, 10 s). The node controller
reads ``renewTime``; once it is older than the grace period it marks the node ``Unknown``.

The Lease is owned by its Node (an ``ownerReference``), so deleting the Node collects its
Lease. A renewal that fails is retried soon with a growing delay (upstream: 200 ms doubling
up to 7 s) rather than waiting a whole interval. ``kube-node-lease`` itself is created by the
API server's bootstrap.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Awaitable, Callable
from typing import Any

from minikube_py.api.stamps import micro_time
from minikube_py.client.protocol import LEASES, NODES, ApiError, Client
from minikube_py.logs import get_logger

Object = dict[str, Any]
NAMESPACE = "kube-node-lease"
DURATION_SECONDS = 40
_RETRY_FIRST, _RETRY_MAX = 0.2, 7.0


class NodeLease:
    """Keeps the Lease of one node renewed; ``run()`` until cancelled."""

    def __init__(
        self,
        client: Client,
        node_name: str,
        *,
        interval: float = 10.0,
        duration_seconds: int = DURATION_SECONDS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.node_name = node_name
        self.interval = interval
        self.duration_seconds = duration_seconds
        self.clock = clock
        self.sleep = sleep
        self.lease: Object | None = None  # as last written: the next update starts from it
        self._log = get_logger("kubelet.lease").bind(node=node_name)

    async def run(self) -> None:
        delay = _RETRY_FIRST
        while True:
            try:
                await self.renew()
            except Exception as error:  # refused, or the server unreachable: retry soon
                self._log.warning("lease renewal failed", error=str(error), retry_in=delay)
                await self.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX)
                continue
            delay = _RETRY_FIRST
            await self.sleep(self.interval)

    async def renew(self) -> Object:
        """Write ``renewTime = now``, creating the Lease if it is missing."""
        if self.lease is None:
            try:
                self.lease = await self.client.get(LEASES, NAMESPACE, self.node_name)
            except ApiError as error:
                if error.code != 404:
                    raise
                self.lease = await self.client.create(LEASES, NAMESPACE, await self._new())
                return self.lease
        wanted = copy.deepcopy(self.lease)
        wanted.setdefault("spec", {}).update(
            holderIdentity=self.node_name,
            leaseDurationSeconds=self.duration_seconds,
            renewTime=micro_time(self.clock()),
        )
        if not wanted.get("metadata", {}).get("ownerReferences"):
            owner = await self._owner()
            if owner:
                wanted["metadata"]["ownerReferences"] = owner
        try:
            self.lease = await self.client.update(LEASES, NAMESPACE, wanted)
        except ApiError as error:
            if error.code in (404, 409):
                self.lease = None  # gone or changed by someone else: start from the server's
            raise
        return self.lease

    async def _new(self) -> Object:
        metadata: Object = {"name": self.node_name, "namespace": NAMESPACE}
        owner = await self._owner()
        if owner:
            metadata["ownerReferences"] = owner
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": metadata,
            "spec": {
                "holderIdentity": self.node_name,
                "leaseDurationSeconds": self.duration_seconds,
                "renewTime": micro_time(self.clock()),
            },
        }

    async def _owner(self) -> list[Object]:
        """The reference to the Node, as upstream sets it; empty while the Node is missing
        (the Lease is then fixed up at a later renewal)."""
        try:
            node = await self.client.get(NODES, None, self.node_name)
        except ApiError:
            return []
        return [
            {
                "apiVersion": "v1",
                "kind": "Node",
                "name": self.node_name,
                "uid": node["metadata"]["uid"],
            }
        ]
