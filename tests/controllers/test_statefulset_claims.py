"""A StatefulSet's PersistentVolumeClaims: made per template before the pod, kept and reused
when the pod goes, owned as ``persistentVolumeClaimRetentionPolicy`` says."""

from __future__ import annotations

from typing import Any

import pytest
import structlog

from minikube_py.client import PODS, Client
from minikube_py.client.protocol import PERSISTENT_VOLUME_CLAIMS, STATEFULSETS
from minikube_py.controllers.statefulset_claims import claim_owner_up_to_date, wanted_owner_refs
from tests.controllers.statefulset_harness import (
    claim_template,
    events,
    make_ready,
    pods,
    running,
    stateful_set,
    wait_pods,
    wait_status,
)
from tests.controllers.stepping import SteppingClock, eventually

Object = dict[str, Any]


async def claims(client: Client) -> dict[str, Object]:
    items = (await client.list(PERSISTENT_VOLUME_CLAIMS, "default"))["items"]
    return {c["metadata"]["name"]: c for c in items}


async def test_claims_are_made_per_template_and_reused_by_a_recreated_pod(
    client: Client, clock: SteppingClock
) -> None:
    templates = [claim_template("www"), claim_template("logs")]
    async with running(client, clock):
        await client.create(
            STATEFULSETS, "default", stateful_set(1, volumeClaimTemplates=templates)
        )
        pod = (await wait_pods(client, ["web-0"]))["web-0"]
        made = await claims(client)
        assert sorted(made) == ["logs-web-0", "www-web-0"]
        await make_ready(client, clock, "web-0")
        await wait_status(client, readyReplicas=1)
        await client.delete(PODS, "default", "web-0")

        async def recreated() -> Object | None:
            again = (await pods(client)).get("web-0")
            return again if again and again["metadata"]["uid"] != pod["metadata"]["uid"] else None

        again = await eventually(recreated, "web-0 recreated")
    claim = made["www-web-0"]
    assert claim["metadata"]["labels"] == {"kind": "data", "app": "web"}
    assert not claim["metadata"].get("ownerReferences")  # Retain/Retain: nobody owns it
    assert claim["spec"]["resources"] == {"requests": {"storage": "1Gi"}}
    volumes = {v["name"]: v for v in again["spec"]["volumes"]}
    assert volumes["www"] == {"name": "www", "persistentVolumeClaim": {"claimName": "www-web-0"}}
    assert volumes["logs"]["persistentVolumeClaim"] == {"claimName": "logs-web-0"}
    kept = await claims(client)
    assert kept["www-web-0"]["metadata"]["uid"] == claim["metadata"]["uid"]
    messages = await events(client, "SuccessfulCreate")
    assert "create Claim www-web-0 Pod web-0 in StatefulSet web success" in messages
    assert messages.count("create Claim www-web-0 Pod web-0 in StatefulSet web success") == 1


async def test_when_deleted_delete_makes_the_set_own_the_claims(
    client: Client, clock: SteppingClock
) -> None:
    policy = {"whenDeleted": "Delete", "whenScaled": "Retain"}
    spec = stateful_set(
        1, volumeClaimTemplates=[claim_template()], persistentVolumeClaimRetentionPolicy=policy
    )
    async with running(client, clock):
        sts = await client.create(STATEFULSETS, "default", spec)
        await wait_pods(client, ["web-0"])
    (reference,) = (await claims(client))["www-web-0"]["metadata"]["ownerReferences"]
    assert reference["kind"] == "StatefulSet" and reference["uid"] == sts["metadata"]["uid"]
    assert reference["controller"] is True


async def test_when_scaled_delete_hands_a_scaled_down_claim_to_its_pod(
    client: Client, clock: SteppingClock
) -> None:
    policy = {"whenDeleted": "Retain", "whenScaled": "Delete"}
    spec = stateful_set(
        2,
        podManagementPolicy="Parallel",
        volumeClaimTemplates=[claim_template()],
        persistentVolumeClaimRetentionPolicy=policy,
    )
    async with running(client, clock):
        await client.create(STATEFULSETS, "default", spec)
        found = await wait_pods(client, ["web-0", "web-1"])
        assert not (await claims(client))["www-web-1"]["metadata"].get("ownerReferences")
        # the scale-down pass first gives web-1's claim to web-1, then deletes web-1 (in
        # the cluster the garbage collector then deletes the claim; none runs here)
        await client.patch(STATEFULSETS, "default", "web", {"spec": {"replicas": 1}})
        await wait_pods(client, ["web-0"])
    references = (await claims(client))["www-web-1"]["metadata"]["ownerReferences"]
    assert [(r["kind"], r["uid"], r["controller"]) for r in references] == [
        ("Pod", found["web-1"]["metadata"]["uid"], True)
    ]
    assert not (await claims(client))["www-web-0"]["metadata"].get("ownerReferences")


def _objects(scaled_down: bool) -> tuple[Object, Object]:
    sts = {
        "metadata": {"name": "web", "namespace": "default", "uid": "set-uid"},
        "spec": {"replicas": 1},
    }
    pod = {"metadata": {"name": "web-1" if scaled_down else "web-0", "uid": "pod-uid"}}
    return sts, pod


@pytest.mark.parametrize(
    ("when_scaled", "when_deleted", "scaled_down", "owners"),
    [
        ("Retain", "Retain", False, []),
        ("Retain", "Retain", True, []),
        ("Retain", "Delete", False, ["StatefulSet"]),
        ("Retain", "Delete", True, ["StatefulSet"]),
        ("Delete", "Retain", False, []),
        ("Delete", "Retain", True, ["Pod"]),
        ("Delete", "Delete", False, ["StatefulSet"]),
        ("Delete", "Delete", True, ["Pod"]),
    ],
)
def test_the_retention_policy_table(
    when_scaled: str, when_deleted: str, scaled_down: bool, owners: list[str]
) -> None:
    sts, pod = _objects(scaled_down)
    sts["spec"]["persistentVolumeClaimRetentionPolicy"] = {
        "whenScaled": when_scaled,
        "whenDeleted": when_deleted,
    }
    other = {"apiVersion": "v1", "kind": "ConfigMap", "name": "keep", "uid": "x"}
    claim: Object = {"metadata": {"ownerReferences": [other]}}
    refs = wanted_owner_refs(claim, sts, pod)
    assert refs[0] == other  # references of others are kept
    assert [r["kind"] for r in refs[1:]] == owners
    assert all(r["controller"] for r in refs[1:])
    assert claim_owner_up_to_date({"metadata": {"ownerReferences": refs}}, sts, pod)
    assert claim_owner_up_to_date(claim, sts, pod) == (owners == [])


def test_a_claim_of_an_earlier_set_or_another_controller_is_left_alone() -> None:
    sts, pod = _objects(False)
    sts["spec"]["persistentVolumeClaimRetentionPolicy"] = {
        "whenScaled": "Delete",
        "whenDeleted": "Delete",
    }
    stale = {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "old"}
    assert claim_owner_up_to_date({"metadata": {"ownerReferences": [stale]}}, sts, pod)
    foreign = {"apiVersion": "v1", "kind": "Foo", "name": "f", "uid": "f", "controller": True}
    claim: Object = {"metadata": {"ownerReferences": [foreign]}}
    assert claim_owner_up_to_date(claim, sts, pod)
    assert wanted_owner_refs(claim, sts, pod) == [foreign]


async def test_a_claim_being_deleted_holds_its_pod_back_without_a_fault(
    client: Client, clock: SteppingClock
) -> None:
    """A pod whose claim is still being deleted (a finalizer holds it) is not made: the set
    waits, retrying with back-off and logging it as information, not as a failed reconcile;
    once the claim is gone, a new one is made and then the pod."""
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "www-web-0", "finalizers": ["test/hold"]},
        "spec": claim_template()["spec"],
    }
    old = await client.create(PERSISTENT_VOLUME_CLAIMS, "default", claim)
    await client.delete(PERSISTENT_VOLUME_CLAIMS, "default", "www-web-0")  # held: Terminating
    with structlog.testing.capture_logs() as logs:
        async with running(client, clock) as controller:
            await client.create(
                STATEFULSETS, "default", stateful_set(1, volumeClaimTemplates=[claim_template()])
            )

            async def waited() -> bool:
                return controller.queue.requeues("default/web") >= 1

            await eventually(waited, "a retry of the set")
            assert not await pods(client)
            patch = {"metadata": {"finalizers": None}}
            await client.patch(PERSISTENT_VOLUME_CLAIMS, "default", "www-web-0", patch)

            async def made() -> bool:
                clock.advance(60)  # past the back-off of the next retry
                return "web-0" in await pods(client)

            await eventually(made, "web-0 made once its claim is gone")
    assert (await claims(client))["www-web-0"]["metadata"]["uid"] != old["metadata"]["uid"]
    waits = [line for line in logs if line["event"] == "not yet; requeued"]
    assert waits and waits[0]["error"] == "pvc www-web-0 is being deleted"
    assert not [line for line in logs if line["log_level"] in ("error", "critical")]
