"""A DaemonSet in a namespace being deleted: its ControllerRevision and pods are refused
(``NamespaceTerminating``), which is the namespace's deletion under way, not a fault — the
controller drops the key quietly, as upstream's controllers do, instead of logging an error
and retrying until the set is gone."""

from __future__ import annotations

import asyncio

from minikube_py.client import NAMESPACES, PODS, Client
from minikube_py.client.protocol import CONTROLLER_REVISIONS, DAEMONSETS
from tests.controllers.stepping import SteppingClock, eventually
from tests.controllers.test_daemonset import daemon_set, make_node, running


async def test_a_terminating_namespace_is_no_reconcile_failure(
    client: Client, clock: SteppingClock
) -> None:
    await client.create(
        NAMESPACES, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}}
    )
    await make_node(client, "minikube")
    ds = daemon_set()
    ds["metadata"]["namespace"] = "doomed"
    await client.create(DAEMONSETS, "doomed", ds)
    await client.delete(NAMESPACES, None, "doomed")  # no namespace controller: stays Terminating
    namespace = await client.get(NAMESPACES, None, "doomed")
    assert namespace["status"]["phase"] == "Terminating"
    async with running(client, clock) as controller:

        async def seen() -> bool:
            return controller.sets.get("doomed/agent") is not None

        await eventually(seen, "the set in the cache")
        assert await controller.reconcile("doomed/agent") is None  # no exception to retry on
        await asyncio.sleep(0)
        assert controller.queue.requeues("doomed/agent") == 0
    assert not (await client.list(CONTROLLER_REVISIONS, "doomed"))["items"]
    assert not (await client.list(PODS, "doomed"))["items"]
