"""Commands that need no running cluster: their output and minikube's exit codes."""

from __future__ import annotations

import gc
import json
import socket

import pytest

from minikube_py import __version__
from minikube_py.cli.lifecycle import _memory
from minikube_py.cli.serve import _free_port
from minikube_py.cli.status import exit_code, render
from tests.cli.conftest import Home


def test_version(home: Home) -> None:
    result = home.run("version")
    assert (result.exit_code, result.output) == (0, f"minikube-py version: v{__version__}\n")


def test_config_set_get_view_unset(home: Home) -> None:
    result = home.run("config", "set", "cpus", "4")
    assert result.exit_code == 0
    assert "take effect upon a minikube-py delete and then a minikube-py start" in result.output
    assert home.run("config", "set", "memory", "4Gi").exit_code == 0
    assert home.run("config", "get", "cpus").output == "4\n"
    assert home.run("config", "view").output == "- cpus: 4\n- memory: 4Gi\n"
    assert json.loads((home.home / "config.json").read_text()) == {"cpus": 4, "memory": "4Gi"}
    assert home.run("config", "unset", "cpus").exit_code == 0
    missing = home.run("config", "get", "cpus")
    assert missing.exit_code == 1
    assert missing.output == "Error: specified key could not be found in config\n"


def test_config_refuses_unknown_keys_and_bad_values(home: Home) -> None:
    unknown = home.run("config", "set", "bogus", "1")
    assert unknown.exit_code == 14  # minikube's usage error
    assert 'property name "bogus" not found' in unknown.output
    bad = home.run("config", "set", "cpus", "many")
    assert bad.exit_code == 14 and '"many" is not a number of CPUs' in bad.output


def test_profile_sets_the_active_profile(home: Home) -> None:
    assert home.run("profile").output == "minikube\n"
    result = home.run("profile", "dev")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "* if you want to create a profile you can by this command: minikube-py start -p dev",
        "* minikube-py profile was successfully set to dev",
    ]
    assert home.run("profile").output == "dev\n"
    assert home.run("config", "get", "profile").output == "dev\n"


def test_profile_list_without_profiles(home: Home) -> None:
    result = home.run("profile", "list")
    assert result.exit_code == 85
    assert result.output == "* No minikube-py profile was found.\n"
    assert json.loads(home.run("profile", "list", "-o", "json").output) == {
        "invalid": [],
        "valid": [],
    }


@pytest.mark.parametrize(
    "command", [["status"], ["ip"], ["service", "list"], ["node", "list"], ["logs"]]
)
def test_an_unknown_profile_is_reported_with_exit_code_85(home: Home, command: list[str]) -> None:
    result = home.run(*command, "-p", "ghost")
    assert result.exit_code == 85
    assert result.output.splitlines() == [
        '* Profile "ghost" not found. Run "minikube-py profile list" to view all profiles.',
        '* To start a cluster, run: "minikube-py start -p ghost"',
    ]


def test_a_stopped_profile(home: Home) -> None:
    directory = home.directory("idle")
    directory.mkdir(parents=True)
    (directory / "profile.json").write_text('{"name": "idle", "nodes": 1}')
    status = home.run("status", "-p", "idle")
    assert status.exit_code == 7  # host, cluster and Kubernetes all not running
    assert status.output == (
        "idle\ntype: Control Plane\nhost: Stopped\nkubelet: Stopped\napiserver: Stopped\n"
        "kubeconfig: Stopped\n\n"
    )
    ip = home.run("ip", "-p", "idle")
    assert ip.exit_code == 89
    assert ip.output.splitlines()[0] == "* The control plane node must be running for this command"
    assert "| idle    | minikube-py | process |" in home.run("profile", "list").output
    stop = home.run("stop", "-p", "idle")
    assert (stop.exit_code, stop.output) == (0, '* The "idle" cluster is not running.\n')


@pytest.mark.parametrize(
    ("given", "quantity"),
    [("4096", "4096Mi"), ("4096mb", "4096Mi"), ("4g", "4Gi"), ("8GB", "8Gi"), ("4Gi", "4Gi"),
     ("max", None), (None, None)],
)  # fmt: skip
def test_memory_values_as_minikube_takes_them(given: str | None, quantity: str | None) -> None:
    assert _memory(given) == quantity


def test_status_exit_code_bits() -> None:
    running = {"Host": "Running", "Kubelet": "Running", "APIServer": "Running"}
    assert exit_code([running | {"Kubeconfig": "Configured"}]) == 0
    assert exit_code([running | {"Kubeconfig": "Misconfigured"}]) == 4
    worker = {"APIServer": "Irrelevant", "Kubeconfig": "Irrelevant"}
    assert exit_code([worker | {"Host": "Stopped", "Kubelet": "Stopped"}]) == 3


def test_start_refuses_other_kubernetes_versions_and_addons(home: Home) -> None:
    result = home.run("start", "-p", "old", "--kubernetes-version", "v1.28.3")
    assert result.exit_code == 14
    assert result.output == (
        "* minikube-py runs Kubernetes v1.32.0 only: --kubernetes-version=v1.28.3 is not "
        "available (use v1.32.x)\n"
    )
    addon = home.run("start", "-p", "old", "--addons", "metallb")
    assert addon.exit_code == 1 and addon.output.startswith("Error: ")
    assert not home.directory("old").exists()  # refused before anything was made


def test_delete_of_a_missing_profile_still_succeeds(home: Home) -> None:
    result = home.run("delete", "-p", "ghost")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        '* "ghost" profile does not exist, trying anyways.',
        '* Removed all traces of the "ghost" cluster.',
    ]


def test_delete_all_purge_removes_the_home(home: Home) -> None:
    for name in ("one", "two"):
        home.directory(name).mkdir(parents=True)
        (home.directory(name) / "profile.json").write_text("{}")
    refused = home.run("delete", "--purge", "-p", "one")
    assert refused.exit_code == 14 and "Usage: minikube-py delete --all --purge" in refused.output
    result = home.run("delete", "--all", "--purge")
    assert result.exit_code == 0
    assert "* Successfully deleted all profiles" in result.output
    assert f"* Successfully purged minikube-py directory located at - [{home.home}]" in (
        result.output
    )
    assert not home.home.exists()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(home: Home, shell: str) -> None:
    result = home.run("completion", shell)
    assert result.exit_code == 0
    assert "_MINIKUBE_PY_COMPLETE" in result.output and "minikube-py" in result.output


def test_kubectl_without_kubectl_on_path_is_the_built_in_one(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(home.root / "empty"))
    monkeypatch.setenv("KUBECONFIG", str(home.root / "no-such-kubeconfig"))
    result = home.run("kubectl", "--", "config", "current-context")
    assert result.exit_code == 1
    assert result.output == "error: current-context is not set\n"  # kubectl's own words


def test_errors_are_one_line_without_a_traceback(home: Home) -> None:
    home.root.mkdir(parents=True, exist_ok=True)
    home.home.write_text("a file where the home directory should be")
    result = home.run("start")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("Error: ") and "Not a directory" in lines[-1]
    assert [line for line in lines if line.startswith("Error")] == [lines[-1]]
    assert "Traceback" not in result.output


def test_logs_are_rendered_for_people() -> None:
    line = json.dumps(
        {
            "component": "scheduler",
            "key": "default/web",
            "event": "pod bound",
            "level": "info",
            "timestamp": "2026-11-27T14:05:05.911123Z",
        }
    )
    assert render(line) == "I1127 14:05:05.911 [scheduler] pod bound key=default/web"
    assert render("not json\n") == "not json"


def test_logs_of_a_profile(home: Home) -> None:
    directory = home.directory("quiet")
    directory.mkdir(parents=True)
    (directory / "profile.json").write_text("{}")
    records = [
        {"component": "c", "event": f"line {n}", "level": "info", "timestamp": "2026-11-27T01"}
        for n in range(5)
    ]
    (directory / "cluster.log").write_text("".join(json.dumps(r) + "\n" for r in records))
    result = home.run("logs", "-p", "quiet", "-n", "2")
    assert result.exit_code == 0
    assert [line.split("] ")[1] for line in result.output.splitlines()] == ["line 3", "line 4"]


def test_a_taken_api_port_moves_to_the_next_free_one() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        chosen = _free_port("127.0.0.1", port)
        assert chosen > port
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", chosen))  # free indeed
    assert _free_port("127.0.0.1", 0) == 0  # 0: the server picks one itself


def test_help_lists_every_command_and_leaves_the_collector_on(home: Home) -> None:
    # `serve` turns the garbage collector off for its start-up; listing the commands (which
    # loads each) must not, or an embedding process would run on without it
    result = home.run("--help")
    assert result.exit_code == 0
    for name in ("start", "stop", "serve", "kubectl", "image", "update-context"):
        assert f"  {name} " in result.output
    assert gc.isenabled()
