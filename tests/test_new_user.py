"""A new user's first minutes: a fresh virtual environment, the README's commands, a pod Running.

The README's quick start is two commands. The first (``python3 -m pip install . &&
python3 -m minikube_py start``) is taken from README.md's first ```sh block and run as written
in a copy of this checkout — only ``python3`` becomes the new virtual environment's
interpreter — with a fresh HOME, so the kubeconfig it writes is the user's own. Then the real
kubectl, pointed at that kubeconfig, runs a pod and waits until it is Running. The cluster that
``start`` left in the background is deleted at the end even when the test fails (``delete``,
then its pid killed if it is still there).

The second command (``python3 -m pip install -e '.[test]' && python3 -m pytest``) is parsed
from the second ```sh block; its install part runs in the same environment, and the suite is
*collected* (``pytest --collect-only``) instead of run: running the whole suite from inside the
suite would run this test again inside itself and take far longer than the few minutes a test
may take on shared cores. Collection imports every test module and plugin, so it fails exactly
when the install left out something the suite needs — which is what this test is about.

pip may download from the package index; where it cannot reach one, the tests skip saying so
(in CI, with ``CI=true``, they fail instead).
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALL_SECONDS = 240.0
KUBECTL_SECONDS = 90.0
# What pip prints when it cannot reach an index (as opposed to a broken package).
OFFLINE = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Network is unreachable|"
    r"Temporary failure in name resolution|No matching distribution found|"
    r"Could not find a version that satisfies"
)
COPY_IGNORED = shutil.ignore_patterns(
    ".git",
    "__pycache__",
    "*.egg-info",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "build",
    "dist",
    ".venv",
)


def readme_commands() -> list[str]:
    """The README's quick-start commands: one per ```sh block, in order."""
    blocks = re.findall(r"^```sh\n(.*?)^```", (ROOT / "README.md").read_text(), re.M | re.S)
    return [block.strip() for block in blocks]


def _offline(message: str) -> None:
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(message + " (CI=true: failing instead of skipping)")
    pytest.skip(message)


class NewUser:
    """A copy of the checkout, a fresh virtual environment and a fresh HOME."""

    def __init__(self, base: Path) -> None:
        self.checkout = base / "checkout"
        self.venv = base / "venv"
        self.home = base / "home"
        self.home.mkdir()
        shutil.copytree(ROOT, self.checkout, ignore=COPY_IGNORED)
        subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True, timeout=120)
        self.python = self.venv / "bin" / "python"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("KUBECTL_", "MINIKUBE_PY_"))
            and key not in ("KUBECONFIG", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
        }
        self.env.update(
            HOME=str(self.home),
            VIRTUAL_ENV=str(self.venv),
            PATH=f"{self.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            NO_PROXY="*",
        )

    def adapt(self, command: str) -> str:
        """The README's command with ``python3`` as this environment's interpreter."""
        return re.sub(r"\bpython3\b", shlex.quote(str(self.python)), command)

    def shell(
        self, command: str, timeout: float = INSTALL_SECONDS, env: dict[str, str] | None = None
    ) -> str:
        """Run ``command`` in bash in the checkout (``env`` added to the user's environment);
        its output, skipping when pip is offline."""
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=self.checkout,
            env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0 and "pip install" in command and OFFLINE.search(done.stdout):
            _offline(f"pip cannot reach a package index:\n{done.stdout[-2000:]}")
        assert done.returncode == 0, f"$ {command}\nexited {done.returncode}:\n{done.stdout}"
        return done.stdout

    @property
    def profile(self) -> Path:
        return self.home / ".minikube_py" / "profiles" / "minikube"

    def cluster_pid(self) -> int | None:
        try:
            found = re.search(r"pid (\d+)", (self.profile / "cluster.lock").read_text())
        except OSError:
            return None
        return int(found.group(1)) if found else None

    def end_cluster(self) -> None:
        """``minikube-py delete``, then the cluster's pid if it is still there."""
        pid = self.cluster_pid()
        with contextlib.suppress(subprocess.TimeoutExpired, OSError):
            subprocess.run(
                [str(self.python), "-m", "minikube_py", "delete"],
                cwd=self.home,
                env=self.env,
                capture_output=True,
                timeout=60,
                check=False,
            )
        if pid is not None:
            with contextlib.suppress(OSError):
                if b"minikube_py" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def new_user(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NewUser]:
    user = NewUser(tmp_path_factory.mktemp("new-user"))
    try:
        yield user
    finally:
        user.end_cluster()


def _kubectl(user: NewUser, *args: str) -> str:
    binary = shutil.which("kubectl")
    assert binary is not None
    env = dict(user.env, KUBECONFIG=str(user.home / ".kube" / "config"))
    done = subprocess.run(
        [binary, "--cache-dir", str(user.home / "kubectl-cache"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=KUBECTL_SECONDS,
        check=False,
    )
    assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


def _package_files(root: Path) -> set[str]:
    return {
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.mark.slow
def test_readme_first_command_starts_a_cluster_that_runs_a_pod(new_user: NewUser) -> None:
    if shutil.which("kubectl") is None:
        message = "kubectl is not on PATH: the new-user test runs a pod with the real kubectl"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(message + " (CI=true: failing instead of skipping)")
        pytest.skip(message)
    command = readme_commands()[0]
    assert command == "python3 -m pip install . && python3 -m minikube_py start"
    try:
        output = new_user.shell(new_user.adapt(command))
        assert '* Done! kubectl is now configured to use "minikube" cluster' in output, output

        # The install is complete: the installed package (run away from the checkout) has
        # every file of the checkout's, and its `minikube-py` command sees the cluster.
        found = subprocess.run(
            [str(new_user.python), "-c", "import minikube_py; print(minikube_py.__file__)"],
            cwd=new_user.home,
            env=new_user.env,
            capture_output=True,
            text=True,
            check=True,
        )
        installed = Path(found.stdout.strip()).parent
        assert new_user.venv in installed.parents, installed
        missing = _package_files(new_user.checkout / "minikube_py") - _package_files(installed)
        assert not missing, f"not installed by `pip install .`: {sorted(missing)}"
        status = subprocess.run(
            [str(new_user.venv / "bin" / "minikube-py"), "status"],
            cwd=new_user.home,
            env=new_user.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert status.returncode == 0 and "apiserver: Running" in status.stdout, status

        _kubectl(new_user, "run", "hello", "--image=gcr.io/google-samples/hello-app:1.0")
        _kubectl(new_user, "wait", "--for=condition=Ready", "pod/hello", "--timeout=60s")
        phase = _kubectl(new_user, "get", "pod", "hello", "-o", "jsonpath={.status.phase}")
        assert phase == "Running"
    finally:
        new_user.end_cluster()
    assert new_user.cluster_pid() is None and not new_user.profile.exists()


@pytest.mark.slow
def test_readme_second_command_installs_what_the_suite_needs(new_user: NewUser) -> None:
    command = readme_commands()[1]
    install, separator, run = command.partition(" && ")
    assert separator and run == "python3 -m pytest", command
    assert install == "python3 -m pip install -e '.[test]'"
    # pip compiles every installed module to bytecode by default; only a few of the test
    # tools' modules are imported by the collection below, so that is skipped here (the
    # environment variable of pip's --compile option; the command stays the README's).
    new_user.shell(new_user.adapt(install), env={"PIP_COMPILE": "0"})
    # Collection imports every test module and plugin, which is the point; rewriting their
    # asserts (pytest's default) only matters for tests that run, and costs most of a
    # collection's time (every run when bytecode is not written), so it is switched off.
    collected = new_user.shell(
        new_user.adapt("python3 -m pytest --collect-only -q --assert=plain -p no:cacheprovider")
    )
    assert re.search(r"^\d+ tests collected", collected, re.M), collected[-3000:]
    assert "error" not in collected.splitlines()[-1].lower(), collected[-3000:]
