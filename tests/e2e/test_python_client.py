"""The official ``kubernetes`` Python client (32.x, for Kubernetes 1.32) against the cluster.

The client is strict in places kubectl is not: it deserializes every response into its models,
needs all of ``/version``'s fields, and its ``watch.Watch`` retries once after a 410 and then
raises, leaving the re-list to the caller. These tests use it as an operator would.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from tests.e2e.conftest import Server, serving

NS = "default"


@pytest.fixture
def core(api_client: Any) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture
def apps(api_client: Any) -> client.AppsV1Api:
    return client.AppsV1Api(api_client)


def status_of(error: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(error.body)
    assert body["kind"] == "Status" and body["apiVersion"] == "v1", body
    assert body["status"] == "Failure", body
    assert body["code"] == error.status, body
    return body


def details_of(status: dict[str, Any]) -> dict[str, Any]:
    """``details`` without an empty ``group`` (Go omits it; an empty string means the same)."""
    details = dict(status["details"])
    if details.get("group") == "":
        del details["group"]
    return details


def configmap(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels or {"e2e": "py"}},
        "data": {"key": "value"},
    }


def deployment(name: str, replicas: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]},
            },
        },
    }


@pytest.fixture
def cleanup(core: client.CoreV1Api, apps: client.AppsV1Api) -> Iterator[list[tuple[str, str]]]:
    """Append ("configmap"|"deployment", name); each is deleted after the test."""
    made: list[tuple[str, str]] = []
    yield made
    for kind, name in made:
        delete = (
            core.delete_namespaced_config_map
            if kind == "configmap"
            else apps.delete_namespaced_deployment
        )
        try:
            delete(name, NS)
        except ApiException as error:
            if error.status != 404:
                raise


# ------------------------------------------------------------------------------ version etc.


def test_version_and_discovery(api_client: Any) -> None:
    info = client.VersionApi(api_client).get_code()
    assert info.git_version.startswith("v1.32.")
    assert info.major == "1" and info.minor.rstrip("+") == "32"
    versions = client.CoreApi(api_client).get_api_versions()
    assert versions.versions == ["v1"]
    assert versions.server_address_by_client_cid_rs  # required by the client's model
    groups = {group.name for group in client.ApisApi(api_client).get_api_versions().groups}
    assert {"apps", "batch", "rbac.authorization.k8s.io", "networking.k8s.io"} <= groups
    resources = client.CoreV1Api(api_client).get_api_resources()
    by_name = {resource.name: resource for resource in resources.resources}
    assert by_name["configmaps"].short_names == ["cm"]
    assert by_name["pods/log"].kind == "Pod" or by_name["pods/log"].kind == "PodLogOptions"


def test_namespaces_and_kubernetes_service(core: client.CoreV1Api) -> None:
    names = {ns.metadata.name for ns in core.list_namespace().items}
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names
    svc = core.read_namespaced_service("kubernetes", "default")
    assert svc.spec.ports[0].port == 443
    assert svc.spec.type == "ClusterIP"
    assert svc.spec.cluster_ip


# ------------------------------------------------------------------------------- configmaps


def test_configmap_crud(core: client.CoreV1Api, unique: Any, cleanup: list[Any]) -> None:
    name = unique("pycm")
    cleanup.append(("configmap", name))
    created = core.create_namespaced_config_map(NS, configmap(name, app=name))
    assert created.metadata.name == name
    assert created.metadata.namespace == NS
    assert created.metadata.uid and created.metadata.resource_version
    assert created.metadata.creation_timestamp is not None

    read = core.read_namespaced_config_map(name, NS)
    assert read.data == {"key": "value"}
    assert read.metadata.resource_version == created.metadata.resource_version

    listed = core.list_namespaced_config_map(NS, label_selector=f"app={name}")
    assert [item.metadata.name for item in listed.items] == [name]
    assert listed.metadata.resource_version
    everywhere = core.list_config_map_for_all_namespaces(field_selector=f"metadata.name={name}")
    assert [item.metadata.namespace for item in everywhere.items] == [NS]

    # A dict body is sent as a strategic merge patch; a list as a JSON patch.
    patched = core.patch_namespaced_config_map(name, NS, {"data": {"extra": "1"}})
    assert patched.data == {"key": "value", "extra": "1"}
    assert int(patched.metadata.resource_version) > int(read.metadata.resource_version)
    patched = core.patch_namespaced_config_map(name, NS, [{"op": "remove", "path": "/data/key"}])
    assert patched.data == {"extra": "1"}
    removed = core.patch_namespaced_config_map(name, NS, {"data": {"extra": None}})
    assert not removed.data

    # Replace with the current resourceVersion works, with a stale one is a Conflict.
    body = core.read_namespaced_config_map(name, NS)
    body.data = {"replaced": "yes"}
    replaced = core.replace_namespaced_config_map(name, NS, body)
    assert replaced.data == {"replaced": "yes"}
    with pytest.raises(ApiException) as stale:
        core.replace_namespaced_config_map(name, NS, body)
    assert stale.value.status == 409
    status = status_of(stale.value)
    assert status["reason"] == "Conflict"
    assert status["message"] == (
        f'Operation cannot be fulfilled on configmaps "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert details_of(status) == {"name": name, "kind": "configmaps"}

    # Delete with a stale precondition is refused; then a real delete.
    with pytest.raises(ApiException) as precondition:
        core.delete_namespaced_config_map(
            name,
            NS,
            body=client.V1DeleteOptions(
                preconditions=client.V1Preconditions(
                    resource_version=created.metadata.resource_version
                )
            ),
        )
    assert precondition.value.status == 409
    gone = core.delete_namespaced_config_map(name, NS)
    assert gone.status == "Success" or gone.metadata is not None
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map(name, NS)
    assert missing.value.status == 404
    status = status_of(missing.value)
    assert status["reason"] == "NotFound"
    assert status["message"] == f'configmaps "{name}" not found'
    assert details_of(status) == {"name": name, "kind": "configmaps"}


def test_errors_have_upstream_codes(
    core: client.CoreV1Api, apps: client.AppsV1Api, unique: Any, cleanup: list[Any]
) -> None:
    name = unique("pyerr")
    cleanup.append(("configmap", name))
    core.create_namespaced_config_map(NS, configmap(name))
    with pytest.raises(ApiException) as exists:
        core.create_namespaced_config_map(NS, configmap(name))
    assert exists.value.status == 409
    status = status_of(exists.value)
    assert status["reason"] == "AlreadyExists"
    assert status["message"] == f'configmaps "{name}" already exists'

    with pytest.raises(ApiException) as invalid_name:
        core.create_namespaced_config_map(NS, configmap("Not_Valid"))
    assert invalid_name.value.status == 422
    status = status_of(invalid_name.value)
    assert status["reason"] == "Invalid"
    assert status["details"]["kind"] == "ConfigMap"
    assert status["details"]["name"] == "Not_Valid"
    causes = status["details"]["causes"]
    assert causes[0]["field"] == "metadata.name"
    assert causes[0]["reason"] == "FieldValueInvalid"

    bad = deployment(unique("pybad"))
    bad["spec"]["template"]["metadata"]["labels"] = {"app": "different"}
    with pytest.raises(ApiException) as invalid:
        apps.create_namespaced_deployment(NS, bad)
    assert invalid.value.status == 422
    status = status_of(invalid.value)
    assert status["reason"] == "Invalid"
    assert status["message"].startswith(f'Deployment.apps "{bad["metadata"]["name"]}" is invalid')
    fields = {cause["field"] for cause in status["details"]["causes"]}
    assert "spec.template.metadata.labels" in fields, status
    assert status["details"]["group"] == "apps"
    assert status["details"]["kind"] == "Deployment"

    with pytest.raises(ApiException) as wrong_ns:
        core.read_namespaced_config_map(name, unique("no-such-ns"))
    assert wrong_ns.value.status == 404


def test_generate_name_dry_run_and_delete_collection(core: client.CoreV1Api, unique: Any) -> None:
    group = unique("pygen")
    body = configmap("", group=group)
    del body["metadata"]["name"]
    body["metadata"]["generateName"] = "gen-"
    made = [core.create_namespaced_config_map(NS, body).metadata.name for _ in range(3)]
    try:
        for name in made:
            assert name.startswith("gen-") and len(name) == len("gen-") + 5, name
        assert len(set(made)) == 3
        # dryRun=All: the answer is the object that would be stored; nothing is stored.
        dry = configmap(unique("pydry"), group=group)
        answer = core.create_namespaced_config_map(NS, dry, dry_run="All")
        assert answer.metadata.name == dry["metadata"]["name"]
        listed = core.list_namespaced_config_map(NS, label_selector=f"group={group}")
        assert sorted(item.metadata.name for item in listed.items) == sorted(made)

        # Paging: limit and continue visit every item once.
        seen: list[str] = []
        token = None
        pages = 0
        while True:
            page = core.list_namespaced_config_map(
                NS, label_selector=f"group={group}", limit=2, _continue=token
            )
            pages += 1
            seen += [item.metadata.name for item in page.items]
            token = page.metadata._continue
            if not token:
                break
            assert page.metadata.remaining_item_count in (None, 1)
        assert pages == 2
        assert sorted(seen) == sorted(made)
    finally:
        core.delete_collection_namespaced_config_map(NS, label_selector=f"group={group}")
    assert core.list_namespaced_config_map(NS, label_selector=f"group={group}").items == []


# ------------------------------------------------------------------------------ deployments


def test_deployment_status_subresource(
    apps: client.AppsV1Api, unique: Any, cleanup: list[Any]
) -> None:
    name = unique("pydep")
    cleanup.append(("deployment", name))
    created = apps.create_namespaced_deployment(NS, deployment(name))
    assert created.metadata.generation == 1
    assert created.spec.replicas == 2
    assert created.spec.strategy.type == "RollingUpdate"
    assert created.spec.revision_history_limit == 10
    assert created.spec.progress_deadline_seconds == 600

    # /status changes only the status, whatever else the patch says.
    patched = apps.patch_namespaced_deployment_status(
        name,
        NS,
        {
            "spec": {"replicas": 9},
            "metadata": {"labels": {"sneaky": "yes"}},
            "status": {"replicas": 2, "readyReplicas": 1, "observedGeneration": 1},
        },
    )
    assert patched.status.replicas == 2
    assert patched.status.ready_replicas == 1
    assert patched.status.observed_generation == 1
    assert patched.spec.replicas == 2
    assert not (patched.metadata.labels or {}).get("sneaky")
    assert patched.metadata.generation == 1

    # The main resource ignores status; a spec change bumps the generation. (The Deployment
    # controller writes the status too: a replace between its writes may be a 409, retried.)
    for attempt in range(5):
        current = apps.read_namespaced_deployment(name, NS)
        stored_status = current.status.to_dict()
        current.spec.replicas = 4
        current.status.ready_replicas = 0
        current.status.replicas = 99
        try:
            replaced = apps.replace_namespaced_deployment(name, NS, current)
            break
        except ApiException as error:
            if error.status != 409 or attempt == 4:
                raise
    assert replaced.spec.replicas == 4
    assert replaced.status.to_dict() == stored_status
    assert replaced.metadata.generation == 2

    # A metadata-only change leaves the generation alone.
    labelled = apps.patch_namespaced_deployment(name, NS, {"metadata": {"labels": {"x": "y"}}})
    assert labelled.metadata.generation == 2
    # ...but, for Deployments, an annotation change bumps it: upstream copies annotations to
    # the ReplicaSets, so the controller must see them (apps/deployment strategy).
    annotated = apps.patch_namespaced_deployment(
        name, NS, {"metadata": {"annotations": {"note": "x"}}}
    )
    assert annotated.metadata.generation == 3

    # The scale subresource.
    scale = apps.read_namespaced_deployment_scale(name, NS)
    assert scale.spec.replicas == 4
    assert isinstance(scale.status.replicas, int)  # the Deployment's, as its controller counts
    assert scale.metadata.name == name
    assert scale.status.selector == f"app={name}"
    scaled = apps.patch_namespaced_deployment_scale(name, NS, {"spec": {"replicas": 1}})
    assert scaled.spec.replicas == 1
    assert apps.read_namespaced_deployment(name, NS).spec.replicas == 1

    # status of a missing deployment
    with pytest.raises(ApiException) as missing:
        apps.read_namespaced_deployment_status(unique("nodep"), NS)
    assert missing.value.status == 404


# ------------------------------------------------------------------------------------ watch


def test_watch_replays_from_a_resource_version(core: client.CoreV1Api, unique: Any) -> None:
    name = unique("pywatch")
    since = core.list_namespaced_config_map(NS).metadata.resource_version
    core.create_namespaced_config_map(NS, configmap(name, watch=name))
    core.patch_namespaced_config_map(name, NS, {"data": {"more": "x"}})
    core.delete_namespaced_config_map(name, NS)

    seen: list[tuple[str, str]] = []
    w = watch.Watch()
    started = time.monotonic()
    for event in w.stream(
        core.list_namespaced_config_map,
        NS,
        resource_version=since,
        label_selector=f"watch={name}",
        timeout_seconds=10,
    ):
        seen.append((event["type"], event["object"].metadata.name))
        if event["type"] == "DELETED":
            w.stop()
    assert time.monotonic() - started < 10
    assert seen == [("ADDED", name), ("MODIFIED", name), ("DELETED", name)]


def test_watch_sees_live_events(core: client.CoreV1Api, unique: Any) -> None:
    name = unique("pylive")
    rv = core.list_namespaced_config_map(NS, label_selector=f"watch={name}").metadata
    w = watch.Watch()
    events: queue.Queue[Any] = queue.Queue()

    def follow() -> None:
        try:
            for event in w.stream(
                core.list_namespaced_config_map,
                NS,
                resource_version=rv.resource_version,
                label_selector=f"watch={name}",
                timeout_seconds=4,  # the stream ends then; stop() only acts on an event
            ):
                events.put((event["type"], event["object"]))
        except Exception as error:  # reported to the test thread
            events.put(("EXCEPTION", error))
        events.put(("END", None))

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    try:
        time.sleep(0.3)  # give the watch time to connect; correctness does not depend on it
        core.create_namespaced_config_map(NS, configmap(name, watch=name))
        kind, obj = events.get(timeout=10)
        assert kind == "ADDED" and obj.metadata.name == name, (kind, obj)
        core.patch_namespaced_config_map(name, NS, {"data": {"key": "changed"}})
        kind, obj = events.get(timeout=10)
        assert kind == "MODIFIED" and obj.data["key"] == "changed"
        core.delete_namespaced_config_map(name, NS)
        kind, obj = events.get(timeout=10)
        assert kind == "DELETED" and obj.metadata.name == name
    finally:
        w.stop()
        with contextlib.suppress(ApiException):
            core.delete_namespaced_config_map(name, NS)
        thread.join(10)
        assert not thread.is_alive(), "the watch outlived its timeoutSeconds"


def test_watch_timeout_seconds_closes_the_stream(core: client.CoreV1Api, unique: Any) -> None:
    started = time.monotonic()
    events = list(
        watch.Watch().stream(
            core.list_namespaced_config_map,
            NS,
            label_selector=f"nothing={unique('x')}",
            timeout_seconds=1,
        )
    )
    assert events == []
    assert time.monotonic() - started < 5


def raw_watch_lines(api_client: Any, path: str, seconds: int = 2) -> tuple[int, list[Any]]:
    """GET ``path`` with ``?watch=1`` through the client's own connection; status and events."""
    response = api_client.call_api(
        path,
        "GET",
        query_params=[("watch", "1"), ("resourceVersion", "1"), ("timeoutSeconds", str(seconds))],
        header_params={"Accept": "application/json"},
        auth_settings=["BearerToken"],
        _preload_content=False,
        _request_timeout=seconds + 10,
    )[0]
    lines = [json.loads(line) for line in response.data.decode().splitlines() if line.strip()]
    return response.status, lines


def test_watch_from_resource_version_1_is_well_formed(api_client: Any) -> None:
    """On a young cluster version 1 may still be in the watch window: then events replay;
    otherwise upstream sends one ERROR event with a 410 Expired Status. Never anything else."""
    status, lines = raw_watch_lines(api_client, "/api/v1/namespaces/default/configmaps")
    assert status == 200
    for line in lines:
        assert set(line) == {"type", "object"}, line
        if line["type"] == "ERROR":
            assert line["object"]["code"] == 410 and line["object"]["reason"] == "Expired"
            assert lines == [line]
        else:
            assert line["type"] in ("ADDED", "MODIFIED", "DELETED"), line
            assert line["object"]["kind"] == "ConfigMap"


def test_watch_410_after_restart_and_recovery(tmp_path: Path) -> None:
    """After a restart the watch window starts at the current revision, as upstream's cacher
    does: an older resourceVersion is 410 Expired, and the client recovers by listing again."""
    state = tmp_path / "restarted"
    with serving(state, store=None) as first:
        first_client = config.new_client_from_config(config_file=str(first.kubeconfig))
        try:
            client.CoreV1Api(first_client).create_namespaced_config_map(
                NS, configmap("survivor", e2e="restart")
            )
        finally:
            first_client.close()
    assert first.exit_code == 0 and not first.killed, first.output_text()
    assert "minikube-py: stopped" in first.output_text()

    with serving(state, store=None) as second:
        _check_expired_and_recover(second)


def _check_expired_and_recover(server: Server) -> None:
    api_client = config.new_client_from_config(config_file=str(server.kubeconfig))
    core = client.CoreV1Api(api_client)
    try:
        # The data survived the restart.
        assert core.read_namespaced_config_map("survivor", NS).data == {"key": "value"}

        status, lines = raw_watch_lines(api_client, "/api/v1/namespaces/default/configmaps")
        assert status == 200
        assert len(lines) == 1, lines
        assert lines[0]["type"] == "ERROR"
        gone = lines[0]["object"]
        assert gone["kind"] == "Status" and gone["apiVersion"] == "v1"
        assert gone["code"] == 410 and gone["reason"] == "Expired"
        assert gone["message"].startswith("too old resource version: 1 ("), gone

        # The client retries once on 410, then raises it for the caller to handle.
        with pytest.raises(ApiException) as expired:
            for _ in watch.Watch().stream(
                core.list_namespaced_config_map, NS, resource_version="1", timeout_seconds=5
            ):
                pass
        assert expired.value.status == 410

        # Recovery: list again and watch from the list's version.
        listed = core.list_namespaced_config_map(NS)
        assert "survivor" in {item.metadata.name for item in listed.items}
        core.patch_namespaced_config_map("survivor", NS, {"data": {"after": "restart"}})
        w = watch.Watch()
        seen = []
        for event in w.stream(
            core.list_namespaced_config_map,
            NS,
            resource_version=listed.metadata.resource_version,
            timeout_seconds=5,
        ):
            seen.append((event["type"], event["object"].metadata.name))
            w.stop()
        assert seen == [("MODIFIED", "survivor")]
    finally:
        api_client.close()
