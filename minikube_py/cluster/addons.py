"""Addons: minikube's optional cluster components, switched on and off while the cluster runs.

``minikube addons enable ingress`` records ``ingress: true`` in the profile's configuration
and deploys the addon's manifests; ``disable`` records ``false`` and removes them. Here the
record lives in the cluster itself, the ConfigMap ``minikube-py-addons`` in ``kube-system``
(data ``{"ingress": "true"}``), so the API server is the only door: the CLI patches it, an
embedding program or ``kubectl`` may too, and it survives a restart with the store.

``AddonManager`` is the in-cluster half. At start it writes the addons the cluster was started
with (``ClusterConfig.addons``, ``--addons``) into the record as enabled; then it watches the
record and starts or stops the addon components to match: enabling ``ingress`` starts an
``IngressController`` (and waits until it listens), disabling it stops it (its listeners
close, its Ingresses' addresses are cleared). It tells clients what really runs in the
record's annotation ``minikube-py.io/running`` (and a failure to start in
``minikube-py.io/error``), which ``addons enable`` waits for, as minikube's "Verifying ingress
addon...".

``storage-provisioner`` and ``default-storageclass`` are listed as minikube lists them, always
enabled: the controller manager runs the hostpath provisioner and its default StorageClass in
every cluster, so there is nothing to switch.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from minikube_py.client.informer import Informer
from minikube_py.client.protocol import CONFIGMAPS, ApiError, Client, Object
from minikube_py.cluster.addon_catalog import (
    CATALOG,
    CONFIG_MAP,
    NAMESPACE,
    Addon,
    check_addons,
    enabled_addons,
)
from minikube_py.cluster.settings import ClusterError
from minikube_py.logs import get_logger

if TYPE_CHECKING:
    from minikube_py.net.ingress import IngressController

__all__ = [
    "CATALOG",
    "CONFIG_MAP",
    "NAMESPACE",
    "Addon",
    "AddonManager",
    "check_addons",
    "enabled_addons",
]

RUNNING_ANNOTATION = "minikube-py.io/running"  # the addons whose components run now
ERROR_ANNOTATION = "minikube-py.io/error"  # why an enabled addon is not running
READY_SECONDS = 30.0  # how long an addon's component may take to listen
_log = get_logger("addons")


def running_addons(record: Object | None) -> set[str]:
    """The addons whose components the manager says run (always-on ones included)."""
    annotations = ((record or {}).get("metadata") or {}).get("annotations") or {}
    running = {name for name in annotations.get(RUNNING_ANNOTATION, "").split(",") if name}
    return running | {name for name, addon in CATALOG.items() if addon.always_on}


def addon_error(record: Object | None) -> str:
    annotations = ((record or {}).get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(ERROR_ANNOTATION, ""))


async def record_addons(client: Client, changes: Mapping[str, bool]) -> Object:
    """Write ``changes`` (name: enabled) into the record, creating it where it is missing."""
    check_addons(changes)
    data = {name: "true" if enabled else "false" for name, enabled in changes.items()}
    for _ in range(3):  # a create racing another writer's create: patch what it made
        try:
            return await client.patch(CONFIGMAPS, NAMESPACE, CONFIG_MAP, {"data": data})
        except ApiError as error:
            if error.code != 404:
                raise
        made = {
            "metadata": {
                "name": CONFIG_MAP,
                "labels": {"app.kubernetes.io/managed-by": "minikube-py"},
            },
            "data": data,
        }
        try:
            return await client.create(CONFIGMAPS, NAMESPACE, made)
        except ApiError as error:
            if error.code != 409:
                raise
    raise ClusterError(f"cannot write the addon record {NAMESPACE}/{CONFIG_MAP}")


class AddonManager:
    """Keeps the addon components running that the record enables; ``run`` until cancelled.

    ``make_ingress`` builds a fresh ``IngressController`` (with its own API client, closed
    here when it stops) each time ``ingress`` is enabled.
    """

    def __init__(
        self,
        client: Client,
        *,
        make_ingress: Callable[[], IngressController],
        initial: Iterable[str] = (),
    ) -> None:
        self.client = client
        self._make_ingress = make_ingress
        self._initial = tuple(initial)
        check_addons(self._initial)
        self.record = Informer(
            client, CONFIGMAPS, NAMESPACE, field_selector=f"metadata.name={CONFIG_MAP}"
        )
        self._changed = asyncio.Event()
        self._ready = asyncio.Event()
        self._ingress: tuple[IngressController, asyncio.Task[None]] | None = None
        self._error = ""
        for handler in (self.record.on_add, self.record.on_delete):
            handler(lambda _: self._changed.set())
        self.record.on_update(lambda _, __: self._changed.set())

    @property
    def ingress(self) -> IngressController | None:
        """The running Ingress controller, if the addon is enabled and listening."""
        return self._ingress[0] if self._ingress is not None else None

    async def wait_ready(self) -> None:
        """Until the addons enabled at start run (or failed to start: see ``run``)."""
        await self._ready.wait()

    async def run(self) -> None:
        if self._initial:  # written before the informer lists, so its first list holds them
            await record_addons(self.client, dict.fromkeys(self._initial, True))
        watching = asyncio.create_task(self.record.run(), name="addon record informer")
        try:
            await self.record.wait_synced()
            await self._reconcile()
            if self._error and self._initial:
                raise ClusterError(self._error)  # what the cluster was started with must run
            self._ready.set()
            while True:
                await self._changed.wait()
                self._changed.clear()
                await self._reconcile()
        finally:
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watching
            await self._stop_ingress()

    async def _reconcile(self) -> None:
        current = self.record.get(f"{NAMESPACE}/{CONFIG_MAP}")
        wanted = enabled_addons(current)
        if "ingress" in wanted and self._ingress is None:
            self._error = ""
            try:
                await self._start_ingress()
            except Exception as error:  # a port held by another program: say so, keep going
                self._error = f"ingress: {_describe(error)}"
                _log.error("the ingress addon could not start", error=_describe(error))
        elif "ingress" not in wanted:
            self._error = ""
            await self._stop_ingress()
        await self._report(current)

    async def _report(self, current: Object | None) -> None:
        """Write what runs into the record's annotations, where it differs (a write of the
        same value would wake this manager again for nothing)."""
        if current is None:
            return
        running = "ingress" if self._ingress is not None else ""
        said = (current.get("metadata") or {}).get("annotations") or {}
        if said.get(RUNNING_ANNOTATION, "") == running and addon_error(current) == self._error:
            return
        annotations: dict[str, Any] = {
            RUNNING_ANNOTATION: running,
            ERROR_ANNOTATION: self._error or None,  # None removes it (a merge patch)
        }
        try:
            await self.client.patch(
                CONFIGMAPS, NAMESPACE, CONFIG_MAP, {"metadata": {"annotations": annotations}}
            )
        except ApiError as error:  # deleted meanwhile: the next event reconciles again
            _log.info("addon status not written", error=str(error))

    async def _start_ingress(self) -> None:
        controller = self._make_ingress()
        task = asyncio.create_task(controller.run(), name="ingress controller")
        waiting = asyncio.ensure_future(controller.wait_ready())
        done, _ = await asyncio.wait(
            {waiting, task}, timeout=READY_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
        if waiting in done:
            self._ingress = (controller, task)
            _log.info("addon enabled", addon="ingress", http_port=controller.http_port)
            return
        waiting.cancel()
        failure = task.exception() if task.done() and not task.cancelled() else None
        await _cancel(task)
        await controller.client.close()
        if failure is not None:
            raise failure
        raise TimeoutError(f"the Ingress controller did not listen within {READY_SECONDS:.0f} s")

    async def _stop_ingress(self) -> None:
        if self._ingress is None:
            return
        controller, task = self._ingress
        self._ingress = None
        await _cancel(task)  # its listeners close and its Ingresses' addresses are cleared
        await controller.client.close()
        _log.info("addon disabled", addon="ingress")


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


def _describe(error: BaseException) -> str:
    """The one error inside a component's task group (its ``ExceptionGroup`` says nothing),
    in words (an ``OSError``'s message without its ``[Errno n]``)."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error)
