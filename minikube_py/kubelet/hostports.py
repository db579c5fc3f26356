"""Host ports: a pod's ``hostPort`` answered on its node's address.

A container port with ``hostPort: 8080`` asks the node to pass its own port 8080 to the pod.
Upstream the kubelet leaves this to the container network's ``portmap`` plugin, which adds
NAT rules when the pod's sandbox is created and removes them with it. With no network
namespaces and no root there are no NAT rules to add; instead the kubelet listens on
``<node address>:<hostPort>`` itself and relays each connection to
``<pod address>:<containerPort>`` (TCP; a UDP host port is refused with a clear message, as a
datagram relay is not built). The listener opens with the sandbox, before any container runs,
and closes when the sandbox is torn down; connections relayed at that moment are closed.

A port already taken on the node's address fails the sandbox as upstream's plugin does
(``FailedCreatePodSandBox``, retried with back-off); the scheduler's NodePorts filter keeps two
pods with the same host port off one node in the first place. ``hostNetwork`` pods need no
relay: they run on the node's address, so their own bind is the host port.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

import attrs

Object = dict[str, Any]
_CHUNK = 65536


class HostPortError(Exception):
    """A host port could not be opened; the message says which and why."""


@attrs.frozen
class Mapping:
    """``<node address>:host_port`` → ``<pod address>:container_port``."""

    host_port: int
    container_port: int
    protocol: str = "TCP"


def mappings(pod: Object) -> list[Mapping]:
    """The host ports a pod asks for (none for a ``hostNetwork`` pod: it binds them itself)."""
    spec = pod.get("spec") or {}
    if spec.get("hostNetwork"):
        return []
    found = []
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or []:
            for port in container.get("ports") or []:
                host_port = port.get("hostPort")
                if isinstance(host_port, int) and host_port > 0:
                    protocol = str(port.get("protocol") or "TCP")
                    found.append(Mapping(host_port, int(port["containerPort"]), protocol))
    return found


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()  # a half-close travels on, as through NAT
    except (ConnectionError, OSError):
        writer.close()


class HostPorts:
    """The open host-port listeners of one node, by pod uid."""

    def __init__(self, node_address: str) -> None:
        self.node_address = node_address
        self._servers: dict[str, list[asyncio.Server]] = {}
        self._relays: dict[str, set[asyncio.Task[None]]] = {}

    async def open(self, uid: str, pod_address: str, wanted: Iterable[Mapping]) -> None:
        """Listen for every mapping of pod ``uid``; all or none (HostPortError)."""
        servers: list[asyncio.Server] = []
        try:
            for mapping in wanted:
                if mapping.protocol != "TCP":
                    raise HostPortError(
                        f"hostPort {mapping.host_port}/{mapping.protocol}: only TCP host ports "
                        "are relayed by this kubelet"
                    )
                servers.append(await self._listen(uid, pod_address, mapping))
        except BaseException:
            for server in servers:
                server.close()
            raise
        if servers:
            self._servers[uid] = servers

    async def _listen(self, uid: str, pod_address: str, mapping: Mapping) -> asyncio.Server:
        async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            relays = self._relays.setdefault(uid, set())
            relays.add(task)
            try:
                upstream = await asyncio.open_connection(pod_address, mapping.container_port)
            except OSError:
                writer.close()  # nothing listens in the pod: the client sees the refusal
                relays.discard(task)
                return
            try:
                await asyncio.gather(_pump(reader, upstream[1]), _pump(upstream[0], writer))
            finally:
                upstream[1].close()
                writer.close()
                relays.discard(task)

        try:
            return await asyncio.start_server(
                relay, self.node_address, mapping.host_port, reuse_address=True
            )
        except OSError as error:
            raise HostPortError(
                f"cannot open hostPort {mapping.host_port} on {self.node_address}: "
                f"{error.strerror or error}"
            ) from None

    async def close(self, uid: str) -> None:
        """Stop listening for pod ``uid`` and end the connections relayed to it."""
        for server in self._servers.pop(uid, []):
            server.close()
        relays = self._relays.pop(uid, set())
        for task in relays:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*relays, return_exceptions=True)

    async def close_all(self) -> None:
        for uid in list(self._servers):
            await self.close(uid)
