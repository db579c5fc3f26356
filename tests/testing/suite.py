"""Running a user's test suite the way the user would: ``python -m pytest`` in a subprocess,
with the plugin loaded as the installed package loads it (its ``pytest11`` entry point), or
named with ``-p`` where this checkout is not installed with it."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLUGIN = "minikube_py.testing.pytest_plugin"


def run_pytest(
    directory: Path, *, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    installed = any(ep.value == PLUGIN for ep in entry_points(group="pytest11"))
    plugin = [] if installed else ["-p", PLUGIN]
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *plugin,
            "--rootdir",
            str(directory),
            str(directory),
        ],
        cwd=directory,
        env={**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{directory}", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
