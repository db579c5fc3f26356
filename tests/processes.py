"""Describing a process for a test's failure message, zombies included (their command line is
gone, so they are shown by name)."""

from __future__ import annotations

import psutil


def describe(process: psutil.Process) -> str:
    """``pid (parent P) status: command`` — raises NoSuchProcess if it is gone."""
    try:
        command = " ".join(process.cmdline())
    except psutil.ZombieProcess:
        command = f"<zombie> {process.name()}"
    return f"{process.pid} (parent {process.ppid()}) {process.status()}: {command}"
