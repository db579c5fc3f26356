"""The built-in kubectl's command line without a cluster: kubectl's error lines and exit codes."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import yaml

from minikube_py.kubectl import main


def _run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _kubeconfig(tmp_path: Path, server: str) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "here",
        "contexts": [{"name": "here", "context": {"cluster": "here", "user": "me"}}],
        "clusters": [{"name": "here", "cluster": {"server": server}}],
        "users": [{"name": "me", "user": {"token": "t"}}],
    }
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(config))
    return path


def test_a_server_nobody_listens_on_is_kubectls_refused_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago, now closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    kubeconfig = _kubeconfig(tmp_path, f"http://127.0.0.1:{port}")
    code, out, err = _run("--kubeconfig", str(kubeconfig), "get", "pods")
    assert (code, out) == (1, "")
    assert err == (
        f"The connection to the server 127.0.0.1:{port} was refused - did you specify the "
        "right host or port?\n"
    )


def test_current_context_and_usage_errors(tmp_path: Path) -> None:
    kubeconfig = _kubeconfig(tmp_path, "http://127.0.0.1:1")
    assert _run("--kubeconfig", str(kubeconfig), "config", "current-context") == (0, "here\n", "")
    code, out, err = _run("--kubeconfig", str(kubeconfig), "frobnicate")
    assert (code, out) == (1, "")
    assert err.startswith("error: ") and "frobnicate" in err and len(err.splitlines()) == 1
