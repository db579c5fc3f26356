"""Fixtures shared by all tests. PostgreSQL logic lives in tests/postgres.py."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import pytest

from tests import postgres
from tests.processes import describe

if TYPE_CHECKING:
    from minikube_py.store import SqlStore


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.PostgresServer | str]:
    """The session's PostgreSQL server, or the reason there is none (started on first use)."""
    with postgres.postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite-file", "sqlite-ephemeral", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL for a new, empty store, once per kind of database."""
    if request.param == "sqlite-file":
        yield f"sqlite:///{tmp_path}/state.db"
    elif request.param == "sqlite-ephemeral":
        yield "sqlite://"
    else:
        server = postgres.require(request.getfixturevalue("postgres_server"))
        with server.fresh_database() as url:
            yield url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[SqlStore]:
    """An open store on ``store_url``; closed after the test, whether it passed or not."""
    from minikube_py.store import open_store

    opened = await open_store(store_url)
    try:
        yield opened
    finally:
        await opened.close()


# -- no process outlives the test session ------------------------------------------------------

_LEFTOVER_GRACE = 5.0  # seconds a just-stopped cluster's processes get to finish exiting


def _cluster_processes(session_dir: str) -> list[psutil.Process]:
    """Processes this session's test clusters started: our own children, and processes whose
    command line or environment names this session's temporary directory (containers carry
    their root there in ``MINIKUBE_PY_ROOT``, ``serve`` children their ``--state-dir`` and
    ``HOME``, runtime supervisors inherit those). Other sessions' processes never match."""
    me = os.getpid()
    found = []
    for process in psutil.process_iter(["pid", "ppid", "cmdline"]):
        try:
            if process.pid == me:
                continue
            if process.info["ppid"] == me:
                found.append(process)
                continue
            command = " ".join(process.info["cmdline"] or ())
            if session_dir in command or any(
                session_dir in value for value in process.environ().values()
            ):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


@pytest.fixture(scope="session", autouse=True)
def no_processes_outlive_the_session(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """The issue's rule, checked with psutil: when every test cluster has stopped, none of the
    processes they started remains (zombies included: a child never waited for is a leak)."""
    session_dir = str(tmp_path_factory.getbasetemp())
    before = {process.pid for process in _cluster_processes(session_dir)}
    yield
    deadline = time.monotonic() + _LEFTOVER_GRACE
    left = [process for process in _cluster_processes(session_dir) if process.pid not in before]
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [process for process in left if process.is_running()]
    if left:
        shown = []
        for process in left:
            with contextlib.suppress(psutil.NoSuchProcess):
                shown.append(describe(process))
        for process in left:  # clean up after the failure, so the next run starts clean
            with contextlib.suppress(psutil.Error):
                process.kill()
        pytest.fail(
            f"{len(left)} process(es) started by test clusters outlived the session:\n"
            + "\n".join(shown)
        )
