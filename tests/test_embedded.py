"""The embedded ``Cluster`` as a user's test drives it: apply, read, wait, exec, logs, reach a
Service, delete — and nothing it started outlives it, also when the ``with`` body raises."""

from __future__ import annotations

import concurrent.futures
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

import minikube_py
from minikube_py import ApiError, Cluster, ClusterError, WaitTimeout
from minikube_py.client import NODES

WEB = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: nginx}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web-internal}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"""

SLEEPER = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "sleeper", "labels": {"role": "sleeper"}},
    "spec": {
        "terminationGracePeriodSeconds": 1,
        "containers": [
            {
                "name": "main",
                "image": "busybox",
                "command": ["sh", "-c", "echo started; echo oops >&2; exec sleep 3600"],
            }
        ],
    },
}


def cluster_processes(directory: Path) -> list[psutil.Process]:
    """Live processes started from the cluster's state directory (pods' containers carry it
    in their environment and command lines)."""
    marker = str(directory)
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        try:
            if process.info["status"] == psutil.STATUS_ZOMBIE:
                found.append(process)  # never waited for: a leak too
                continue
            command = " ".join(process.info["cmdline"] or ())
            if marker in command or any(marker in v for v in process.environ().values()):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def eventually(read: Callable[[], str], ends: str, seconds: float = 10) -> str:
    """What ``read`` returns once it ends with ``ends`` (logs are written as the process
    prints), or at the deadline."""
    deadline = time.monotonic() + seconds
    while not (text := read()).endswith(ends) and time.monotonic() < deadline:
        time.sleep(0.05)
    return text


def get_text(url: str, attempts: int = 50) -> str:
    """The body at ``url``; a just-started server may not listen yet (no readiness probe)."""
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return str(response.read().decode())
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with Cluster() as running:
        yield running


def test_the_package_exports_the_embedded_api_lazily() -> None:
    assert minikube_py.Cluster is Cluster
    assert issubclass(WaitTimeout, ClusterError) and issubclass(WaitTimeout, TimeoutError)
    assert minikube_py.__version__
    with pytest.raises(AttributeError):
        minikube_py.NoSuchThing  # type: ignore[attr-defined]  # noqa: B018


def test_an_ephemeral_cluster_keeps_its_kubeconfig_to_itself(cluster: Cluster) -> None:
    assert cluster.kubeconfig.is_file()
    assert cluster.kubeconfig.parent == cluster.directory
    assert cluster.api_url in cluster.kubeconfig.read_text()
    assert cluster.api_url.startswith("https://127.0.0.1:")
    nodes = cluster.list("nodes")
    assert [n["metadata"]["name"] for n in nodes] == ["minikube"]
    # the in-process client, for what the verbs do not cover, runs on the cluster's loop
    listed = cluster.call(cluster.client.list(NODES))
    assert [n["metadata"]["name"] for n in listed["items"]] == ["minikube"]


def test_calling_the_cluster_from_its_own_thread_fails_instead_of_hanging(
    cluster: Cluster,
) -> None:
    cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "inner"}})
    with pytest.raises(ClusterError, match="own thread"):
        cluster.wait_for("cm/inner", lambda cm: cluster.get("cm", "inner"), timeout=10)


def test_apply_creates_then_updates_and_kinds_are_spelled_as_kubectl_takes_them(
    cluster: Cluster,
) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings"},
        "data": {"mode": "fast"},
    }
    [created] = cluster.apply(config)
    [again] = cluster.apply(config)
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    cluster.apply({**config, "data": {"mode": "slow"}})
    for kind in ("configmaps", "configmap", "cm", "ConfigMap"):
        assert cluster.get(kind, "settings")["data"] == {"mode": "slow"}
    managers = [m["manager"] for m in cluster.get("cm", "settings")["metadata"]["managedFields"]]
    assert managers == ["minikube-py"]
    cluster.delete("cm", "settings")
    with pytest.raises(ApiError) as error:
        cluster.get("cm", "settings")
    assert error.value.code == 404


def test_web_deployment_becomes_available_and_its_services_answer(cluster: Cluster) -> None:
    applied = cluster.apply(WEB)
    assert [o["kind"] for o in applied] == ["Deployment", "Service", "Service"]
    deployment = cluster.wait_for("deployment/web", "Available", timeout=60)
    assert deployment is not None and deployment["status"]["availableReplicas"] == 1
    assert len(cluster.list("po", "default", label_selector="app=web")) == 1
    node_port = cluster.get("svc", "web")["spec"]["ports"][0]["nodePort"]
    url = cluster.url("web", port="http")
    assert url.endswith(f":{node_port}") and url.startswith("http://127.")
    assert "Welcome to nginx!" in get_text(url)
    internal = cluster.url("web-internal")
    assert internal.startswith(f"http://{cluster.get('svc', 'web-internal')['spec']['clusterIP']}:")
    assert "Welcome to nginx!" in get_text(internal)
    with pytest.raises(ClusterError, match="no port 8080"):
        cluster.url("web", port=8080)
    cluster.delete("deployments.apps", "web")
    assert cluster.wait_for("deploy/web", "delete", timeout=30) is None


def test_exec_and_logs_reach_the_pods_container(cluster: Cluster) -> None:
    cluster.apply(SLEEPER)
    cluster.wait_for(("pods", "sleeper"), "Ready", timeout=60)
    code, out, err = cluster.exec("sleeper", ["sh", "-c", "echo $((6*7)); echo bad >&2; exit 3"])
    assert (code, out, err) == (3, "42\n", "bad\n")
    assert cluster.exec("sleeper", "echo hello world") == (0, "hello world\n", "")
    assert (
        eventually(lambda: cluster.logs("sleeper", container="main"), "oops\n") == "started\noops\n"
    )
    with pytest.raises(ApiError, match="container nope is not valid"):
        cluster.logs("sleeper", container="nope")
    cluster.delete("pod", "sleeper")


def test_wait_for_times_out_with_what_it_saw(cluster: Cluster) -> None:
    cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "still"}})
    started = time.monotonic()
    with pytest.raises(WaitTimeout, match=r"configmaps/still .*it is without status"):
        cluster.wait_for("cm/still", lambda cm: cm.get("data"), timeout=0.5)
    assert time.monotonic() - started < 5
    with pytest.raises(WaitTimeout, match="it does not exist"):
        cluster.wait_for("cm/never", "Ready", timeout=0.3)
    with pytest.raises(ClusterError, match='resource type "widgets"'):
        cluster.get("widgets", "x")


def test_a_watched_change_ends_the_wait(cluster: Cluster) -> None:
    cluster.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "later"}})
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(
            cluster.wait_for, "cm/later", lambda cm: (cm.get("data") or {}).get("ok"), timeout=30
        )
        time.sleep(0.2)  # let the wait reach its watch (it passes either way)
        cluster.apply(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "later"},
                "data": {"ok": "yes"},
            }
        )
        found = waiting.result(timeout=30)
    assert found is not None and found["data"] == {"ok": "yes"}


def test_custom_resources_are_kinds_as_soon_as_their_crd_is_served(cluster: Cluster) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {
                "plural": "widgets",
                "singular": "widget",
                "kind": "Widget",
                "shortNames": ["wd"],
            },
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }
    cluster.apply(crd)
    cluster.wait_for("crd/widgets.example.com", "Established", timeout=30)
    cluster.apply(
        {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w1"},
            "spec": {"size": 3},
        }
    )
    assert cluster.get("wd", "w1")["spec"] == {"size": 3}
    assert [w["metadata"]["name"] for w in cluster.list("widgets.example.com")] == ["w1"]


def test_two_clusters_side_by_side_and_nothing_outlives_a_failing_body() -> None:
    directories = []
    with (
        pytest.raises(RuntimeError, match="the test failed"),
        Cluster() as first,
        Cluster() as second,
    ):
        directories = [first.directory, second.directory]
        for running in (first, second):
            running.apply(SLEEPER)
        for running in (first, second):
            running.wait_for("pod/sleeper", "Ready", timeout=60)
        ips = {c.get("pod", "sleeper")["status"]["podIP"] for c in (first, second)}
        assert len(ips) == 2  # disjoint address slots
        assert first.api_url != second.api_url
        for directory in directories:
            assert cluster_processes(directory), "the pod's process should be running"
        raise RuntimeError("the test failed")
    deadline = time.monotonic() + 10
    left = [p for d in directories for p in cluster_processes(d)]
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [p for p in left if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert left == []
    assert not any(d.exists() for d in directories)  # the temporary state is removed


def test_a_kept_state_directory_survives_a_restart(tmp_path: Path) -> None:
    with Cluster(state_dir=tmp_path) as first:
        first.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kept"}})
    with Cluster(state_dir=tmp_path) as second:
        assert second.get("cm", "kept")["metadata"]["name"] == "kept"
    assert (tmp_path / "kubeconfig").is_file()


def test_a_cluster_used_outside_its_block_says_so() -> None:
    idle = Cluster()
    with pytest.raises(ClusterError, match="not running"):
        idle.get("pods", "x")


def test_importing_the_package_stays_cheap() -> None:
    code = (
        "import sys, minikube_py; "
        "print(sorted(m for m in ('minikube_py.cluster', 'aiohttp', 'sqlalchemy') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


FORGETFUL_SCRIPT = """
import minikube_py
cluster = minikube_py.Cluster().start()  # and never stopped: the script just ends
cluster.apply(POD)
cluster.wait_for("pod/sleeper", "Ready")
print(cluster.directory, flush=True)
"""


def test_a_cluster_a_script_forgets_to_stop_is_stopped_when_the_interpreter_exits() -> None:
    script = f"POD = {SLEEPER!r}\n{FORGETFUL_SCRIPT}"
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(Path(minikube_py.__file__).parent.parent)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    directory = Path(result.stdout.strip())
    assert directory.name.startswith("minikube-py-")
    assert not directory.exists()
    assert cluster_processes(directory) == []
