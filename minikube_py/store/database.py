"""Opening the database behind the store: URLs, SQLite settings, schema creation and checks.

Three kinds of URL reach the same SQLAlchemy code:

- ``sqlite:////path/state.db``: the embedded default, one file in the cluster's state
  directory.
- ``sqlite://``: ephemeral, for tests; a temporary file (in ``/dev/shm`` where there is one)
  removed on close, written without fsync.
- ``postgresql+psycopg://user@host/db``: for users who outgrow one machine.

SQLite settings, and why:

- ``journal_mode=WAL``: readers never block the writer nor the writer readers, and a commit
  appends to one file instead of rewriting pages twice.
- ``synchronous=FULL``: WAL is fsynced at every commit, so an acknowledged write survives a
  SIGKILL *and* a power cut (``NORMAL`` would only survive the former). Its cost is paid once
  per group commit, not once per write (see ``writing.py``).
- ``busy_timeout=30000``: a second process holding the write lock makes us wait, not fail with
  "database is locked".
- ``BEGIN IMMEDIATE`` for writes: takes the write lock up front; a deferred transaction that
  upgrades from read to write can fail with SQLITE_BUSY even under a busy timeout.
- ``wal_autocheckpoint=256`` and ``journal_size_limit`` of 1 MiB: the WAL is copied back into
  the database every 1 MiB and then truncated, so the footprint on disk is live data plus
  retained history plus at most about 1 MiB (the default 4 MiB WAL alone was 40% of a small
  cluster's database).
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import attrs
from sqlalchemy import Connection, Engine, create_engine, event, exc, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import ConnectionPoolEntry

from minikube_py.store import schema
from minikube_py.store.errors import SchemaError

_WAL_LIMIT_BYTES = 1024 * 1024
_WAL_CHECKPOINT_PAGES = 256  # 1 MiB of 4 KiB pages
_BUSY_TIMEOUT_MS = 30_000


@attrs.define
class Database:
    """An engine plus what the store needs to know about the database behind it."""

    engine: Engine
    dialect: str  # "sqlite" or "postgresql"
    description: str  # for log lines: a path, or a URL without its password
    token_secret: bytes
    _ephemeral_dir: tempfile.TemporaryDirectory[str] | None = None

    def dispose(self) -> None:
        self.engine.dispose()
        if self._ephemeral_dir is not None:
            self._ephemeral_dir.cleanup()


def open_database(url: str) -> Database:
    """Create the engine for ``url``, create or check the schema, and read the meta rows."""
    parsed = make_url(url)
    ephemeral_dir = None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        durable = database not in ("", ":memory:")
        if not durable:
            shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
            ephemeral_dir = tempfile.TemporaryDirectory(prefix="minikube-py-store-", dir=shm)
            database = str(Path(ephemeral_dir.name) / "state.db")
        else:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = _sqlite_engine(database, durable=durable)
        description = database if durable else f"ephemeral {database}"
    elif parsed.get_backend_name() == "postgresql":
        engine = create_engine(parsed, pool_size=10, max_overflow=20, pool_pre_ping=True)
        description = parsed.render_as_string(hide_password=True)
    else:
        raise SchemaError(f"unsupported store URL {url!r}: use sqlite:// or postgresql+psycopg://")
    try:
        secret = _prepare_schema(engine)
    except SchemaError:
        engine.dispose()
        raise
    except exc.DBAPIError as error:
        engine.dispose()
        raise SchemaError(f"cannot open the store at {description}: {error.orig}") from error
    return Database(engine, engine.dialect.name, description, secret, ephemeral_dir)


def _sqlite_engine(path: str, *, durable: bool) -> Engine:
    engine = create_engine(
        f"sqlite+pysqlite:///{path}",
        pool_size=10,
        max_overflow=20,
        connect_args={"check_same_thread": False, "timeout": _BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, decide when transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA synchronous = {'FULL' if durable else 'OFF'}")
        cursor.execute(f"PRAGMA journal_size_limit = {_WAL_LIMIT_BYTES}")
        cursor.execute(f"PRAGMA wal_autocheckpoint = {_WAL_CHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def write_connection(engine: Engine) -> Connection:
    """A connection whose transactions take the database's write lock at BEGIN."""
    connection = engine.connect().execution_options(write=True)
    return connection


def read_options(dialect: str) -> dict[str, Any]:
    """Execution options giving each read transaction one consistent snapshot."""
    # SQLite's deferred BEGIN already reads from one snapshot until COMMIT.
    return {"isolation_level": "REPEATABLE READ"} if dialect == "postgresql" else {}


def _prepare_schema(engine: Engine) -> bytes:
    """Create the tables on first use, refuse newer schemas, return the token secret."""
    with write_connection(engine) as connection, connection.begin():
        if engine.dialect.name == "postgresql":
            # Two processes opening one fresh database must not both create the tables.
            connection.execute(text("SELECT pg_advisory_xact_lock(727274)"))
        schema.metadata.create_all(connection, checkfirst=True)
        rows = dict(connection.execute(select(schema.meta.c.name, schema.meta.c.value)).all())
        if "schema_version" not in rows:
            rows = {
                "schema_version": str(schema.SCHEMA_VERSION),
                "compacted": "0",
                "token_secret": secrets.token_hex(32),
            }
            connection.execute(
                schema.meta.insert(), [{"name": k, "value": v} for k, v in rows.items()]
            )
            connection.execute(schema.counter.insert().values(id=1, revision=0))
        version = int(rows["schema_version"])
        if version > schema.SCHEMA_VERSION:
            raise SchemaError(
                f"the store was written by schema version {version}, newer than this "
                f"minikube_py understands ({schema.SCHEMA_VERSION}); upgrade minikube_py"
            )
        return bytes.fromhex(rows["token_secret"])
