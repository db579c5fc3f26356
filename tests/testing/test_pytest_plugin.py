"""The pytest plugin as a user's suite meets it: a pytest run of its own, in a subprocess,
whose tests ask for ``minikube_cluster`` and ``k8s_namespace``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

from tests.testing.suite import PLUGIN, REPO, run_pytest

USER_TESTS = """
import json, os
from pathlib import Path

RECORD = Path(os.environ["RECORD"])
POD = {
    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app"},
    "spec": {"terminationGracePeriodSeconds": 1,
             "containers": [{"name": "app", "image": "busybox",
                             "command": ["sleep", "3600"]}]},
}


def test_first(minikube_cluster, k8s_namespace):
    assert k8s_namespace.startswith("test-")
    minikube_cluster.apply(POD, namespace=k8s_namespace)
    pod = minikube_cluster.wait_for("pod/app", "Ready", namespace=k8s_namespace, timeout=60)
    assert pod["status"]["phase"] == "Running"
    RECORD.write_text(json.dumps({"namespace": k8s_namespace,
                                  "directory": str(minikube_cluster.directory)}))


def test_second_gets_its_own_namespace_and_the_first_one_goes(minikube_cluster, k8s_namespace):
    first = json.loads(RECORD.read_text())["namespace"]
    assert k8s_namespace != first
    minikube_cluster.wait_for(("namespace", first), "delete", timeout=60)
    assert minikube_cluster.list("pods", first) == []
"""


def run_user_suite(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_user.py").write_text(USER_TESTS)
    record = tmp_path / "record.json"
    return run_pytest(suite, env={"RECORD": str(record)}), record


def test_a_users_suite_gets_a_cluster_and_namespaces_and_leaves_nothing(tmp_path: Path) -> None:
    result, record = run_user_suite(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    directory = json.loads(record.read_text())["directory"]
    assert not Path(directory).exists()  # the session's cluster removed its state
    deadline = time.monotonic() + 10
    while (left := _started_from(directory)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left == []


def _started_from(directory: str) -> list[int]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            command = " ".join(process.info["cmdline"] or ())
            if directory in command or any(directory in v for v in process.environ().values()):
                found.append(process.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def test_importing_the_plugin_does_not_import_the_cluster() -> None:
    code = f"import sys, {PLUGIN}; print('minikube_py.cluster' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "False"
