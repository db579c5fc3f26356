"""The node manager: ``minikube-py node add|stop|start|delete`` acted on by the running cluster.

The nodes of a running cluster live inside its process (``Nodes`` in ``nodes.py``), while
the ``node`` commands run in another process. They meet in the API, the way the addon
commands do (``addons.py``): the command writes a request into the ConfigMap
``kube-system/minikube-py-nodes`` — ``data.request``, JSON ``{"id", "action", "node"}`` —
and this manager, watching that one object, carries it out and answers in ``data.result``
(``{"id", "ok", "message", "node"}``) — and keeps ``data.stopped``, the nodes stopped on
purpose, so ``status`` can say ``host: Stopped`` for them as minikube does.

- ``add``: a new worker after the last (``<profile>-m0N``), registered and running.
- ``stop``: the node's kubelet ends, as a machine switched off; its Node object stays and the
  node lifecycle controller marks it NotReady after the grace period.
- ``start``: a stopped node's kubelet runs again (a fresh agent with the same name and
  addresses), its Node turns Ready.
- ``delete``: the kubelet ends and the Node object is removed (upstream's ``kubectl delete
  node``): the pod garbage collector then deletes its pods.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from minikube_py.api.errors import ApiError
from minikube_py.client import Client
from minikube_py.client.informer import Informer
from minikube_py.client.protocol import CONFIGMAPS, NODES, Object
from minikube_py.cluster.nodes import Nodes
from minikube_py.cluster.settings import ClusterError
from minikube_py.logs import get_logger

if TYPE_CHECKING:
    from minikube_py.kubelet.agent import NodeAgent

NAMESPACE = "kube-system"
CONFIG_MAP = "minikube-py-nodes"
ACTIONS = ("add", "stop", "start", "delete")
_log = get_logger("nodectl")


def request_of(record: Object | None) -> dict[str, Any]:
    return _json((record or {}).get("data", {}).get("request"))


def result_of(record: Object | None) -> dict[str, Any]:
    return _json((record or {}).get("data", {}).get("result"))


def stopped_nodes(record: Object | None) -> set[str]:
    text = str((record or {}).get("data", {}).get("stopped") or "")
    return {name for name in text.split(",") if name}


def _json(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(str(text)) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class NodeControl:
    """Carries out the node requests written into the record; ``run`` until cancelled."""

    def __init__(self, client: Client, nodes: Nodes) -> None:
        self.client, self.nodes = client, nodes
        self.record = Informer(
            client, CONFIGMAPS, NAMESPACE, field_selector=f"metadata.name={CONFIG_MAP}"
        )
        self._changed = asyncio.Event()
        self.record.on_add(lambda _: self._changed.set())
        self.record.on_update(lambda _, __: self._changed.set())
        self.stopped: set[str] = set()
        # deleted nodes keep their place in ``nodes.agents``, so that ``add`` names the next
        # node after the highest ever made (as minikube), never one that exists
        self.deleted: set[str] = set()

    async def run(self) -> None:
        watching = asyncio.create_task(self.record.run(), name="node record informer")
        try:
            await self.record.wait_synced()
            while True:
                await self._handle(self.record.get(f"{NAMESPACE}/{CONFIG_MAP}"))
                await self._changed.wait()
                self._changed.clear()
        finally:
            watching.cancel()
            await asyncio.gather(watching, return_exceptions=True)

    async def _handle(self, record: Object | None) -> None:
        request = request_of(record)
        if not request or request.get("id") == result_of(record).get("id"):
            return  # nothing asked, or answered already
        action, name = str(request.get("action")), str(request.get("node") or "")
        try:
            name, message = await self._act(action, name)
            result = {"id": request["id"], "ok": True, "message": message, "node": name}
        except (ClusterError, ApiError, ValueError) as error:
            result = {"id": request["id"], "ok": False, "message": str(error), "node": name}
        _log.info("node request", key=name, action=action, ok=result["ok"])
        data = {"result": json.dumps(result), "stopped": ",".join(sorted(self.stopped))}
        await self.client.patch(CONFIGMAPS, NAMESPACE, CONFIG_MAP, {"data": data})

    def _agent_names(self) -> list[str]:
        return [a.node.name for a in self.nodes.agents if a.node.name not in self.deleted]

    async def _act(self, action: str, name: str) -> tuple[str, str]:
        if action == "add":
            agent = await self.nodes.add()
            return agent.node.name, f"node {agent.node.name} added"
        if name not in self._agent_names():
            raise ClusterError(f"Could not find node {name}")
        if name == self.nodes.config.profile and action in ("stop", "delete"):
            raise ClusterError(f"cannot {action} the control plane node {name}")
        running = name in self.nodes.tasks and not self.nodes.tasks[name].done()
        if action == "stop":
            if running:
                await self._power_off(name)
            self.stopped.add(name)
            return name, f"node {name} stopped"
        if action == "start":
            if not running:
                await self._restart(name)
            self.stopped.discard(name)
            return name, f"node {name} started"
        if action == "delete":
            if running:
                await self._power_off(name)
            await self._forget(name)
            return name, f"node {name} deleted"
        raise ValueError(f"unknown node action {action!r}: one of {', '.join(ACTIONS)}")

    def _agent(self, name: str) -> NodeAgent:
        return next(agent for agent in self.nodes.agents if agent.node.name == name)

    async def _power_off(self, name: str) -> None:
        """The machine goes off: its kubelet stops and its containers end with it."""
        await self.nodes.stop(name)
        await self._agent(name).runtime.close()

    async def _restart(self, name: str) -> None:
        """A fresh agent for a stopped node, in the old one's place (a cancelled agent's
        task group cannot run again); the kubelet starts its pods anew, as after a boot."""
        old = self._agent(name)
        index = self.nodes.agents.index(old)
        fresh = self.nodes.prepare(old.node)  # appended: moved to the old one's place
        self.nodes.agents.remove(fresh)
        self.nodes.agents[index] = fresh
        self.nodes.start(fresh)

    async def _forget(self, name: str) -> None:
        self.nodes.tasks.pop(name, None)
        self.nodes.streams.pop(name, None)
        self.stopped.discard(name)
        self.deleted.add(name)
        try:
            await self.client.delete(NODES, None, name)
        except ApiError as error:
            if error.code != 404:
                raise
