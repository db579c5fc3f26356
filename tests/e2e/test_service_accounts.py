"""Service accounts in pods, through the real kubectl: the token volume and the API from a pod.

Every pod runs as a service account; the API server's admission mounts its credentials at
``/var/run/secrets/kubernetes.io/serviceaccount`` and the kubelet fills them in (a bound token,
the cluster's ``ca.crt``, the ``namespace``). Each test makes its own namespace and in it the
``default`` ServiceAccount and the ``kube-root-ca.crt`` ConfigMap itself — what the
``serviceaccount`` and ``root-ca-cert-publisher`` controllers make — so it does not depend on
the session cluster running them (an ``apply``: the same objects if they did).

The Python pod reaches the API server at ``$KUBERNETES_SERVICE_HOST``, which must not be
``127.0.0.1``: the Python start-up hook sends a pod's connections to ``127.0.0.1`` to the pod's
own address (its "localhost"), so that test runs a cluster of its own on another loopback
address. Its script is what one writes for a real cluster: the official client's plain
``load_incluster_config()`` reads the token and ``ca.crt`` at the mount path (the start-up hook
moves a Python program's paths under a volume mount to the volume: ``MINIKUBE_PY_MOUNTS``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Kubectl, Server, make_kubectl, serving
from tests.e2e.test_pods import eventually

MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
# The official client's in-cluster configuration, unchanged, as in a real pod.
CLIENT_SCRIPT = f"""
import os
from kubernetes import client, config
config.load_incluster_config()
namespace = open("{MOUNT}/namespace").read()
api = client.CoreV1Api()
me = api.read_namespaced_pod(os.environ["HOSTNAME"], namespace)
pods = api.list_namespaced_pod(namespace)
print("listed", namespace, me.metadata.name, sorted(p.metadata.name for p in pods.items))
"""


def prepare_namespace(kubectl: Kubectl, namespace: str, ca_pem: str) -> None:
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "kube-root-ca.crt"},
            "data": {"ca.crt": ca_pem},
        },
    ]
    kubectl.out("apply", "-f", "-", stdin=json.dumps(objects[0]))
    for obj in objects[1:]:
        kubectl.out("apply", "-n", namespace, "-f", "-", stdin=json.dumps(obj))


def one_shot(name: str, image: str, command: list[str], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": image, "command": command}],
            **spec,
        },
    }


def finished(kubectl: Kubectl, namespace: str, name: str) -> dict[str, Any]:
    def phase() -> Any:
        got = kubectl.json("get", "pod", name, "-n", namespace)
        return got if got["status"].get("phase") in ("Succeeded", "Failed") else None

    result: dict[str, Any] = eventually(phase)
    return result


def test_a_pod_reads_its_namespace_from_the_service_account_volume(
    kubectl: Kubectl, cluster: Server, unique: Any
) -> None:
    namespace = unique("sa")
    prepare_namespace(kubectl, namespace, cluster.ca_cert.read_text())
    reader = one_shot("reader", "busybox:1.36", ["sh", "-c", f"cat {MOUNT}/namespace"])
    kubectl.out("apply", "-n", namespace, "-f", "-", stdin=json.dumps(reader))
    done = finished(kubectl, namespace, "reader")
    assert done["spec"]["serviceAccountName"] == "default"
    assert done["status"]["phase"] == "Succeeded", done["status"]
    assert kubectl.out("logs", "reader", "-n", namespace) == namespace
    volume = next(v for v in done["spec"]["volumes"] if v["name"].startswith("kube-api-access-"))
    mount = done["spec"]["containers"][0]["volumeMounts"][0]
    assert mount == {"name": volume["name"], "readOnly": True, "mountPath": MOUNT}


def test_automount_false_leaves_the_path_empty(
    kubectl: Kubectl, cluster: Server, unique: Any
) -> None:
    namespace = unique("sa")
    prepare_namespace(kubectl, namespace, cluster.ca_cert.read_text())
    probe = one_shot(
        "probe",
        "busybox:1.36",
        ["sh", "-c", f"test -e {MOUNT}/token && echo mounted || echo absent"],
        automountServiceAccountToken=False,
    )
    kubectl.out("apply", "-n", namespace, "-f", "-", stdin=json.dumps(probe))
    done = finished(kubectl, namespace, "probe")
    assert not done["spec"].get("volumes")
    assert kubectl.out("logs", "probe", "-n", namespace) == "absent\n"


def test_a_missing_service_account_refuses_the_pod(
    kubectl: Kubectl, cluster: Server, unique: Any
) -> None:
    namespace = unique("sa")
    prepare_namespace(kubectl, namespace, cluster.ca_cert.read_text())
    orphan = one_shot("orphan", "busybox:1.36", ["true"], serviceAccountName="robot")
    error = kubectl.fails("apply", "-n", namespace, "-f", "-", stdin=json.dumps(orphan))
    assert (
        f'pods "orphan" is forbidden: error looking up service account {namespace}/robot: '
        'serviceaccount "robot" not found'
    ) in error


@pytest.fixture(scope="module")
def own_cluster(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A cluster whose API server is not on 127.0.0.1 (see the module docstring)."""
    directory = tmp_path_factory.mktemp("sa-cluster")
    with serving(directory, extra=("--address", "127.77.0.1")) as server:
        yield server


def test_a_python_pod_calls_the_api_with_its_token(own_cluster: Server, tmp_path: Path) -> None:
    kubectl = make_kubectl(own_cluster.kubeconfig, tmp_path)
    namespace = "robots"
    prepare_namespace(kubectl, namespace, own_cluster.ca_cert.read_text())
    caller = one_shot("caller", "python:3.12", ["python3", "-c", CLIENT_SCRIPT])
    kubectl.out("apply", "-n", namespace, "-f", "-", stdin=json.dumps(caller))
    done = finished(kubectl, namespace, "caller")
    logs = kubectl.out("logs", "caller", "-n", namespace)
    assert done["status"]["phase"] == "Succeeded", logs
    assert logs == f"listed {namespace} caller ['caller']\n"
