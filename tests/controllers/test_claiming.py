"""Claiming pods for a ReplicaSet against a real in-process API server: keep, release, adopt,
leave alone — and never adopt into an owner that is being deleted or into a re-made pod.

``client`` (tests/controllers/conftest.py) is a real API server behind an in-process client.
"""

from __future__ import annotations

from typing import Any

import pytest

from minikube_py.client import CONFIGMAPS, DEPLOYMENTS, PODS, REPLICASETS, Client
from minikube_py.controllers.claiming import (
    ClaimError,
    claim_pods,
    claim_replica_sets,
    controller_of,
)
from minikube_py.controllers.podcontrol import ControllerKind

Object = dict[str, Any]


async def make_rs(client: Client, *, finalizers: list[str] | None = None) -> Object:
    rs: Object = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}],
            },
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }
    if finalizers:
        rs["metadata"]["finalizers"] = finalizers
    return await client.create(REPLICASETS, "default", rs)


def reference(owner: Object, *, controller: bool = True, kind: str = "ReplicaSet") -> Object:
    return {
        "apiVersion": owner.get("apiVersion", "apps/v1"),
        "kind": kind,
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": controller,
    }


async def make_pod(
    client: Client,
    name: str,
    labels: dict[str, str],
    owners: list[Object] | None = None,
    finalizers: list[str] | None = None,
) -> Object:
    meta: Object = {"name": name, "labels": labels}
    if owners:
        meta["ownerReferences"] = owners
    if finalizers:
        meta["finalizers"] = finalizers
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
    }
    return await client.create(PODS, "default", pod)


async def current(client: Client, name: str) -> Object:
    return await client.get(PODS, "default", name)


class Counting:
    """A client that notes the owner re-reads and the patches sent."""

    def __init__(self, inner: Client) -> None:
        self.inner = inner
        self.owner_reads = 0
        self.patches: list[tuple[str, Any, str]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def get(self, gvr: Any, namespace: str | None, name: str) -> Object:
        if gvr == REPLICASETS:
            self.owner_reads += 1
        return await self.inner.get(gvr, namespace, name)

    async def patch(self, gvr: Any, namespace: str | None, name: str, patch: Any, **kw: Any) -> Any:
        self.patches.append((name, patch, kw["patch_type"]))
        return await self.inner.patch(gvr, namespace, name, patch, **kw)


async def test_keeps_releases_adopts_and_leaves_alone(client: Client) -> None:
    rs = await make_rs(client)
    other = await client.create(
        CONFIGMAPS, "default", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    )
    foreign = {**reference(rs), "name": "api", "uid": "another-controller"}
    side = reference(other, controller=False, kind="ConfigMap")
    pods = [
        await make_pod(client, "kept", {"app": "web"}, [reference(rs)]),
        await make_pod(client, "stray", {"app": "web", "tier": "db"}, [side, reference(rs)]),
        await make_pod(client, "orphan", {"app": "web"}),
        await make_pod(client, "orphan-2", {"app": "web", "tier": "front"}),
        await make_pod(client, "unrelated", {"app": "other"}),
        await make_pod(client, "foreign", {"app": "web"}, [foreign]),
        await make_pod(client, "dying", {"app": "web"}, finalizers=["example.com/hold"]),
    ]
    await client.delete(PODS, "default", "dying")
    pods[-1] = await current(client, "dying")
    assert pods[-1]["metadata"].get("deletionTimestamp")
    counting = Counting(client)

    claimed = await claim_pods(counting, rs, pods)

    assert [p["metadata"]["name"] for p in claimed] == ["kept", "orphan", "orphan-2"]
    assert all(controller_of(p) == reference(rs) for p in claimed)  # adopted ones as patched
    assert counting.owner_reads == 1  # one fresh read of the owner for both adoptions
    for name in ("orphan", "orphan-2"):
        adopted = await current(client, name)
        assert adopted["metadata"]["ownerReferences"] == [reference(rs)]
    stray = await current(client, "stray")
    assert stray["metadata"]["ownerReferences"] == [side]  # only our reference went
    assert controller_of(await current(client, "foreign"))["uid"] == "another-controller"  # type: ignore[index]
    for name in ("unrelated", "dying"):
        assert "ownerReferences" not in (await current(client, name))["metadata"]
    by_pod = {name: (patch, kind) for name, patch, kind in counting.patches}
    assert set(by_pod) == {"stray", "orphan", "orphan-2"}
    assert by_pod["stray"] == (
        {
            "metadata": {
                "uid": stray["metadata"]["uid"],
                "ownerReferences": [{"$patch": "delete", "uid": rs["metadata"]["uid"]}],
            }
        },
        "strategic",
    )
    orphan_uid = pods[2]["metadata"]["uid"]
    assert by_pod["orphan"] == (
        {"metadata": {"ownerReferences": [reference(rs)], "uid": orphan_uid}},
        "strategic",
    )


async def test_no_adoption_into_an_owner_that_is_being_deleted(client: Client) -> None:
    stale = await make_rs(client, finalizers=["example.com/hold"])
    kept = await make_pod(client, "kept", {"app": "web"}, [reference(stale)])
    orphan = await make_pod(client, "orphan", {"app": "web"})
    await client.delete(REPLICASETS, "default", "web")
    fresh = await client.get(REPLICASETS, "default", "web")
    assert fresh["metadata"].get("deletionTimestamp")

    # The cache still shows it alive: the fresh read refuses the adoption.
    with pytest.raises(ClaimError) as caught:
        await claim_pods(client, stale, [kept, orphan])
    uid = orphan["metadata"]["uid"]
    assert str(caught.value).startswith(
        f"can't adopt Pod default/orphan ({uid}): default/web has just been deleted at "
    )
    assert str(caught.value).endswith(" +0000 UTC")
    assert [p["metadata"]["name"] for p in caught.value.claimed] == ["kept"]
    assert "ownerReferences" not in (await current(client, "orphan"))["metadata"]

    # Knowing it is being deleted: keep what it owns, adopt and release nothing, ask nothing.
    stray = await make_pod(client, "stray", {"app": "db"}, [reference(stale)])
    counting = Counting(client)
    claimed = await claim_pods(counting, fresh, [kept, orphan, stray])
    assert [p["metadata"]["name"] for p in claimed] == ["kept"]
    assert counting.patches == [] and counting.owner_reads == 0


async def test_no_adoption_into_a_remade_owner(client: Client) -> None:
    old = await make_rs(client)
    await client.delete(REPLICASETS, "default", "web")
    new = await make_rs(client)
    orphan = await make_pod(client, "orphan", {"app": "web"})
    with pytest.raises(ClaimError) as caught:
        await claim_pods(client, old, [orphan])
    assert str(caught.value) == (
        f"can't adopt Pod default/orphan ({orphan['metadata']['uid']}): can't recheck "
        f"DeletionTimestamp: original ReplicaSet default/web is gone: got uid "
        f"{new['metadata']['uid']}, wanted {old['metadata']['uid']}"
    )


async def test_a_remade_pod_is_neither_adopted_nor_released(client: Client) -> None:
    rs = await make_rs(client)
    orphan = await make_pod(client, "orphan", {"app": "web"})
    stray = await make_pod(client, "stray", {"app": "db"}, [reference(rs)])
    for name in ("orphan", "stray"):
        await client.delete(PODS, "default", name)
    await make_pod(client, "orphan", {"app": "web"})
    await make_pod(client, "stray", {"app": "db"}, [reference(rs)])

    # The uid in the patch no longer matches: the adoption fails (and is retried later) ...
    with pytest.raises(ClaimError) as caught:
        await claim_pods(client, rs, [orphan, stray])
    assert len(caught.value.errors) == 1 and caught.value.claimed == []
    assert "ownerReferences" not in (await current(client, "orphan"))["metadata"]
    # ... while a refused release is upstream's "someone else's pod now": no error at all.
    assert controller_of(await current(client, "stray")) == reference(rs)


async def test_a_vanished_pod_is_skipped(client: Client) -> None:
    rs = await make_rs(client)
    orphan = await make_pod(client, "orphan", {"app": "web"})
    stray = await make_pod(client, "stray", {"app": "db"}, [reference(rs)])
    for name in ("orphan", "stray"):
        await client.delete(PODS, "default", name)
    assert await claim_pods(client, rs, [orphan, stray]) == []


async def test_a_selector_that_matches_nothing_claims_nothing(client: Client) -> None:
    rs = await make_rs(client)
    rs["spec"]["selector"] = None
    orphan = await make_pod(client, "orphan", {"app": "web"})
    assert await claim_pods(client, rs, [orphan]) == []


async def test_a_deployment_claims_replica_sets_by_their_labels(client: Client) -> None:
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
    }
    owner = await client.create(
        DEPLOYMENTS,
        "default",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template},
        },
    )
    ours = reference(owner, kind="Deployment")

    async def replica_set(name: str, labels: dict[str, str], owners: list[Object]) -> Object:
        meta: Object = {"name": name, "labels": labels, "ownerReferences": owners}
        selector = {"matchLabels": labels}
        spec = {"selector": selector, "template": {**template, "metadata": {"labels": labels}}}
        body = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta, "spec": spec}
        return await client.create(REPLICASETS, "default", body)

    candidates = [
        await replica_set("orphan", {"app": "web", "v": "1"}, []),
        await replica_set("stray", {"app": "db"}, [ours]),
        await replica_set("kept", {"app": "web", "v": "2"}, [ours]),
    ]
    claimed = await claim_replica_sets(
        client, owner, candidates, controller_kind=ControllerKind(DEPLOYMENTS, "Deployment")
    )
    assert [rs["metadata"]["name"] for rs in claimed] == ["orphan", "kept"]
    adopted = await client.get(REPLICASETS, "default", "orphan")
    assert adopted["metadata"]["ownerReferences"] == [ours]
    released = await client.get(REPLICASETS, "default", "stray")
    assert not released["metadata"].get("ownerReferences")
