"""``start`` with an explicit address and port, as a test or a script may pin them; the rest of
the command line is tested in ``tests/cli/``."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from minikube_py.cli import main
from minikube_py.cli.background import running_pid, stop_background


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MINIKUBE_PY_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_start_runs_the_cluster_in_the_background_and_stop_ends_it(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kubeconfig = tmp_path / "kube" / "config"
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    directory = home / "profiles" / "demo"
    try:
        result = CliRunner().invoke(
            main, ["start", "-p", "demo", "--address", "127.0.0.1", "--port", "0"]
        )
        assert result.exit_code == 0, result.output
        assert 'Done! kubectl is now configured to use "demo" cluster' in result.output
        pid = running_pid(directory)
        assert pid is not None
        assert "current-context: demo" in kubeconfig.read_text()
        assert stat.S_IMODE((directory / "client.key").stat().st_mode) == 0o600
        again = CliRunner().invoke(main, ["start", "-p", "demo"])
        assert again.exit_code == 0 and "already running" in again.output
        stopped = CliRunner().invoke(main, ["stop", "-p", "demo"])
        assert stopped.exit_code == 0 and "1 node stopped." in stopped.output
        assert running_pid(directory) is None
        assert not Path(f"/proc/{pid}").exists()  # ended and reaped: not even a zombie
        idle = CliRunner().invoke(main, ["stop", "-p", "demo"])
        assert "not running" in idle.output
    finally:
        stop_background(directory)  # whatever happened above, leave no cluster behind
