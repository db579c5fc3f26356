"""Opening databases the store cannot use: newer schemas, garbage files, unknown URLs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from minikube_py.store import SchemaError, open_store
from minikube_py.store.schema import SCHEMA_VERSION


async def test_a_database_from_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = await open_store(f"sqlite:///{path}")
    await store.create("/registry/a", b"v")
    await store.close()
    with sqlite3.connect(path) as connection:
        connection.execute(
            "UPDATE meta SET value = ? WHERE name = 'schema_version'", (str(SCHEMA_VERSION + 1),)
        )
    with pytest.raises(SchemaError, match="newer than this minikube_py"):
        await open_store(f"sqlite:///{path}")
    with sqlite3.connect(path) as connection:  # and the refusal changed nothing
        assert connection.execute("SELECT count(*) FROM kv").fetchone() == (1,)


async def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not an SQLite database, just some bytes" * 100)
    with pytest.raises(SchemaError, match=r"cannot open the store at .*: file is not a database"):
        await open_store(f"sqlite:///{path}")
    assert path.read_bytes().startswith(b"this is not")


async def test_an_unknown_url_is_refused() -> None:
    with pytest.raises(SchemaError, match="unsupported store URL"):
        await open_store("mysql://localhost/db")
