"""One real cluster for the whole e2e session, and the clients that talk to it.

The cluster is a ``python -m minikube_py serve`` child process on 127.0.0.1 with a free port
and the ephemeral store, exactly what a user starts by hand; its "serving" line tells us the
URL (printed as soon as the API server answers), and its "nodes registered" line that the
nodes exist, which is what the tests expect of a started cluster. It is always stopped
(SIGTERM to the pid we started, then SIGKILL if it lingers), whether the tests passed or not.
After every test the fixtures check that the server is still alive and logged no internal
error (an error log line means some request got a 5xx).

``kubectl`` runs with a fresh HOME, its own ``--cache-dir`` (discovery is cached for hours)
and ``KUBECONFIG`` pointing at the standalone kubeconfig the server wrote. Where no kubectl is
installed its tests are skipped, except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from minikube_py.config import NetworkPlan
from minikube_py.slots import plan_for_slot

SERVING = re.compile(r"minikube-py: serving (https://(\S+):(\d+)) \(kubeconfig: (.+)\)")
NODES_REGISTERED = "minikube-py: nodes registered:"
START_SECONDS = 30.0
STOP_SECONDS = 10.0
KUBECTL_SECONDS = 30.0
ROOT = Path(__file__).resolve().parents[2]
SESSION_FLAGS = ("--crash-backoff", "1")


@dataclass
class Server:
    """A running ``serve`` process and what it told us."""

    process: subprocess.Popen[bytes]
    state_dir: Path
    output: Path  # the child's stdout and stderr
    url: str = ""
    host: str = ""
    port: int = 0
    kubeconfig: Path = field(default_factory=Path)
    exit_code: int | None = None
    killed: bool = False
    checked: int | None = None  # log bytes already checked for errors (server_stays_healthy)

    @property
    def log(self) -> Path:
        return self.state_dir / "cluster.log"

    @property
    def client_cert(self) -> Path:
        return self.state_dir / "client.crt"

    @property
    def client_key(self) -> Path:
        return self.state_dir / "client.key"

    @property
    def ca_cert(self) -> Path:
        return self.state_dir / "ca.crt"

    def alive(self) -> bool:
        return self.process.poll() is None

    def output_text(self) -> str:
        try:
            return self.output.read_text(errors="replace")
        except OSError:
            return ""

    def error_lines(self, since: int = 0) -> tuple[list[str], int]:
        """Log lines at level error or worse written after byte ``since``; and the new end
        (after the last whole line: one being written is read whole next time)."""
        try:
            with self.log.open("rb") as log:
                log.seek(since)
                data = log.read()
        except OSError:
            return [], since
        data = data[: data.rfind(b"\n") + 1]
        found = []
        for line in data.decode(errors="replace").splitlines():
            try:
                level = json.loads(line).get("level", "")
            except ValueError:
                continue
            if level in ("error", "critical", "exception"):
                found.append(line)
        return found, since + len(data)

    def stop(self) -> None:
        """SIGTERM to our child, wait; SIGKILL if it does not go. Safe to call twice."""
        if self.exit_code is not None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.killed = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(STOP_SECONDS)
        self.exit_code = self.process.returncode


def start_server(
    state_dir: Path, *, store: str | None = "sqlite://", extra: Sequence[str] = ()
) -> Server:
    """Start ``serve`` on a free port of 127.0.0.1 and wait until its nodes are registered.

    ``store=None`` keeps the default (a SQLite file in the state directory), which survives a
    restart; the default here is the ephemeral store.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    output = state_dir / f"serve-{time.time_ns()}.out"  # one per start: restarts reuse dirs
    command = [
        sys.executable,
        "-m",
        "minikube_py",
        "serve",
        "--state-dir",
        str(state_dir),
        "--port",
        "0",
        "--address",
        "127.0.0.1",
        "--kubeconfig",
        str(state_dir / "kubeconfig"),
    ]
    if store is not None:
        command += ["--store", store]
    command += extra
    home = state_dir / "home"
    home.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "HOME": str(home),
        "MINIKUBE_PY_HOME": str(home / ".minikube_py"),
        "PYTHONUNBUFFERED": "1",
        "NO_PROXY": "*",
    }
    env.pop("KUBECONFIG", None)
    with output.open("ab") as sink:
        process = subprocess.Popen(
            command,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=ROOT,
            start_new_session=True,  # a Ctrl-C of pytest is ours to forward, by pid
        )
    server = Server(process=process, state_dir=state_dir, output=output)
    atexit.register(server.stop)  # a backstop; the fixtures stop it first
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        text = server.output_text()
        match = SERVING.search(text)
        if match and NODES_REGISTERED in text:
            server.url, server.host, port, kubeconfig = match.groups()
            server.port, server.kubeconfig = int(port), Path(kubeconfig.strip())
            return server
        if process.poll() is not None:
            break
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(
        f"`serve` did not report its URL (exit code {process.returncode}); its output:\n"
        + server.output_text()[-4000:]
    )


@contextlib.contextmanager
def serving(
    state_dir: Path, *, store: str | None = "sqlite://", extra: Sequence[str] = ()
) -> Iterator[Server]:
    server = start_server(state_dir, store=store, extra=extra)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The session's cluster: started once, always stopped. Its restart back-off starts at
    one second instead of ten, so crash-loop tests see several restarts quickly."""
    with serving(tmp_path_factory.mktemp("cluster"), extra=SESSION_FLAGS) as server:
        yield server
        # what landed after the last test's check (server_stays_healthy), before stopping
        time.sleep(0.05)
        errors = server.error_lines(since=server.checked)[0] if server.checked is not None else []
        if errors:
            shown = "\n".join(line[:3000] for line in errors[:5])
            pytest.fail(f"the server logged {len(errors)} internal error(s) at the end:\n{shown}")
    if server.killed or server.exit_code != 0:
        pytest.fail(
            f"serve did not stop cleanly on SIGTERM (exit code {server.exit_code}, "
            f"killed={server.killed}); output:\n{server.output_text()[-2000:]}"
        )


@pytest.fixture(autouse=True)
def server_stays_healthy(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test using the cluster: it still runs and logged no internal error.

    Each check starts where the one before ended, not at the log's size when the test starts,
    so a line that lands after a test's check (its last request's, written a moment after the
    answer) is seen by the next check — none falls between two tests, and the cluster fixture
    checks the rest at the end — instead of every test waiting for such a line to land."""
    if "cluster" not in request.fixturenames:
        yield
        return
    server: Server = request.getfixturevalue("cluster")
    start = server.checked if server.checked is not None else _log_size(server.log)
    yield
    errors, server.checked = server.error_lines(since=start)
    if not server.alive():
        pytest.fail(
            f"the server died (exit code {server.process.returncode}); output:\n"
            + server.output_text()[-4000:]
        )
    if errors:
        shown = "\n".join(line[:3000] for line in errors[:5])
        pytest.fail(f"the server logged {len(errors)} internal error(s):\n{shown}")


def _log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


@pytest.fixture
def unique(request: pytest.FixtureRequest) -> Any:
    """``unique("cm")`` → ``cm-<8 hex>``: names no other test (or rerun) uses."""

    def make(prefix: str = "e2e") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:8]}"

    return make


# ---------------------------------------------------------------------------------- kubectl


@dataclass
class Kubectl:
    """Runs the real kubectl against the session's cluster."""

    binary: str
    env: dict[str, str]
    cache_dir: Path
    workdir: Path

    def command(self, *args: str) -> list[str]:
        return [self.binary, f"--cache-dir={self.cache_dir}", "--request-timeout=20s", *args]

    def run(
        self, *args: str, check: bool = True, stdin: str | None = None, timeout: float = 0
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.command(*args),
            env=self.env,
            cwd=self.workdir,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout or KUBECTL_SECONDS,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({done.returncode}):\n"
                f"stdout: {done.stdout}\nstderr: {done.stderr}"
            )
        return done

    def out(self, *args: str, stdin: str | None = None) -> str:
        return self.run(*args, stdin=stdin).stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.out(*args, "-o", "json"))

    def fails(self, *args: str, stdin: str | None = None) -> str:
        """Run a command that must fail; its stderr."""
        done = self.run(*args, check=False, stdin=stdin)
        assert done.returncode != 0, f"kubectl {' '.join(args)} succeeded:\n{done.stdout}"
        return done.stderr

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args),
            env=self.env,
            cwd=self.workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )

    def write(self, name: str, text: str) -> Path:
        path = self.workdir / name
        path.write_text(text)
        return path


def network_plan(kubectl: Kubectl) -> NetworkPlan:
    """The address plan a cluster runs on: the address slot its first node's address names
    (``127.49.<slot>.2``; every cluster on the machine takes a slot of its own)."""
    node = kubectl.json("get", "node", "minikube")
    address = node["status"]["addresses"][0]["address"]
    return plan_for_slot(int(address.split(".")[2]))


@pytest.fixture(scope="session")
def kubectl(cluster: Server, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return make_kubectl(cluster.kubeconfig, tmp_path_factory.mktemp("kubectl"))


def make_kubectl(kubeconfig: Path, base: Path) -> Kubectl:
    """A ``Kubectl`` for the cluster of ``kubeconfig``, its HOME and cache under ``base``;
    skips the test where kubectl is not installed (fails in CI)."""
    binary = shutil.which("kubectl")
    if binary is None:
        message = "kubectl is not on PATH: the kubectl end-to-end tests need the real kubectl"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(message + " (CI=true: failing instead of skipping)")
        pytest.skip(message)
    home, cache, work = base / "home", base / "cache", base / "work"
    for directory in (home, cache, work):
        directory.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("KUBECTL_") and key != "KUBECONFIG"
    }
    env.update(HOME=str(home), KUBECONFIG=str(kubeconfig), NO_PROXY="*")
    return Kubectl(binary=binary, env=env, cache_dir=cache, workdir=work)


# --------------------------------------------------------------------- the kubernetes client


@pytest.fixture(scope="session")
def api_client(cluster: Server) -> Iterator[Any]:
    """An official ``kubernetes`` ``ApiClient`` configured from the standalone kubeconfig."""
    from kubernetes import config

    client = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    try:
        yield client
    finally:
        client.close()
