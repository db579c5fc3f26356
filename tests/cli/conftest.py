"""Fixtures for the command line: a private home, and profiles that are always stopped.

Every test gets its own ``MINIKUBE_PY_HOME``, ``HOME`` and ``KUBECONFIG`` under a temporary
directory, so it never touches the user's profiles or kubeconfig. Address slots stay
machine-wide (``minikube_py.slots``), so profiles started here take addresses disjoint from
clusters other tests run at the same time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from minikube_py.cli import main
from minikube_py.cli.background import stop_background


class Home:
    """A private minikube-py home and the profiles started in it (stopped at the end)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.kubeconfig = root / "kube" / "config"
        self.started: list[str] = []

    def run(self, *args: str) -> Result:
        """``minikube-py ARGS`` in this process; ``start -p X`` is remembered for cleanup."""
        if args and args[0] == "start":
            profile = args[args.index("-p") + 1] if "-p" in args else "minikube"
            self.started.append(profile)
        return CliRunner().invoke(main, list(args))

    def directory(self, profile: str) -> Path:
        return self.home / "profiles" / profile

    def stop_all(self) -> None:
        for profile in self.started:
            with contextlib.suppress(Exception):
                stop_background(self.directory(profile))


@contextlib.contextmanager
def private_home(root: Path) -> Iterator[Home]:
    with pytest.MonkeyPatch.context() as patch:
        home = Home(root)
        patch.setenv("MINIKUBE_PY_HOME", str(home.home))
        patch.setenv("HOME", str(root))
        patch.setenv("KUBECONFIG", str(home.kubeconfig))
        try:
            yield home
        finally:
            home.stop_all()  # whatever happened, leave no cluster behind


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    with private_home(tmp_path) as made:
        yield made
