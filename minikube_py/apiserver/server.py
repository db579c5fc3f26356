"""``ApiServer``: the API server as one long-lived component of the cluster.

It opens nothing itself: it is handed a store and a PKI, starts the watch cache, creates the
bootstrap objects, then serves HTTPS on its address until cancelled (``run``), or between
``start`` and ``stop`` for embedding. ``port=0`` picks a free port, for tests and for several
clusters on one machine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiohttp import web

from minikube_py.api.catalog import builtin_registry
from minikube_py.api.registry import Registry
from minikube_py.apiserver.app import make_app
from minikube_py.apiserver.authn import Authenticator
from minikube_py.apiserver.bootstrap import bootstrap
from minikube_py.apiserver.crds import CrdController
from minikube_py.apiserver.handlers import ResourceHandler
from minikube_py.apiserver.local import LocalBackend
from minikube_py.apiserver.managedfields import DEFAULT_MANAGER
from minikube_py.apiserver.pki import Pki, server_ssl_context
from minikube_py.apiserver.storage import Storage
from minikube_py.apiserver.tokens import TokenIssuer
from minikube_py.apiserver.watchcache import WatchCache
from minikube_py.client.inprocess import InProcessClient
from minikube_py.logs import get_logger
from minikube_py.runtime.protocol import NodeStreams
from minikube_py.store import Store

_log = get_logger("apiserver")


class ApiServer:
    def __init__(
        self,
        store: Store,
        pki: Pki,
        *,
        host: str = "127.0.0.1",
        port: int = 8443,
        registry: Registry | None = None,
        authenticator: Authenticator | None = None,
        watch_cache_capacity: int = 10_000,
        tokens: TokenIssuer | None = None,
        node_streams: Mapping[str, NodeStreams] | None = None,
        service_block: str = "127.96.0.0/16",
    ) -> None:
        self.host = host
        self.port = port
        self.registry = registry or builtin_registry()
        self.storage = Storage(store, self.registry, tokens=tokens, service_block=service_block)
        self.cache = WatchCache(store, capacity=watch_cache_capacity)
        self.storage.track_namespaces(self.cache)
        self.authenticator = authenticator or Authenticator()
        if self.authenticator.token_reviewer is None:
            self.authenticator.token_reviewer = self.storage.tokens.review
        self._pki = pki
        self._runner: web.AppRunner | None = None
        self.crds = CrdController(self.storage)
        # {node name: its kubelet's streams} for pods/log, exec, attach; the cluster may add
        # nodes to its mapping while the server runs
        self.node_streams: Mapping[str, NodeStreams] = {} if node_streams is None else node_streams
        self.bootstrapped = False  # what /readyz waits for, after the socket listens

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def client(self, manager: str = DEFAULT_MANAGER) -> InProcessClient:
        """A client for components in this process: the same path as HTTP, without sockets;
        ``manager`` names its writes in ``managedFields``."""
        return LocalBackend(self.storage, self.cache, manager).client()

    async def start(self) -> None:
        await self.cache.start()
        await self.crds.start(self.cache)  # custom resources are served from the first request
        app = make_app(
            ResourceHandler(self.storage, self.cache),
            self.registry,
            self.authenticator,
            server_address=lambda: f"{self.host}:{self.port}",
            node_streams=self.node_streams,
            bootstrapped=lambda: self.bootstrapped,
        )
        self._runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=5.0,
            # a watch whose client went away must end at once, not at its next write
            handler_cancellation=True,
            # upstream accepts request lines and headers of up to 1 MiB (long selectors)
            max_line_size=1 << 20,
            max_field_size=1 << 20,
        )
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, self.host, self.port, ssl_context=server_ssl_context(self._pki)
        )
        await site.start()
        if self.port == 0:
            server = site._server
            assert server is not None and hasattr(server, "sockets")  # asyncio's or uvloop's
            self.port = server.sockets[0].getsockname()[1]
        await bootstrap(self.storage, host=self.host, port=self.port)
        self.bootstrapped = True
        _log.info("apiserver serving", url=self.url, resources=len(self.registry))

    async def stop(self) -> None:
        await self.crds.stop()
        await self.cache.stop()  # ends every watch stream, so the runner need not wait on them
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def run(self) -> None:
        """Serve until cancelled."""
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()
