"""The pause image's program: runs until SIGTERM or SIGINT to its process group (as the runtime
stops a container), then exits 0 and leaves no process behind."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from minikube_py.runtime.images.builtin.catalog import CATALOG


def catches(pid: int, signum: int) -> bool:
    """Whether the process has installed a handler for ``signum`` (Linux: SigCgt in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signum - 1)))
    return False


def session_members(sid: int) -> list[int]:
    members = []
    for process in psutil.process_iter(["pid"]):
        try:
            if os.getsid(process.pid) == sid and process.status() != psutil.STATUS_ZOMBIE:
                members.append(process.pid)
        except (OSError, psutil.Error):
            continue
    return members


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_pause_exits_zero_when_its_group_is_signalled(tmp_path: Path, signum: int) -> None:
    program = tmp_path / "pause"
    program.write_bytes(CATALOG["pause"].files()["pause"])
    program.chmod(0o755)
    process = subprocess.Popen([str(program)], start_new_session=True)
    try:
        # Wait for the trap, not a fixed time: a signal before it would kill the shell.
        deadline = time.monotonic() + 10
        while not (catches(process.pid, signum) and len(session_members(process.pid)) == 2):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        os.killpg(process.pid, signum)
        assert process.wait(timeout=10) == 0
        while session_members(process.pid):  # the sleeping child went with it
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        with contextlib.suppress(ProcessLookupError):  # whatever of the group is still there
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
