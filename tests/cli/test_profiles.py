"""Real profiles in the background: two at once, their status, addresses, services, nodes,
and a stop and start that resumes the cluster's objects.

The module starts two profiles once (``alpha`` with one node, ``beta`` with two) and stops
them at the end, also when a test fails. The tests run in file order; the last ones stop,
restart and delete.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from minikube_py.cli.background import running_pid
from minikube_py.cli.common import api_client, read_json
from minikube_py.client.protocol import CONFIGMAPS, NODES, SERVICES
from tests.cli.conftest import Home, private_home


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    with private_home(tmp_path_factory.mktemp("cli")) as made:
        first = made.run(
            "start", "-p", "alpha", "--driver=docker", "--container-runtime=containerd",
            "--image-mirror-country=cn", "--force",
        )  # fmt: skip
        assert first.exit_code == 0, first.output
        made.first_start = first.output  # type: ignore[attr-defined]
        second = made.run("start", "-p", "beta", "--nodes", "2", "--cpus", "2", "--memory", "2g")
        assert second.exit_code == 0, second.output
        yield made


def _api(home: Home, profile: str, action: Any) -> Any:
    directory = home.directory(profile)
    url = read_json(directory / "serving.json")["url"]

    async def main() -> Any:
        async with api_client(directory, url) as client:
            return await action(client)

    return asyncio.run(main())


def test_start_prints_minikube_progress_and_notes(home: Home) -> None:
    lines = home.first_start.splitlines()  # type: ignore[attr-defined]
    assert lines[0].startswith("* minikube-py v")
    assert "* minikube-py needs no VM or container: --driver=docker is ignored" in lines[1]
    assert "--container-runtime=containerd is ignored" in lines[2]
    assert "--image-mirror-country=cn is ignored" in lines[3]
    assert "--force changes nothing" in lines[4]
    assert '* Starting "alpha" primary control-plane node in "alpha" cluster' in lines
    assert "* Enabled addons: storage-provisioner, default-storageclass" in lines
    assert lines[-1] == (
        '* Done! kubectl is now configured to use "alpha" cluster and "default" namespace by '
        "default"
    )


def test_the_last_start_owns_the_current_context(home: Home) -> None:
    config = yaml.safe_load(home.kubeconfig.read_text())
    assert config["current-context"] == "beta"
    assert {c["name"] for c in config["contexts"]} == {"alpha", "beta"}


def test_status_of_running_profiles(home: Home) -> None:
    alpha = home.run("status", "-p", "alpha")
    assert alpha.exit_code == 0
    assert alpha.output == (
        "alpha\ntype: Control Plane\nhost: Running\nkubelet: Running\napiserver: Running\n"
        "kubeconfig: Configured\n\n"
    )
    beta = home.run("status", "-p", "beta")
    assert beta.exit_code == 0
    assert beta.output.endswith("beta-m02\ntype: Worker\nhost: Running\nkubelet: Running\n\n")


def test_two_profiles_have_disjoint_addresses_and_directories(home: Home) -> None:
    alpha = home.run("ip", "-p", "alpha").output.strip()
    beta = home.run("ip", "-p", "beta").output.strip()
    worker = home.run("ip", "-p", "beta", "--node", "m02").output.strip()
    assert len({alpha, beta, worker}) == 3
    assert alpha.rsplit(".", 1)[0] != beta.rsplit(".", 1)[0]  # another address slot
    assert worker.rsplit(".", 1)[0] == beta.rsplit(".", 1)[0]  # beta's next node address
    missing = home.run("ip", "-p", "beta", "--node", "m07")
    assert missing.exit_code == 85
    assert home.directory("alpha") != home.directory("beta")
    for profile in ("alpha", "beta"):
        recorded = read_json(home.directory(profile) / "profile.json")
        assert recorded["address"] == home.run("ip", "-p", profile).output.strip()


def test_cpus_and_memory_as_minikube_writes_them(home: Home) -> None:
    nodes = _api(home, "beta", lambda client: client.list(NODES))["items"]
    assert [n["status"]["capacity"]["cpu"] for n in nodes] == ["2", "2"]
    assert [n["status"]["capacity"]["memory"] for n in nodes] == [
        "2097152Ki"
    ] * 2  # 2 GiB, as a kubelet reports it
    recorded = read_json(home.directory("beta") / "profile.json")
    assert (recorded["cpus"], recorded["memory"], recorded["nodes"]) == ("2", "2Gi", 2)


def test_profile_list(home: Home) -> None:
    assert home.run("profile", "alpha").exit_code == 0
    result = home.run("profile", "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [cell.strip() for cell in lines[1].split("|")[1:-1]] == [
        "Profile", "Driver", "Runtime", "IP", "Port", "Version", "Status", "Nodes", "Active",
    ]  # fmt: skip
    rows = {line.split("|")[1].strip(): line.split("|")[2:-1] for line in lines[3:-1]}
    alpha = [cell.strip() for cell in rows["alpha"]]
    assert alpha[:2] == ["minikube-py", "process"]
    assert alpha[2] == home.run("ip", "-p", "alpha").output.strip()
    assert alpha[4:] == ["v1.32.0", "Running", "1", "*"]
    assert [cell.strip() for cell in rows["beta"]][5:] == ["Running", "2", ""]


def test_commands_default_to_the_active_profile(home: Home) -> None:
    home.run("profile", "beta")
    result = home.run("node", "list")
    names = [line.split("\t")[0] for line in result.output.splitlines()]
    assert names == ["beta", "beta-m02"]


def test_service_urls(home: Home) -> None:
    service = {
        "metadata": {"name": "web"},
        "spec": {
            "type": "NodePort",
            "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
        },
    }
    made = _api(home, "alpha", lambda client: client.create(SERVICES, "default", service))
    node_port = made["spec"]["ports"][0]["nodePort"]
    address = home.run("ip", "-p", "alpha").output.strip()
    url = home.run("service", "web", "--url", "-p", "alpha")
    assert (url.exit_code, url.output) == (0, f"http://{address}:{node_port}\n")
    listed = home.run("service", "list", "-p", "alpha", "-n", "default")
    assert f"| default   | web        | http/80      | http://{address}:{node_port} |" in (
        listed.output
    )
    assert "| default   | kubernetes | No node port |" in listed.output
    cluster_ip = home.run("service", "kubernetes", "--url", "-p", "alpha")
    assert cluster_ip.output == "* service default/kubernetes has no node port\n"
    missing = home.run("service", "nope", "-p", "alpha")
    assert missing.exit_code == 115
    assert "Service 'nope' was not found in 'default' namespace." in missing.output


def test_kubectl_runs_with_the_profile_context(home: Home) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "minikube_py", "kubectl", "-p", "beta", "--", "get", "nodes",
         "-o", "name"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["node/beta", "node/beta-m02"]


def test_node_add_stop_start_delete(home: Home) -> None:
    added = home.run("node", "add", "-p", "beta")
    assert added.exit_code == 0, added.output
    assert added.output.splitlines() == [
        "* Adding node m03 to cluster beta as [worker]",
        "* Successfully added m03 to beta!",
    ]
    stopped = home.run("node", "stop", "m02", "-p", "beta")
    assert stopped.exit_code == 0, stopped.output
    status = home.run("status", "-p", "beta")
    assert "beta-m02\ntype: Worker\nhost: Stopped\nkubelet: Stopped\n" in status.output
    assert status.exit_code == 3  # host and kubelet of one node not running
    started = home.run("node", "start", "m02", "-p", "beta")
    assert started.exit_code == 0 and "Successfully started node m02!" in started.output
    assert home.run("status", "-p", "beta").exit_code == 0
    deleted = home.run("node", "delete", "m03", "-p", "beta")
    assert deleted.output.splitlines()[-1] == "* Node m03 was successfully deleted."
    names = [
        line.split("\t")[0]
        for line in home.run("node", "list", "-p", "beta").output.split("\n")
        if line
    ]
    assert names == ["beta", "beta-m02"]
    refused = home.run("node", "stop", "beta", "-p", "beta")
    assert refused.exit_code == 1 and "control plane" in refused.output


def test_stop_and_start_resume_the_cluster(home: Home) -> None:
    keep = {"metadata": {"name": "keep"}, "data": {"a": "b"}}
    _api(home, "alpha", lambda client: client.create(CONFIGMAPS, "default", keep))
    address = home.run("ip", "-p", "alpha").output.strip()
    stopped = home.run("stop", "-p", "alpha")
    assert stopped.output.splitlines() == ['* Stopping node "alpha"  ...', "* 1 node stopped."]
    assert running_pid(home.directory("alpha")) is None
    assert home.run("status", "-p", "alpha").exit_code == 7
    again = home.run("start", "-p", "alpha")
    assert again.exit_code == 0, again.output
    assert '* Restarting existing minikube-py cluster for "alpha" ...' in again.output
    assert home.run("ip", "-p", "alpha").output.strip() == address  # its slot again
    found = _api(home, "alpha", lambda client: client.get(CONFIGMAPS, "default", "keep"))
    assert found["data"] == {"a": "b"}
    running = home.run("start", "-p", "alpha")
    assert '* The "alpha" cluster is already running.' in running.output


def test_update_context_repairs_the_kubeconfig(home: Home) -> None:
    config = yaml.safe_load(home.kubeconfig.read_text())
    for entry in config["clusters"]:
        if entry["name"] == "alpha":
            entry["cluster"]["server"] = "https://127.0.0.1:1"
    home.kubeconfig.write_text(yaml.safe_dump(config))
    broken = home.run("status", "-p", "alpha")
    assert broken.exit_code == 4 and "kubeconfig: Misconfigured" in broken.output
    fixed = home.run("update-context", "-p", "alpha")
    assert fixed.output.splitlines()[0].startswith('* "alpha" context has been updated to point')
    assert home.run("status", "-p", "alpha").exit_code == 0


def test_delete_removes_the_profile_and_its_context(home: Home) -> None:
    directory: Path = home.directory("beta")
    result = home.run("delete", "-p", "beta")
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == '* Removed all traces of the "beta" cluster.'
    assert not directory.exists()
    config = yaml.safe_load(home.kubeconfig.read_text())
    assert "beta" not in {c["name"] for c in config["contexts"]}
    assert home.run("status", "-p", "beta").exit_code == 85
