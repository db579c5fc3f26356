"""StatefulSets with the real kubectl: stable names, stable storage, data that survives.

The set runs the built-in ``redis`` image (its server keeps its keyspace in ``dump.json`` in
``/data``, where each pod's claim is mounted) behind a headless Service, with a
``volumeClaimTemplates`` claim per pod. The tests check what the StatefulSet page promises:
pods made one at a time in ordinal order, each Ready before the next; ``web-0.<service>``
resolving in the cluster DNS; a deleted pod coming back under its name with its claim and its
data; scaling to zero and back keeping the claims; ``rollout status / history / undo``; and, on
a cluster of its own on the default SQLite file, the whole cluster stopped and a new ``serve``
started on the same state directory, after which the pods return with the same names, claims
and data.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Kubectl, make_kubectl, serving
from tests.e2e.test_pods import WAIT, apply, busybox, eventually


def redis_set(name: str, service: str, replicas: int = 2) -> list[dict[str, Any]]:
    labels = {"app": name}
    return [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": service, "labels": labels},
            "spec": {"clusterIP": "None", "selector": labels, "ports": [{"port": 6379}]},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": name},
            "spec": {
                "serviceName": service,
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "terminationGracePeriodSeconds": 2,
                        "containers": [{
                            "name": "redis",
                            "image": "redis:7",
                            "ports": [{"containerPort": 6379, "name": "redis"}],
                            "readinessProbe": {"tcpSocket": {"port": 6379}, "periodSeconds": 1},
                            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                        }],
                    },
                },
                "volumeClaimTemplates": [{
                    "metadata": {"name": "data"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "16Mi"}},
                    },
                }],
            },
        },
    ]  # fmt: skip


def apply_all(kubectl: Kubectl, manifests: list[dict[str, Any]]) -> None:
    for manifest in manifests:
        apply(kubectl, manifest)


def pods_of(kubectl: Kubectl, name: str) -> dict[str, Any]:
    listed = kubectl.json("get", "pods", "-l", f"app={name}")
    return {pod["metadata"]["name"]: pod for pod in listed["items"]}


def ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def redis(kubectl: Kubectl, pod: str, *command: str) -> str:
    address = kubectl.json("get", "pod", pod)["status"]["podIP"]
    return kubectl.out("exec", pod, "--", "redis-cli", "-h", address, *command).strip()


def wait_ready(kubectl: Kubectl, name: str, replicas: int) -> None:
    kubectl.out("rollout", "status", f"statefulset/{name}", "--timeout=90s")
    pods = pods_of(kubectl, name)
    assert sorted(pods) == [f"{name}-{n}" for n in range(replicas)]
    assert all(ready(pod) for pod in pods.values())


def claim_of(pod: dict[str, Any]) -> str:
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    return str(volumes["data"]["persistentVolumeClaim"]["claimName"])


@pytest.fixture
def stateful(kubectl: Kubectl, unique: Any) -> Iterator[tuple[str, str]]:
    name, service = unique("kv"), unique("kvsvc")
    try:
        yield name, service
    finally:
        kubectl.run("delete", "statefulset", name, "--wait", WAIT, check=False, timeout=70)
        kubectl.run("delete", "service", service, check=False)
        kubectl.run("delete", "pods", "-l", f"app={name}", "--wait", WAIT, check=False, timeout=70)
        kubectl.run("delete", "pvc", "-l", f"app={name}", check=False)
        for n in range(3):
            kubectl.run("delete", "pvc", f"data-{name}-{n}", "--ignore-not-found", check=False)


def test_pods_are_made_in_order_with_stable_names_dns_and_storage(
    kubectl: Kubectl, unique: Any, stateful: tuple[str, str]
) -> None:
    name, service = stateful
    apply_all(kubectl, redis_set(name, service))
    # OrderedReady: whenever pod 1 exists, pod 0 is already Ready (bounded poll)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        pods = pods_of(kubectl, name)
        if f"{name}-1" in pods:
            assert ready(pods[f"{name}-0"]), "pod 1 was made before pod 0 was Ready"
        if len(pods) == 2 and all(ready(p) for p in pods.values()):
            break
        time.sleep(0.1)
    wait_ready(kubectl, name, 2)
    pods = pods_of(kubectl, name)
    for n in range(2):
        pod = pods[f"{name}-{n}"]
        assert pod["spec"]["hostname"] == f"{name}-{n}"
        assert pod["spec"]["subdomain"] == service
        assert pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == f"{name}-{n}"
        assert claim_of(pod) == f"data-{name}-{n}"
        claim = kubectl.json("get", "pvc", f"data-{name}-{n}")
        assert claim["status"]["phase"] == "Bound"
        assert claim["metadata"]["labels"] == {"app": name}
    reasons = [
        e["message"]
        for e in kubectl.json("get", "events", "--field-selector", f"involvedObject.name={name}")[
            "items"
        ]
        if e["reason"] == "SuccessfulCreate"
    ]
    assert f"create Claim data-{name}-0 Pod {name}-0 in StatefulSet {name} success" in reasons
    assert f"create Pod {name}-0 in StatefulSet {name} successful" in reasons

    # the stable network name, asked from another pod through the cluster DNS
    fqdn = f"{name}-0.{service}.default.svc.cluster.local"
    resolver = unique("resolver")
    apply(kubectl, busybox(resolver, f"nslookup {fqdn}", restartPolicy="Never"))
    try:
        eventually(lambda: kubectl.json("get", "pod", resolver)["status"].get("phase")
                   in ("Succeeded", "Failed"))  # fmt: skip
        answer = kubectl.out("logs", resolver)
        assert pods[f"{name}-0"]["status"]["podIP"] in answer, answer
    finally:
        kubectl.run("delete", "pod", resolver, "--wait=false", check=False)

    # data written to pod 0 survives the pod: it comes back with its name, claim and data
    assert redis(kubectl, f"{name}-0", "SET", "greeting", "hello-from-0") == "OK"
    assert redis(kubectl, f"{name}-0", "SAVE") == "OK"
    volume = kubectl.json("get", "pvc", f"data-{name}-0")["spec"]["volumeName"]
    directory = Path(kubectl.json("get", "pv", volume)["spec"]["hostPath"]["path"])
    assert "hello-from-0" in (directory / "dump.json").read_text()
    old_uid = pods[f"{name}-0"]["metadata"]["uid"]
    kubectl.out("delete", "pod", f"{name}-0", "--wait", WAIT)
    eventually(lambda: (p := pods_of(kubectl, name).get(f"{name}-0")) is not None
               and p["metadata"]["uid"] != old_uid and ready(p))  # fmt: skip
    assert claim_of(pods_of(kubectl, name)[f"{name}-0"]) == f"data-{name}-0"
    assert redis(kubectl, f"{name}-0", "GET", "greeting") == "hello-from-0"

    # scaled to zero and back: pods go (highest first), claims stay, data returns
    kubectl.out("scale", f"statefulset/{name}", "--replicas=0")
    eventually(lambda: not pods_of(kubectl, name))
    assert kubectl.json("get", "pvc", f"data-{name}-0")["status"]["phase"] == "Bound"
    kubectl.out("scale", f"statefulset/{name}", "--replicas=2")
    wait_ready(kubectl, name, 2)
    assert redis(kubectl, f"{name}-0", "GET", "greeting") == "hello-from-0"


def test_rollout_status_history_and_undo(kubectl: Kubectl, stateful: tuple[str, str]) -> None:
    name, service = stateful
    apply_all(kubectl, redis_set(name, service))
    wait_ready(kubectl, name, 2)
    kubectl.out("set", "env", f"statefulset/{name}", "MODE=second")
    status = kubectl.out("rollout", "status", f"statefulset/{name}", "--timeout=90s")
    assert "partitioned roll out complete: 2 new pods have been updated" in status
    pods = pods_of(kubectl, name)
    for pod in pods.values():
        assert {"name": "MODE", "value": "second"} in pod["spec"]["containers"][0]["env"]
    history = kubectl.out("rollout", "history", f"statefulset/{name}")
    assert history.split("\n")[0] == f"statefulset.apps/{name} "
    revisions = [line.split()[0] for line in history.strip().splitlines()[2:]]
    assert revisions == ["1", "2"]
    second = kubectl.out("rollout", "history", f"statefulset/{name}", "--revision=2")
    assert "MODE:\tsecond" in second

    kubectl.out("rollout", "undo", f"statefulset/{name}")
    kubectl.out("rollout", "status", f"statefulset/{name}", "--timeout=90s")
    for pod in pods_of(kubectl, name).values():
        assert "env" not in pod["spec"]["containers"][0]
    sts = kubectl.json("get", "statefulset", name)
    assert sts["status"]["currentRevision"] == sts["status"]["updateRevision"]
    revisions = kubectl.out("rollout", "history", f"statefulset/{name}").strip().splitlines()[2:]
    assert [line.split()[0] for line in revisions] == ["2", "3"]


def test_data_and_identity_survive_a_cluster_restart(tmp_path: Path) -> None:
    state = tmp_path / "state"
    name, service = "kv", "kvsvc"

    def kubectl_for(server: Any, label: str) -> Kubectl:
        (tmp_path / label).mkdir()
        return make_kubectl(server.kubeconfig, tmp_path / label)

    with serving(state, store=None) as server:
        kubectl = kubectl_for(server, "first")
        apply_all(kubectl, redis_set(name, service))
        wait_ready(kubectl, name, 2)
        assert redis(kubectl, f"{name}-1", "SET", "kept", "across-restarts") == "OK"
        assert redis(kubectl, f"{name}-1", "SAVE") == "OK"
        before = {n: claim_of(p) for n, p in pods_of(kubectl, name).items()}
        volumes = {
            claim: kubectl.json("get", "pvc", claim)["spec"]["volumeName"]
            for claim in before.values()
        }
    assert server.exit_code == 0, server.output_text()[-2000:]
    assert not server.error_lines()[0]

    with serving(state, store=None) as server:
        kubectl = kubectl_for(server, "second")
        # the stored status still counts the pods of the first run as ready while the kubelet
        # starts them again, so wait for the pods themselves
        eventually(
            lambda: (
                sorted(pods_of(kubectl, name)) == [f"{name}-0", f"{name}-1"]
                and all(ready(p) for p in pods_of(kubectl, name).values())
            ),
            seconds=90,
        )
        wait_ready(kubectl, name, 2)
        after = {n: claim_of(p) for n, p in pods_of(kubectl, name).items()}
        assert after == before
        for claim, volume in volumes.items():
            assert kubectl.json("get", "pvc", claim)["spec"]["volumeName"] == volume
        assert redis(kubectl, f"{name}-1", "GET", "kept") == "across-restarts"
    assert server.exit_code == 0 and not server.error_lines()[0]
