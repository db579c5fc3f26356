"""Fixtures shared by all tests. PostgreSQL logic lives in tests/postgres.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests import postgres

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
