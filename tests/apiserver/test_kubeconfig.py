"""Kubeconfig files: standalone, merged into the user's, and read by the real kubectl."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from minikube_py.apiserver import kubeconfig
from minikube_py.apiserver.authn import Authenticator
from minikube_py.apiserver.kubeconfig import (
    default_kubeconfig_path,
    remove_from_kubeconfig,
    write_kubeconfig,
)
from minikube_py.apiserver.pki import Pki, ensure_pki
from tests.apiserver.test_authn import whoami_server

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
needs_kubectl = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")

OTHER: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Config",
    "preferences": {"colors": True},
    "clusters": [{"name": "prod", "cluster": {"server": "https://10.0.0.1", "proxy-url": "x"}}],
    "users": [{"name": "prod-admin", "user": {"token": "abc"}}],
    "contexts": [{"name": "prod", "context": {"cluster": "prod", "user": "prod-admin"}}],
    "current-context": "prod",
    "extensions": [{"name": "mine", "extension": {"kept": "yes"}}],
}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME without $KUBECONFIG, so nothing touches the real ~/.kube."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    return home


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return ensure_pki(tmp_path / "pki", addresses=["127.0.0.1"])


def read(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def named(config: dict[str, Any], section: str) -> dict[str, Any]:
    return {entry["name"]: entry for entry in config[section]}


def kubectl(home: Path, *args: str) -> str:
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", "")}
    done = subprocess.run(
        [KUBECTL, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_standalone_file_names_the_profile(home: Path, pki: Pki, tmp_path: Path) -> None:
    path = write_kubeconfig(
        profile="demo", server="https://127.49.0.2:8443", pki=pki, path=tmp_path / "kc"
    )
    assert path == tmp_path / "kc"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read(path) == {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "cluster": {
                    "certificate-authority": str(pki.ca_cert),
                    "server": "https://127.49.0.2:8443",
                },
                "name": "demo",
            }
        ],
        "contexts": [
            {"context": {"cluster": "demo", "namespace": "default", "user": "demo"}, "name": "demo"}
        ],
        "current-context": "demo",
        "preferences": {},
        "users": [
            {
                "name": "demo",
                "user": {
                    "client-certificate": str(pki.client_cert),
                    "client-key": str(pki.client_key),
                },
            }
        ],
    }
    assert Path(pki.ca_cert).is_absolute()
    assert not (home / ".kube").exists()
    assert not Path(f"{path}.lock").exists()


def test_merging_keeps_every_other_entry_and_field(home: Path, pki: Pki) -> None:
    (home / ".kube").mkdir()
    (home / ".kube" / "config").write_text(yaml.safe_dump(OTHER))
    path = write_kubeconfig(profile="demo", server="https://127.49.0.2:8443", pki=pki)
    assert path == home / ".kube" / "config"
    config = read(path)
    for section in ("clusters", "users", "contexts"):
        other = OTHER[section][0]
        assert set(named(config, section)) == {other["name"], "demo"}
        assert named(config, section)[other["name"]] == other
    assert config["preferences"] == {"colors": True}
    assert config["extensions"] == OTHER["extensions"]
    assert config["current-context"] == "demo"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_rewriting_replaces_the_entries_and_keeps_a_chosen_namespace(home: Path, pki: Pki) -> None:
    path = write_kubeconfig(profile="demo", server="https://127.49.0.2:8443", pki=pki)
    config = read(path)
    named(config, "contexts")["demo"]["context"]["namespace"] = "team-a"
    path.write_text(yaml.safe_dump(config))
    write_kubeconfig(profile="demo", server="https://127.50.0.2:8443", pki=pki)
    config = read(path)
    assert [c["name"] for c in config["clusters"]] == ["demo"]
    assert named(config, "clusters")["demo"]["cluster"]["server"] == "https://127.50.0.2:8443"
    assert named(config, "contexts")["demo"]["context"]["namespace"] == "team-a"


def test_set_current_false_leaves_the_current_context(home: Path, pki: Pki) -> None:
    (home / ".kube").mkdir()
    (home / ".kube" / "config").write_text(yaml.safe_dump(OTHER))
    path = write_kubeconfig(profile="demo", server="https://x:8443", pki=pki, set_current=False)
    assert read(path)["current-context"] == "prod"


def test_the_first_kubeconfig_entry_is_the_one_written(
    home: Path, pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "a" / "first", tmp_path / "second"
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(["", str(first), str(second)]))
    assert default_kubeconfig_path() == first
    assert write_kubeconfig(profile="demo", server="https://x:8443", pki=pki) == first
    assert read(first)["current-context"] == "demo"
    assert not second.exists() and not (home / ".kube").exists()
    monkeypatch.delenv("KUBECONFIG")
    assert default_kubeconfig_path() == home / ".kube" / "config"


def test_an_empty_file_is_a_new_kubeconfig(home: Path, pki: Pki) -> None:
    (home / ".kube").mkdir()
    (home / ".kube" / "config").write_text("")
    path = write_kubeconfig(profile="demo", server="https://x:8443", pki=pki)
    assert set(named(read(path), "clusters")) == {"demo"}


@pytest.mark.parametrize(
    "text", ["clusters: [\n", "- a list\n", "clusters: {prod: 1}\n", "users: [1, 2]\n"]
)
def test_a_malformed_kubeconfig_is_refused_and_left_alone(home: Path, pki: Pki, text: str) -> None:
    path = home / ".kube" / "config"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(ValueError, match=str(path)):
        write_kubeconfig(profile="demo", server="https://x:8443", pki=pki)
    assert path.read_text() == text
    assert not Path(f"{path}.lock").exists()
    with pytest.raises(ValueError, match="not a valid kubeconfig"):
        remove_from_kubeconfig("demo")


def test_a_symlinked_kubeconfig_stays_a_symlink(home: Path, pki: Pki, tmp_path: Path) -> None:
    target = tmp_path / "dotfiles" / "kubeconfig"
    target.parent.mkdir()
    target.write_text(yaml.safe_dump(OTHER))
    (home / ".kube").mkdir()
    (home / ".kube" / "config").symlink_to(target)
    write_kubeconfig(profile="demo", server="https://x:8443", pki=pki)
    assert (home / ".kube" / "config").is_symlink()
    assert set(named(read(target), "contexts")) == {"prod", "demo"}


def test_a_held_lock_is_waited_for_then_reported(
    home: Path, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kubeconfig, "_LOCK_TIMEOUT", 0.2)
    (home / ".kube").mkdir()
    (home / ".kube" / "config.lock").touch()
    with pytest.raises(TimeoutError, match=r"config\.lock"):
        write_kubeconfig(profile="demo", server="https://x:8443", pki=pki)
    assert not (home / ".kube" / "config").exists()


def test_remove_drops_only_the_profile(home: Path, pki: Pki) -> None:
    (home / ".kube").mkdir()
    (home / ".kube" / "config").write_text(yaml.safe_dump(OTHER))
    path = write_kubeconfig(profile="demo", server="https://x:8443", pki=pki)
    assert remove_from_kubeconfig("demo") is True
    config = read(path)
    for section in ("clusters", "users", "contexts"):
        assert config[section] == OTHER[section]
    assert config["current-context"] == ""  # not silently another cluster
    assert remove_from_kubeconfig("demo") is False
    assert remove_from_kubeconfig("demo", home / "missing") is False
    assert not (home / "missing").exists()


# -- the real kubectl and Python client ---------------------------------------------------------


@needs_kubectl
def test_kubectl_reads_the_file_and_its_certificates(home: Path, pki: Pki, tmp_path: Path) -> None:
    path = write_kubeconfig(profile="demo", server="https://127.0.0.1:8443", pki=pki)
    view = json.loads(kubectl(home, "config", "view", "--kubeconfig", str(path), "-o", "json"))
    assert view["current-context"] == "demo"
    assert view["clusters"][0]["cluster"]["certificate-authority"] == str(pki.ca_cert)
    # --flatten makes kubectl open every referenced file and inline it.
    flat = json.loads(
        kubectl(home, "config", "view", "--kubeconfig", str(path), "--flatten", "-o", "json")
    )
    ca_data = flat["clusters"][0]["cluster"]["certificate-authority-data"]
    assert base64.b64decode(ca_data) == pki.ca_cert.read_bytes()
    assert base64.b64decode(flat["users"][0]["user"]["client-key-data"]) == (
        pki.client_key.read_bytes()
    )


@needs_kubectl
def test_kubectl_edits_coexist_with_ours(home: Path, pki: Pki) -> None:
    path = write_kubeconfig(profile="demo", server="https://127.0.0.1:8443", pki=pki)
    kubectl(home, "config", "set-context", "demo", "--namespace=team-a")
    kubectl(home, "config", "set-context", "scratch", "--cluster=demo", "--user=demo")
    write_kubeconfig(profile="demo", server="https://127.0.0.1:9443", pki=pki)
    assert kubectl(home, "config", "get-contexts", "-o", "name").split() == ["demo", "scratch"]
    assert named(read(path), "contexts")["demo"]["context"]["namespace"] == "team-a"


@needs_kubectl
async def test_kubectl_authenticates_with_the_written_kubeconfig(
    home: Path, pki: Pki, tmp_path: Path
) -> None:
    async with whoami_server(pki, Authenticator()) as url:
        path = write_kubeconfig(profile="demo", server=url, pki=pki, path=tmp_path / "kc")
        process = await asyncio.create_subprocess_exec(
            *[KUBECTL, "--kubeconfig", str(path), "get", "--raw", "/api"],
            env={"HOME": str(home), "PATH": os.environ.get("PATH", "")},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert json.loads(stdout) == {
        "user": "minikube-user",
        "groups": ["system:masters", "system:authenticated"],
    }


async def test_the_python_client_authenticates_with_the_written_kubeconfig(
    home: Path, pki: Pki, tmp_path: Path
) -> None:
    kubernetes = pytest.importorskip("kubernetes")
    async with whoami_server(pki, Authenticator()) as url:
        path = write_kubeconfig(profile="demo", server=url, pki=pki, path=tmp_path / "kc")

        def call() -> Any:
            configuration = kubernetes.client.Configuration()
            kubernetes.config.load_kube_config(str(path), client_configuration=configuration)
            with kubernetes.client.ApiClient(configuration) as api:
                response = api.call_api(
                    "/api", "GET", _preload_content=False, _return_http_data_only=True
                )
                return json.loads(response.data)

        body = await asyncio.to_thread(call)
    assert body["user"] == "minikube-user"
