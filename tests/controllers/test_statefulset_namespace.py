"""A StatefulSet in a namespace being deleted: its pods and claims are refused
(``NamespaceTerminating``), which is the namespace's deletion under way, not a fault — the
controller drops the key quietly, as upstream's controllers do, instead of logging an error
and retrying until the set is gone."""

from __future__ import annotations

import asyncio

from minikube_py.client import NAMESPACES, PODS, Client
from minikube_py.client.protocol import PERSISTENT_VOLUME_CLAIMS, STATEFULSETS
from tests.controllers.statefulset_harness import claim_template, running, stateful_set
from tests.controllers.stepping import SteppingClock, eventually


async def test_a_terminating_namespace_is_no_reconcile_failure(
    client: Client, clock: SteppingClock
) -> None:
    await client.create(
        NAMESPACES, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}}
    )
    sts = stateful_set(0, volumeClaimTemplates=[claim_template("www")])
    sts["metadata"]["namespace"] = "doomed"
    await client.create(STATEFULSETS, "doomed", sts)
    await client.delete(NAMESPACES, None, "doomed")  # no namespace controller: stays Terminating
    namespace = await client.get(NAMESPACES, None, "doomed")
    assert namespace["status"]["phase"] == "Terminating"
    async with running(client, clock) as controller:
        await client.patch(STATEFULSETS, "doomed", "web", {"spec": {"replicas": 2}})

        async def seen() -> bool:
            cached = controller.sets.get("doomed/web")
            return cached is not None and cached["spec"]["replicas"] == 2

        await eventually(seen, "the scaled set in the cache")
        assert await controller.reconcile("doomed/web") is None  # no exception: nothing to retry
        await asyncio.sleep(0)
        assert controller.queue.requeues("doomed/web") == 0
    assert not (await client.list(PERSISTENT_VOLUME_CLAIMS, "doomed"))["items"]
    assert not (await client.list(PODS, "doomed"))["items"]
