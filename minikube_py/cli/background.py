"""Running the cluster in the background, as ``minikube start`` / ``minikube stop`` do.

``start`` launches ``python -m minikube_py serve`` as a detached process of its own session,
its output going to ``serve.log`` in the profile directory, and waits until the process says
it is serving and then that its nodes are Ready (``serve`` checks that itself, in-process, and
prints ``ready:``), so this command never loads an API client. The running cluster holds its
state directory's lock file, which names its pid; ``stop`` sends that pid SIGTERM (the same
clean shutdown as Ctrl-C) and waits for it to end.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from minikube_py.cluster import ClusterError

_START_SECONDS = 30.0
_STOP_SECONDS = 15.0
_POLL_SECONDS = 0.02  # the log is a few lines; reading it is cheaper than waiting longer
_SERVING = re.compile(r"serving (https://\S+) \(kubeconfig: (.*)\)")
_READY = re.compile(r"minikube-py: ready: .* \(addons: (.*)\)")  # after the "serving" line


def running_pid(directory: Path) -> int | None:
    """The pid of the cluster serving ``directory``, if one is alive."""
    try:
        text = (directory / "cluster.lock").read_text()
    except OSError:
        return None
    match = re.search(r"pid (\d+)", text)
    if match is None:
        return None
    pid = int(match.group(1))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, someone else's
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists() and b"minikube_py" not in cmdline.read_bytes():
        return None  # the pid was reused by another program
    return pid


def start_background(
    directory: Path, serve_args: list[str], ready_seconds: float
) -> tuple[str, set[str]]:
    """Launch ``serve`` detached; returns (url, the enabled addons) once it serves and every
    node is Ready, as ``minikube start`` returns with its nodes Ready."""
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "serve.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "minikube_py", "serve", *serve_args],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # it outlives this command, as minikube's cluster does
        )
    started = time.monotonic()
    serving = None
    while True:
        text = log.read_text(errors="replace")
        serving = serving or _SERVING.search(text)
        ready = _READY.search(text) if serving else None
        if serving and ready:
            return serving.group(1), {n for n in ready.group(1).split(", ") if n}
        if process.poll() is not None:
            tail = text.strip().splitlines()[-1:] or ["no output"]
            raise ClusterError(f"the cluster did not start: {tail[0]} (see {log})")
        waited = time.monotonic() - started
        if serving is None and waited > _START_SECONDS:
            process.terminate()
            process.wait()
            raise ClusterError(
                f"the cluster did not start within {_START_SECONDS:.0f} s (see {log})"
            )
        if waited > _START_SECONDS + ready_seconds:  # serving: leave it, as minikube does
            raise ClusterError(
                f"the nodes were not Ready within {ready_seconds:.0f} s; see "
                f"{directory / 'cluster.log'}"
            )
        time.sleep(_POLL_SECONDS)


def _ended(pid: int) -> bool:
    """Whether process ``pid`` has ended. When it is our own child (``start`` and ``stop`` in
    one process, as in a test) it is reaped here, so no zombie is left behind."""
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped:
            return True
    except ChildProcessError:
        pass  # not our child: its parent (usually init) reaps it
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2 :].startswith(b"Z")  # ended, not yet reaped by its parent


def stop_background(directory: Path) -> bool:
    """Stop the cluster serving ``directory`` and wait for its process to end; False if none
    was running."""
    pid = running_pid(directory)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_SECONDS
    while not _ended(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + _STOP_SECONDS
        time.sleep(0.05)
    return True
