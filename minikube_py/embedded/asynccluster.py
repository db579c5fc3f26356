"""``AsyncCluster``: a whole cluster inside an ``async with`` block, on the caller's loop.

It is ``running_cluster`` (``minikube_py.cluster``) with the choices a test wants by default:
an in-memory store, a temporary state directory removed on exit, the API server on a free
port of 127.0.0.1, and a kubeconfig of its own in that directory — the user's
``~/.kube/config`` is never touched. Pass ``state_dir`` to keep the state (then the store is a
SQLite file there unless ``store`` says otherwise).

The verbs take kinds as kubectl does (``kinds.py``) and objects as plain dicts; errors from
the API are the client's ``ApiError`` (``.code``, ``.reason``), anything else a
``ClusterError``. ``.client`` is the in-process API client, for what the verbs do not cover.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from minikube_py.client.protocol import SERVICES, Client, Object
from minikube_py.cluster import ClusterConfig, RunningCluster, running_cluster
from minikube_py.cluster.settings import ClusterError
from minikube_py.embedded import applying, pods, services, waiting
from minikube_py.embedded.kinds import Resolver, Resource, split_ref
from minikube_py.embedded.manifests import Manifest, objects
from minikube_py.runtime.protocol import NodeStreams


def embedded_config(
    directory: Path,
    *,
    nodes: int,
    addons: Sequence[str],
    store: str | None,
    ephemeral: bool,
    **options: Any,
) -> ClusterConfig:
    """The ``ClusterConfig`` of an embedded cluster in ``directory``."""
    return ClusterConfig(
        state_dir=directory,
        address="127.0.0.1",
        port=0,
        store_url=store or ("sqlite://" if ephemeral else None),
        kubeconfig=directory / "kubeconfig",
        write_kubeconfig=True,
        nodes=nodes,
        addons=tuple(addons),
        **options,
    )


class AsyncCluster:
    """``async with AsyncCluster() as cluster: await cluster.apply(...)``."""

    def __init__(
        self,
        nodes: int = 1,
        *,
        state_dir: str | Path | None = None,
        addons: Sequence[str] = (),
        store: str | None = None,
        **options: Any,
    ) -> None:
        """``options`` are further ``ClusterConfig`` fields (``runtime="fake"``,
        ``controllers=...``, ``profile=...``)."""
        self._requested = Path(state_dir) if state_dir is not None else None
        self._settings: dict[str, Any] = dict(nodes=nodes, addons=addons, store=store, **options)
        self._stack: contextlib.AsyncExitStack | None = None
        self._running: RunningCluster | None = None
        self._client: Client | None = None
        self._resolver: Resolver | None = None

    async def __aenter__(self) -> AsyncCluster:
        if self._stack is not None:
            raise ClusterError("this cluster is already running")
        stack = contextlib.AsyncExitStack()
        try:
            directory = self._requested
            if directory is None:
                temporary = Path(tempfile.mkdtemp(prefix="minikube-py-"))
                stack.push_async_callback(asyncio.to_thread, shutil.rmtree, temporary, True)
                directory = temporary
            config = embedded_config(directory, ephemeral=self._requested is None, **self._settings)
            self._running = await stack.enter_async_context(running_cluster(config))
            self._client = self._running.api_server.client(applying.FIELD_MANAGER)
            stack.push_async_callback(self._client.close)
            self._resolver = Resolver(self._client.server_preferred_resources)
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def stop(self) -> None:
        """Stop every component and process of the cluster; remove its temporary state."""
        stack, self._stack = self._stack, None
        self._running = self._client = self._resolver = None
        if stack is not None:
            await stack.aclose()

    # -- what a test reads ---------------------------------------------------------------------

    @property
    def running(self) -> RunningCluster:
        if self._running is None:
            raise ClusterError("the cluster is not running (use it inside `async with`)")
        return self._running

    @property
    def client(self) -> Client:
        """The in-process API client (``minikube_py.client.Client``)."""
        self.running  # noqa: B018 - says so when the cluster is not running
        assert self._client is not None
        return self._client

    @property
    def kubeconfig(self) -> Path:
        """A kubeconfig for this cluster, for kubectl or any client library."""
        path = self.running.kubeconfig
        assert path is not None  # embedded clusters always write one
        return path

    @property
    def directory(self) -> Path:
        return self.running.directory

    @property
    def api_url(self) -> str:
        return self.running.url

    async def resource(self, kind: str) -> Resource:
        """The resource ``kind`` names, spelled any way kubectl accepts."""
        self.running  # noqa: B018 - says so when the cluster is not running
        assert self._resolver is not None
        return await self._resolver.resource(kind)

    # -- the verbs -----------------------------------------------------------------------------

    async def apply(self, manifest: Manifest, *, namespace: str = "default") -> list[Object]:
        """Create or update every object of ``manifest`` (YAML text, a dict, a list of dicts,
        a file or directory path) by server-side apply; the objects as stored."""
        server = self.running.api_server
        if isinstance(manifest, str | Path):  # may read files: not on the loop
            listed = await asyncio.to_thread(objects, manifest)
        else:
            listed = objects(manifest)
        return [await applying.server_side_apply(server, o, namespace=namespace) for o in listed]

    async def get(self, kind: str, name: str, namespace: str = "default") -> Object:
        resource = await self.resource(kind)
        return await self.client.get(resource.gvr, self._ns(resource, namespace), name)

    async def list(
        self, kind: str, namespace: str | None = None, label_selector: str | None = None
    ) -> list[Object]:
        """The objects of ``kind`` (in ``namespace``; every namespace when None)."""
        resource = await self.resource(kind)
        ns = namespace if resource.namespaced else None
        listed = await self.client.list(resource.gvr, ns, label_selector=label_selector or "")
        return list(listed.get("items") or ())

    async def delete(self, kind: str, name: str, namespace: str = "default") -> Object:
        """Delete the object (in the background, as kubectl: dependents are collected)."""
        resource = await self.resource(kind)
        return await self.client.delete(
            resource.gvr, self._ns(resource, namespace), name, propagation_policy="Background"
        )

    async def wait_for(
        self,
        ref: str | tuple[str, str],
        condition: waiting.Condition,
        timeout: float = 60,  # noqa: ASYNC109 - the issue's signature, as kubectl wait --timeout
        *,
        namespace: str = "default",
    ) -> Object | None:
        """Wait until ``condition`` (``"Ready"``, ``"condition=Available"``, ``"delete"``, or a
        function of the object) holds for ``ref`` (``"deployment/web"``, ``("pods", "web")``);
        the object then (None after ``"delete"``). ``WaitTimeout`` past ``timeout`` seconds."""
        kind, name = split_ref(ref)
        resource = await self.resource(kind)
        return await waiting.wait_for(
            self.client, resource, namespace, name, condition, timeout=timeout
        )

    async def logs(
        self, pod: str, container: str | None = None, namespace: str = "default", **options: Any
    ) -> str:
        """The container's log (``previous=True``, ``tail_lines=N`` as kubectl's flags)."""
        return await pods.pod_logs(
            self.client, self._streams(), namespace, pod, container or "", **options
        )

    async def exec(
        self,
        pod: str,
        command: str | Sequence[str],
        namespace: str = "default",
        container: str | None = None,
    ) -> pods.ExecResult:
        """Run ``command`` in the pod's container: ``(exit_code, stdout, stderr)``."""
        return await pods.pod_exec(
            self.client, self._streams(), namespace, pod, command, container or ""
        )

    async def url(
        self, service: str, namespace: str = "default", port: int | str | None = None
    ) -> str:
        """``http://<node address>:<nodePort>`` for a NodePort / LoadBalancer Service, else
        ``http://<clusterIP>:<port>`` (both reachable from this host)."""
        obj = await self.client.get(SERVICES, namespace, service)
        return services.service_url(obj, self.running.network, port)

    # -- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _ns(resource: Resource, namespace: str) -> str | None:
        return namespace if resource.namespaced else None

    def _streams(self) -> Mapping[str, NodeStreams]:
        return self.running.api_server.node_streams
