"""A DaemonSet or a StatefulSet in a namespace being deleted: what it would make — pods, and a
ControllerRevision or claims — is refused (``NamespaceTerminating``), which is the namespace's
deletion under way, not a fault. The controller drops the key quietly, as upstream's
controllers do, instead of logging an error and retrying until the set is gone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import pytest

from minikube_py.client import NAMESPACES, PODS, Client
from minikube_py.client.protocol import (
    CONTROLLER_REVISIONS,
    DAEMONSETS,
    GVR,
    PERSISTENT_VOLUME_CLAIMS,
    STATEFULSETS,
    Object,
)
from tests.controllers import statefulset_harness, test_daemonset
from tests.controllers.stepping import SteppingClock, eventually


@dataclass(frozen=True)
class Case:
    """One kind of set: how it is made and run, and what besides pods it would make."""

    gvr: GVR
    make: Callable[[], Object]
    running: Callable[[Client, SteppingClock], AbstractAsyncContextManager[Any]]
    made_too: GVR
    node: bool = False  # a DaemonSet makes pods only for nodes
    # A StatefulSet is made with no replicas and asked for this many once its controller
    # runs, so that the reconcile seen is one with pods and claims to make.
    scale_to: int | None = None


CASES = {
    "daemonset": Case(
        DAEMONSETS,
        test_daemonset.daemon_set,
        test_daemonset.running,
        CONTROLLER_REVISIONS,
        node=True,
    ),
    "statefulset": Case(
        STATEFULSETS,
        lambda: statefulset_harness.stateful_set(
            0, volumeClaimTemplates=[statefulset_harness.claim_template("www")]
        ),
        statefulset_harness.running,
        PERSISTENT_VOLUME_CLAIMS,
        scale_to=2,
    ),
}


@pytest.mark.parametrize("kind", sorted(CASES))
async def test_a_terminating_namespace_is_no_reconcile_failure(
    client: Client, clock: SteppingClock, kind: str
) -> None:
    case = CASES[kind]
    await client.create(
        NAMESPACES, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}}
    )
    if case.node:
        await test_daemonset.make_node(client, "minikube")
    manifest = case.make()
    manifest["metadata"]["namespace"] = "doomed"
    name = manifest["metadata"]["name"]
    key = f"doomed/{name}"
    await client.create(case.gvr, "doomed", manifest)
    await client.delete(NAMESPACES, None, "doomed")  # no namespace controller: stays Terminating
    namespace = await client.get(NAMESPACES, None, "doomed")
    assert namespace["status"]["phase"] == "Terminating"
    async with case.running(client, clock) as controller:
        if case.scale_to is not None:
            await client.patch(case.gvr, "doomed", name, {"spec": {"replicas": case.scale_to}})

        async def seen() -> bool:
            cached = controller.sets.get(key)  # a DaemonSet has no replicas: None == None
            return cached is not None and cached["spec"].get("replicas") == case.scale_to

        await eventually(seen, "the set, as it is now, in the cache")
        assert await controller.reconcile(key) is None  # no exception to retry on
        await asyncio.sleep(0)
        assert controller.queue.requeues(key) == 0
    assert not (await client.list(case.made_too, "doomed"))["items"]
    assert not (await client.list(PODS, "doomed"))["items"]
