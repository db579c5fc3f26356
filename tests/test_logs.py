"""Logging: every line names its component, for people on the console and machines in JSON."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from minikube_py.logs import configure_logging, get_logger


@pytest.fixture(autouse=True)
def _restore_logging() -> object:
    yield
    root = logging.getLogger("minikube_py")
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.propagate = True


def test_json_lines_carry_component_and_object_key(tmp_path: Path) -> None:
    path = tmp_path / "cluster.log"
    configure_logging(json_file=path, console=False)
    get_logger("scheduler").info("Scheduled", key="default/web", node="minikube")
    get_logger("store").debug("not at INFO level")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 1
    assert lines[0]["component"] == "scheduler"
    assert lines[0]["key"] == "default/web"
    assert lines[0]["event"] == "Scheduled"
    assert lines[0]["level"] == "info"
    assert "timestamp" in lines[0]


def test_console_lines_are_readable(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="DEBUG", console=True)
    get_logger("kubelet").warning("BackOff", key="default/web")
    err = capsys.readouterr().err
    assert "BackOff" in err and "component=kubelet" in err and "{" not in err
