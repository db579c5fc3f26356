"""The reaper: a small supervisor process that kills a runtime's containers if the runtime dies.

A parent-death signal reaches only a process's direct children; a container's grandchildren
(a shell's background job, a server's workers) would outlive a cluster process that was
SIGKILLed. So each ``ProcessRuntime`` starts, on its first container, one supervisor: this
file run as a script by the same interpreter (``python -I reaper.py``: standard library only,
no package import, so it starts in a few tens of milliseconds). The runtime keeps the write end
of a pipe to the supervisor's stdin and sends one line per change::

    +4242     session 4242 (a container or exec leader's pid) belongs to us
    -4242     session 4242 is over and empty; forget it (its number may be reused)

When the pipe reaches end of file, the runtime is gone — closed politely, crashed or killed —
and the supervisor SIGKILLs every session still registered, then exits. The pipe is created
close-on-exec, so no container inherits the write end and keeps the supervisor waiting. The
supervisor runs in its own session, so a Ctrl-C at the cluster's terminal does not kill it
before it has done its work; it ignores SIGINT and SIGHUP for the same reason.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time


class Reaper:
    """The runtime's side of the supervisor: started lazily, told about sessions."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._sessions: set[int] = set()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def _start(self) -> subprocess.Popen[bytes]:
        # The supervisor must outlive us, so no parent-death signal and a session of its own;
        # a blocking spawn here costs once per runtime (it is not waited for).
        process = subprocess.Popen(
            [sys.executable, "-I", __file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._process = process
        return process

    def _send(self, line: str) -> None:
        process = self._process or self._start()
        assert process.stdin is not None
        try:
            # One short line per write: pipe writes under PIPE_BUF are atomic and the
            # supervisor reads continuously, so this never blocks for long.
            process.stdin.write(line.encode() + b"\n")
            process.stdin.flush()
        except BrokenPipeError:
            # Someone killed the supervisor: start another and tell it everything again.
            process.wait()
            process = self._start()
            assert process.stdin is not None
            process.stdin.write("".join(f"+{sid}\n" for sid in self._sessions).encode())
            process.stdin.flush()

    def register(self, sid: int) -> None:
        self._sessions.add(sid)
        self._send(f"+{sid}")

    def unregister(self, sid: int) -> None:
        self._sessions.discard(sid)
        if self._process is not None:
            self._send(f"-{sid}")

    def close(self, timeout: float = 5.0) -> None:
        """End the supervisor (it kills whatever is still registered) and wait for it."""
        process, self._process = self._process, None
        self._sessions.clear()
        if process is None:
            return
        assert process.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            process.stdin.close()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---- the supervisor (runs in its own process; standard library only) ----


def _members(sessions: set[int]) -> list[int]:
    """The live (not zombie) processes of ``sessions``."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) not in sessions:
                    continue
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    text = stat.read()
            except OSError:
                continue
            if text[text.rfind(b")") + 2 :].split()[0] != b"Z":
                pids.append(int(entry))
    return pids


def kill_all(sessions: set[int]) -> None:
    """SIGKILL every process of ``sessions``; a few rounds, as a member may fork meanwhile."""
    for _ in range(5):
        for sid in sessions:
            with contextlib.suppress(OSError):
                os.killpg(sid, signal.SIGKILL)
        members = _members(sessions)
        if not members:
            return
        for pid in members:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    sessions: set[int] = set()
    for line in sys.stdin.buffer:
        text = line.strip().decode()
        if text[:1] == "+":
            sessions.add(int(text[1:]))
        elif text[:1] == "-":
            sessions.discard(int(text[1:]))
    kill_all(sessions)


if __name__ == "__main__":
    main()
