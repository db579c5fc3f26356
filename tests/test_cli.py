"""The command line as it stands: version, and start preparing a profile's store."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from minikube_py import __version__
from minikube_py.cli import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MINIKUBE_PY_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_version() -> None:
    result = CliRunner().invoke(main, ["version"])
    assert result.exit_code == 0
    assert result.output == f"minikube-py version: v{__version__}\n"


def test_start_prepares_the_profile_store_and_says_what_is_missing(home: Path) -> None:
    result = CliRunner().invoke(main, ["start", "-p", "demo"])
    assert result.exit_code == 0, result.output
    profile = home / "profiles" / "demo"
    assert "Store ready" in result.output and "minikube_py serve" in result.output
    assert (profile / "state.db").is_file()
    assert stat.S_IMODE((profile / "encryption.key").stat().st_mode) == 0o600
    again = CliRunner().invoke(main, ["start", "-p", "demo"])
    assert again.exit_code == 0 and "(revision 0)" in again.output


def test_errors_are_one_line_without_a_traceback(home: Path) -> None:
    home.parent.mkdir(parents=True, exist_ok=True)
    home.write_text("a file where the state directory should be")
    result = CliRunner().invoke(main, ["start"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
