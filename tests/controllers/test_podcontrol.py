"""Making and removing a ReplicaSet's pods against a real in-process API server: the pod made
from the template, slow-start batches, and the owner's Events in upstream's words.

``client`` (tests/controllers/conftest.py) is a real API server behind an in-process client.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from minikube_py.client import EVENTS, PODS, REPLICASETS, ApiError, Client
from minikube_py.client.events import EventRecorder
from minikube_py.controllers.podcontrol import (
    REPLICA_SET,
    Outcome,
    PodControl,
    pod_from_template,
)

Object = dict[str, Any]


def template(**labels: str) -> Object:
    return {
        "metadata": {
            "labels": labels or {"app": "web"},
            "annotations": {"note": "from the template"},
        },
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
    }


@pytest.fixture
async def owner(client: Client) -> Object:
    rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": template(),
        },
    }
    made = await client.create(REPLICASETS, "default", rs)
    # As a list item may come: without apiVersion and kind, which events must still name.
    return {key: value for key, value in made.items() if key not in ("apiVersion", "kind")}


class Recording:
    """A client that notes each pod create and delete, and fails the ones a test picks."""

    def __init__(
        self,
        inner: Client,
        *,
        fail_create: set[int] | None = None,
        fail_delete: set[str] | None = None,
        error: ApiError | None = None,
    ) -> None:
        self.inner = inner
        self.fail_create = fail_create or set()
        self.fail_delete = fail_delete or set()
        self.error = error or ApiError(403, "Forbidden", 'pods "web" is forbidden: exceeded quota')
        self.started: list[int] = []  # for each create, how many creates had finished before
        self.finished = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def create(self, gvr: Any, namespace: str | None, obj: Object, **kw: Any) -> Object:
        self.started.append(self.finished)
        number = len(self.started)
        # Every create of a batch starts before any finishes: gather runs them all up to here.
        await asyncio.sleep(0)
        try:
            if number in self.fail_create:
                raise self.error
            return await self.inner.create(gvr, namespace, obj, **kw)
        finally:
            self.finished += 1

    async def delete(self, gvr: Any, namespace: str | None, name: str, **kw: Any) -> Object:
        if name in self.fail_delete:
            raise self.error
        return await self.inner.delete(gvr, namespace, name, **kw)

    def batches(self) -> list[int]:
        sizes: dict[int, int] = {}
        for finished_before in self.started:
            sizes[finished_before] = sizes.get(finished_before, 0) + 1
        return list(sizes.values())


async def events(client: Client, reason: str) -> list[Object]:
    listed = await client.list(EVENTS, "default")
    return [
        e for e in listed["items"] if e["reason"] == reason and e["involvedObject"]["name"] == "web"
    ]


async def pods(client: Client) -> list[Object]:
    return list((await client.list(PODS, "default"))["items"])


def test_pod_from_template_copies_the_template_and_names_its_controller() -> None:
    tpl = template(app="web", tier="front")
    tpl["metadata"]["finalizers"] = ["example.com/keep"]
    owner = {"metadata": {"name": "web", "namespace": "default", "uid": "u-1"}}
    made = pod_from_template(tpl, owner, controller_kind=REPLICA_SET)
    assert made["metadata"] == {
        "generateName": "web-",
        "labels": {"app": "web", "tier": "front"},
        "annotations": {"note": "from the template"},
        "finalizers": ["example.com/keep"],
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web",
                "uid": "u-1",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    }
    assert made["spec"] == tpl["spec"] and made["spec"] is not tpl["spec"]
    made["metadata"]["labels"]["app"] = "changed"
    assert tpl["metadata"]["labels"]["app"] == "web"  # a copy, not the template's own map


async def test_creates_pods_with_events_in_upstreams_words(client: Client, owner: Object) -> None:
    control = PodControl(client, EventRecorder(client, "replicaset-controller"))
    outcome = await control.create_pods("default", template(), owner, 3)
    assert outcome == Outcome(3)
    made = await pods(client)
    assert len(made) == 3
    for pod in made:
        assert pod["metadata"]["name"].startswith("web-")
        assert pod["metadata"]["labels"] == {"app": "web"}
        [reference] = pod["metadata"]["ownerReferences"]
        assert reference["uid"] == owner["metadata"]["uid"] and reference["controller"] is True
    created = await events(client, "SuccessfulCreate")
    assert sorted(e["message"] for e in created) == sorted(
        f"Created pod: {p['metadata']['name']}" for p in made
    )
    assert {(e["type"], e["involvedObject"]["kind"]) for e in created} == {("Normal", "ReplicaSet")}
    assert {e["source"]["component"] for e in created} == {"replicaset-controller"}


async def test_slow_start_doubles_the_batch_until_the_count(client: Client, owner: Object) -> None:
    recording = Recording(client)
    control = PodControl(recording, EventRecorder(client, "replicaset-controller"))
    assert await control.create_pods("default", template(), owner, 10) == Outcome(10)
    assert recording.batches() == [1, 2, 4, 3]
    assert len(await pods(client)) == 10


async def test_slow_start_stops_after_the_first_batch_with_a_failure(
    client: Client, owner: Object
) -> None:
    recording = Recording(client, fail_create={4})  # the first create of the third batch
    control = PodControl(recording, EventRecorder(client, "replicaset-controller"))
    outcome = await control.create_pods("default", template(), owner, 10)
    assert recording.batches() == [1, 2, 4]  # no fourth batch
    assert outcome.done == 6 and outcome.error is recording.error
    assert len(await pods(client)) == 6
    [failed] = await events(client, "FailedCreate")
    assert failed["type"] == "Warning"
    assert failed["message"] == 'Error creating: pods "web" is forbidden: exceeded quota'
    assert len(await events(client, "SuccessfulCreate")) == 6


async def test_a_pod_the_api_server_refuses(client: Client, owner: Object) -> None:
    bad = template()
    bad["spec"]["containers"][0]["image"] = ""
    control = PodControl(client, EventRecorder(client, "replicaset-controller"))
    outcome = await control.create_pods("default", bad, owner, 5)
    assert outcome.done == 0 and isinstance(outcome.error, ApiError)
    assert outcome.error.code == 422
    [failed] = await events(client, "FailedCreate")
    assert failed["message"] == f"Error creating: {outcome.error.message}"
    assert "is invalid" in failed["message"]
    assert await pods(client) == []


async def test_a_terminating_namespace_is_no_failure_and_no_event(
    client: Client, owner: Object
) -> None:
    terminating = ApiError(
        403,
        "Forbidden",
        'pods "web-x" is forbidden: unable to create new content in namespace default because '
        "it is being terminated",
        details={"causes": [{"reason": "NamespaceTerminating", "field": "metadata.namespace"}]},
    )
    recording = Recording(client, fail_create={1, 2, 3}, error=terminating)
    control = PodControl(recording, EventRecorder(client, "replicaset-controller"))
    assert await control.create_pods("default", template(), owner, 3) == Outcome(3)
    assert await events(client, "FailedCreate") == []


async def test_a_template_without_labels_makes_nothing(client: Client, owner: Object) -> None:
    unlabeled = template()
    unlabeled["metadata"]["labels"] = {}
    recording = Recording(client)
    control = PodControl(recording, EventRecorder(client, "replicaset-controller"))
    outcome = await control.create_pods("default", unlabeled, owner, 2)
    assert outcome.done == 0 and str(outcome.error) == "unable to create pods, no labels"
    assert recording.started == [] and await events(client, "FailedCreate") == []


async def test_deletes_pods_and_a_missing_pod_is_no_failure(client: Client, owner: Object) -> None:
    control = PodControl(client, EventRecorder(client, "replicaset-controller"))
    await control.create_pods("default", template(), owner, 3)
    made = await pods(client)
    ghost = {"metadata": {"name": "web-ghost", "namespace": "default"}}
    outcome = await control.delete_pods([made[0], made[1], ghost], owner)
    assert outcome == Outcome(2, None, (ghost,))
    left = [
        p["metadata"]["name"]
        for p in await pods(client)
        if not p["metadata"].get("deletionTimestamp")
    ]
    assert left == [made[2]["metadata"]["name"]]
    deleted = await events(client, "SuccessfulDelete")
    assert sorted(e["message"] for e in deleted) == sorted(
        f"Deleted pod: {p['metadata']['name']}" for p in made[:2]
    )
    assert await events(client, "FailedDelete") == []


async def test_a_failed_delete_is_reported(client: Client, owner: Object) -> None:
    control = PodControl(client, EventRecorder(client, "replicaset-controller"))
    await control.create_pods("default", template(), owner, 2)
    made = await pods(client)
    stuck = made[0]["metadata"]["name"]
    boom = ApiError(500, "InternalError", "etcdserver: request timed out")
    recording = Recording(client, fail_delete={stuck}, error=boom)
    control = PodControl(recording, EventRecorder(client, "replicaset-controller"))
    outcome = await control.delete_pods(made, owner)
    assert outcome.done == 1 and outcome.missed == (made[0],)
    assert str(outcome.error) == "unable to delete pods: etcdserver: request timed out"
    [failed] = await events(client, "FailedDelete")
    assert failed["type"] == "Warning"
    assert failed["message"] == "Error deleting: etcdserver: request timed out"
