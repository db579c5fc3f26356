"""The pause image's program: runs until SIGTERM, then exits 0 and leaves no process behind."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from minikube_py.runtime.images.builtin import pause


def catches_sigterm(pid: int) -> bool:
    """Whether the process has installed its SIGTERM handler (Linux: SigCgt in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    return False


def test_pause_exits_zero_on_sigterm() -> None:
    process = subprocess.Popen([sys.executable, pause.__file__])
    try:
        # Wait for the handler, not a fixed time: a SIGTERM before it would kill the process.
        deadline = time.monotonic() + 10
        while not catches_sigterm(process.pid):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
