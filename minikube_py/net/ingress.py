"""The Ingress controller: ingress-nginx in-process, what ``minikube addons enable ingress`` runs.

An Ingress is only a wish ("send ``hello-world.example/`` to Service ``web`` port 8080");
an Ingress *controller* makes it true. This one is an ordinary API client: it watches
Ingresses, IngressClasses, Services, EndpointSlices and Secrets through informers, turns the
Ingresses of its class into a routing table (``ingress_rules``) with their certificates
(``ingress_tls``) whenever they change, and runs an HTTP and an HTTPS reverse proxy
(``ingress_proxy``) that sends each request straight to a ready pod of the chosen Service
(``ingress_endpoints``), as ingress-nginx does.

Where it listens: the control-plane node's address (what ``minikube ip`` shows), ports 80
and 443 as in minikube. A process that may not bind ports below 1024 (not root, no
``CAP_NET_BIND_SERVICE``, ``net.ipv4.ip_unprivileged_port_start`` above 80) listens on
``LOW_PORT_OFFSET + port`` instead — 64592 for HTTP, 64955 for HTTPS — and says so in the log;
``http_port`` / ``https_port`` hold the ports really used (pass 0 for free ports, as tests do).

What it tells users, as ingress-nginx: the Event ``Sync`` "Scheduled for sync" on every
Ingress it takes (again after each change, its own status update included), the node address
in ``status.loadBalancer.ingress`` (``kubectl get ingress`` ADDRESS) — removed again when it
stops, as upstream's ``--update-status-on-shutdown`` — and log lines for rules and
certificates it cannot use. It creates the default IngressClass ``nginx`` at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any

from minikube_py.client.events import EventRecorder
from minikube_py.client.informer import Informer
from minikube_py.client.protocol import (
    ENDPOINT_SLICES,
    INGRESSES,
    SECRETS,
    SERVICES,
    Client,
)
from minikube_py.config import LOW_PORT_OFFSET, listen_port
from minikube_py.logs import get_logger
from minikube_py.net.ingress_endpoints import SERVICE_NAME_LABEL, EndpointPicker
from minikube_py.net.ingress_proxy import IngressProxy
from minikube_py.net.ingress_rules import Backend, build_table
from minikube_py.net.ingress_status import (
    INGRESS_CLASSES,
    ensure_ingress_class,
    load_balancer,
    served,
    write_status,
)
from minikube_py.net.ingress_tls import TlsCertificates, fake_certificate

Object = dict[str, Any]
COMPONENT = "nginx-ingress-controller"  # the source of ingress-nginx's Events
_log = get_logger("ingress-nginx")
_RETRY = 1.0  # seconds before a failed status write is tried again
_SHUTDOWN = 2.0  # seconds the controller may spend clearing statuses when it stops


class IngressController:
    """Serves the cluster's Ingresses on ``address``; ``run`` until cancelled."""

    def __init__(
        self,
        client: Client,
        *,
        address: str,
        http_port: int = 80,
        https_port: int = 443,
        default_backend: Backend | None = None,
        low_ports: bool | None = None,
        update_status_on_shutdown: bool = True,
    ) -> None:
        self.client = client
        self.address = address
        self.http_port, self.https_port = http_port, https_port  # the real ones once listening
        self.default_backend = default_backend
        self._low_ports = low_ports
        self._update_status_on_shutdown = update_status_on_shutdown
        self._events = EventRecorder(client, COMPONENT)
        self.ingresses = Informer(client, INGRESSES)
        self.classes = Informer(client, INGRESS_CLASSES)
        self.services = Informer(client, SERVICES)
        self.slices = Informer(client, ENDPOINT_SLICES)
        self.secrets = Informer(client, SECRETS)
        self.proxy = IngressProxy(EndpointPicker(self._service, self._slices))
        self._changed = asyncio.Event()
        self._ready = asyncio.Event()
        self._announce: dict[str, Object] = {}  # Ingresses added or changed since the last sync
        self._problems: set[str] = set()
        self._connections: set[asyncio.Task[Any]] = set()
        for informer in (self.ingresses, self.classes, self.secrets):
            informer.on_add(lambda _: self._changed.set())
            informer.on_update(lambda _, __: self._changed.set())
            informer.on_delete(lambda _: self._changed.set())
        self.ingresses.on_add(self._remember)
        self.ingresses.on_update(lambda _, new: self._remember(new))

    async def wait_ready(self) -> None:
        """Until both listeners accept connections with the first routing table."""
        await self._ready.wait()

    async def run(self) -> None:
        cert_pem, key_pem = await asyncio.to_thread(fake_certificate)
        tls = await asyncio.to_thread(TlsCertificates, cert_pem, key_pem)
        servers: list[asyncio.Server] = []
        try:
            async with asyncio.TaskGroup() as group:
                informers = (self.ingresses, self.classes, self.services, self.slices)
                for informer in (*informers, self.secrets):
                    group.create_task(informer.run())
                try:
                    await ensure_ingress_class(self.client)
                except Exception as error:  # the proxy is still useful without it
                    _log.warning("cannot create the IngressClass nginx", error=str(error))
                for informer in (*informers, self.secrets):
                    await informer.wait_synced()
                await self._resync(tls)
                servers.append(await self._listen("http", self.http_port, None))
                servers.append(await self._listen("https", self.https_port, tls.default))
                self.http_port = servers[0].sockets[0].getsockname()[1]
                self.https_port = servers[1].sockets[0].getsockname()[1]
                self.proxy.https_port = self.https_port
                self._ready.set()
                while True:
                    await self._changed.wait()
                    self._changed.clear()
                    await self._resync(tls)
        finally:
            for server in servers:
                server.close()
            for task in list(self._connections):
                task.cancel()
            if self._connections:
                await asyncio.gather(*self._connections, return_exceptions=True)
            self.proxy.upstreams.close_idle()
            if self._update_status_on_shutdown and servers:
                await self._clear_statuses()

    async def _clear_statuses(self) -> None:
        """As ingress-nginx's ``--update-status-on-shutdown``: a stopped controller's address
        leaves its Ingresses (best effort, briefly: the API may be stopping too)."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(_SHUTDOWN):
                await self._write_statuses(set())

    # -- the routing table ----------------------------------------------------------------

    async def _resync(self, tls: TlsCertificates) -> None:
        try:
            await self._sync(tls)
        except Exception:  # keep serving the last table; try again shortly
            _log.exception("ingress sync failed")
            asyncio.get_running_loop().call_later(_RETRY, self._changed.set)

    def _remember(self, ingress: Object) -> None:
        self._announce[_key(ingress)] = ingress

    async def _sync(self, tls: TlsCertificates) -> None:
        classes = self.classes.items()
        ours = [ingress for ingress in self.ingresses.items() if served(ingress, classes)]
        table = build_table(ours, default_backend=self.default_backend)
        wanted = {
            f"{server.tls[0]}/{server.tls[1]}"
            for server in [*table.exact.values(), *table.wildcard.values()]
            if server.tls is not None and server.tls[1]
        }
        secrets = {key: obj for key in wanted if (obj := self.secrets.get(key)) is not None}
        loading = await asyncio.to_thread(tls.load, table, secrets)
        tls.install(table, loading)
        self.proxy.table = table
        problems = set(table.problems) | {
            f"{problem}; using the default certificate" for problem in loading.problems
        }
        for problem in sorted(problems - self._problems):
            _log.warning("ingress configuration problem", problem=problem)
        self._problems = problems
        announce, self._announce = self._announce, {}
        for ingress in ours:
            if _key(ingress) in announce:
                reference = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", **ingress}
                await self._events.record(reference, reason="Sync", message="Scheduled for sync")
        await self._write_statuses({_key(ingress) for ingress in ours})

    async def _write_statuses(self, ours: set[str]) -> None:
        mine = [{"ip": self.address}]
        for ingress in self.ingresses.items():
            serving = _key(ingress) in ours
            if not serving and load_balancer(ingress) != mine:
                continue  # another controller's Ingress: its status is not ours to clear
            try:
                await write_status(self.client, ingress, self.address if serving else None)
            except Exception as error:  # gone meanwhile, or a conflict: look again soon
                _log.info("status not written", key=_key(ingress), error=str(error))
                asyncio.get_running_loop().call_later(_RETRY, self._changed.set)

    # -- lookups for the proxy ------------------------------------------------------------

    def _service(self, namespace: str, name: str) -> Object | None:
        return self.services.get(f"{namespace}/{name}")

    def _slices(self, namespace: str, service: str) -> list[Object]:
        return [
            item
            for item in self.slices.by_label(SERVICE_NAME_LABEL, service)
            if item["metadata"].get("namespace") == namespace
        ]

    # -- listening ------------------------------------------------------------------------

    async def _listen(
        self, scheme: str, port: int, context: ssl.SSLContext | None
    ) -> asyncio.Server:
        async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._connections.add(task)
            try:
                await self.proxy.handle(reader, writer, scheme=scheme)
            except asyncio.CancelledError:
                pass  # shutting down; asyncio would log a cancelled connection as an error
            finally:
                self._connections.discard(task)

        wanted = listen_port(port, low_ports=self._low_ports) if port else 0
        try:
            server = await self._start(connected, wanted, context)
        except OSError as error:  # no privilege after all, or another program holds the port
            fallback = LOW_PORT_OFFSET + port
            if not 0 < port < 1024 or wanted == fallback:
                raise OSError(
                    error.errno, f"the Ingress cannot listen on {self.address}:{wanted}: {error}"
                ) from None
            _log.warning(f"cannot listen on port {wanted}", address=self.address, error=str(error))
            try:
                server = await self._start(connected, fallback, context)
            except OSError as again:
                raise OSError(
                    again.errno,
                    f"the Ingress cannot listen on {self.address}:{wanted} ({error.strerror}) nor "
                    f"on the fallback port {fallback} ({again.strerror})",
                ) from None
        real = server.sockets[0].getsockname()[1]
        if port and real != port:
            _log.warning(
                f"the Ingress cannot listen on port {port}; it listens on {real} instead "
                f"({LOW_PORT_OFFSET} + {port}: ports below 1024 need privilege)",
                scheme=scheme,
                address=self.address,
            )
        _log.info("Ingress controller listening", url=f"{scheme}://{self.address}:{real}")
        return server

    async def _start(
        self, connected: Any, port: int, context: ssl.SSLContext | None
    ) -> asyncio.Server:
        return await asyncio.start_server(
            connected,
            self.address,
            port,
            ssl=context,
            reuse_address=True,
            ssl_handshake_timeout=10.0 if context is not None else None,
        )


def _key(ingress: Object) -> str:
    meta = ingress.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"
