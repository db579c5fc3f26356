"""Process hygiene: nothing a container started survives the runtime, even its SIGKILL."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import psutil

from minikube_py.runtime.reaper import Reaper

from .process_helpers import no_leftovers

__all__ = ["no_leftovers"]

HOST = Path(__file__).with_name("runtime_host.py")
ROOT = Path(__file__).resolve().parents[2]
# A stand-in for an init that reaps orphans (systemd, tini, docker-init): it runs the host
# as a subreaper and reaps until nothing is left. This machine's PID 1 does not reap, so
# without it the killed processes would remain as zombies and psutil would still see them.
REAPING_INIT = (
    "import ctypes, os, subprocess, sys\n"
    "ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)\n"
    "subprocess.Popen(sys.argv[1:])\n"
    "while True:\n"
    "    try:\n"
    "        os.wait()\n"
    "    except ChildProcessError:\n"
    "        break\n"
)


def wait_gone(pids: Iterable[int], within: float) -> list[int]:
    """The pids still present (zombies included) after waiting up to ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        left = [pid for pid in pids if psutil.pid_exists(pid)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.02)


def dead(pid: int) -> bool:
    """Gone, or a zombie: it runs no more (whoever reaps it)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def kill_by_pid(pids: Iterable[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_sigkill_of_the_runtime_leaves_no_container_process(
    no_leftovers: None, tmp_path: Path
) -> None:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    init = subprocess.Popen(
        [sys.executable, "-c", REAPING_INIT, sys.executable, str(HOST), str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
    )
    pids: list[int] = []
    try:
        assert init.stdout is not None
        line = init.stdout.readline()  # the host prints once its containers run
        started = json.loads(line)
        pids = [started["host"], started["supervisor"], *started["containers"]]
        assert all(psutil.pid_exists(pid) for pid in pids)
        grandchild = psutil.Process(started["containers"][2])
        assert grandchild.ppid() == started["containers"][0]  # a real grandchild of the host
        os.kill(started["host"], signal.SIGKILL)
        assert wait_gone(pids, within=3) == []
        assert init.wait(timeout=5) == 0  # nothing was left for it to reap
    finally:
        kill_by_pid(pid for pid in pids if psutil.pid_exists(pid))
        if init.poll() is None:
            init.kill()
        init.wait()
        if init.stdout is not None:
            init.stdout.close()


def test_the_supervisor_kills_registered_sessions_when_its_pipe_closes(
    no_leftovers: None,
) -> None:
    leader = subprocess.Popen(
        ["sh", "-c", "trap '' TERM; sleep 60 & echo $!; wait"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert leader.stdout is not None
        background = int(leader.stdout.readline())
        reaper = Reaper()
        reaper.register(leader.pid)
        reaper.register(999_999_999)  # an unknown session is ignored
        supervisor = reaper.pid
        reaper.close()
        assert leader.wait(timeout=5) == -signal.SIGKILL
        assert supervisor is not None and not psutil.pid_exists(supervisor)
        # The background sleep was the shell's child; the shell's death left it to PID 1,
        # which may never reap it: dead is all that can be asked here.
        deadline = time.monotonic() + 3
        while not dead(background):
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        if leader.poll() is None:
            leader.kill()
        leader.wait()
        if leader.stdout is not None:
            leader.stdout.close()


def test_an_unregistered_session_is_left_alone(no_leftovers: None) -> None:
    leader = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        reaper = Reaper()
        reaper.register(leader.pid)
        reaper.unregister(leader.pid)
        reaper.close()
        assert leader.poll() is None
    finally:
        leader.kill()
        leader.wait()


def test_a_killed_supervisor_is_replaced_and_told_everything(no_leftovers: None) -> None:
    leader = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        reaper = Reaper()
        reaper.register(leader.pid)
        first = reaper.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 3
        while True:  # the next message finds the pipe broken once the supervisor is dead
            reaper.register(999_999_998)
            if reaper.pid != first:
                break
            assert time.monotonic() < deadline
            time.sleep(0.01)
        reaper.close()  # the new supervisor knew about the sleep: it kills it
        assert leader.wait(timeout=5) == -signal.SIGKILL
    finally:
        if leader.poll() is None:
            leader.kill()
        leader.wait()
