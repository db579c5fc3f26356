"""The store's tables, and the schema-version check that guards them.

Three tables, chosen after measuring kine's single append-only log (see ``docs/store.md``):

- ``kv`` holds the *current* state, one row per live key, so a get is one primary-key
  lookup and a list is one index range scan — no ``max(id)`` per key as in kine;
- ``events`` is the history: one row per write with the value it wrote and the revision of
  the value it replaced, which feeds watch replay and lets a list read an older revision;
- ``counter`` holds the one global revision. Every write transaction reads and bumps it, so
  writers (also in other processes) serialise on it and commit in revision order;
- ``meta`` carries the schema version, the compacted revision and the secret that signs
  continue tokens.

Keys are compared byte by byte (``COLLATE "C"`` on PostgreSQL, SQLite's default), because
a prefix list is a range scan ``prefix <= key < prefix_end``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
)

# Bump when the tables change; a database written by a newer version is refused.
SCHEMA_VERSION = 1

_key_type = String().with_variant(String(collation="C"), "postgresql")

metadata = MetaData()

kv = Table(
    "kv",
    metadata,
    Column("key", _key_type, primary_key=True),
    Column("value", LargeBinary, nullable=False),
    Column("create_revision", BigInteger, nullable=False),
    Column("mod_revision", BigInteger, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("revision", BigInteger, primary_key=True, autoincrement=False),
    Column("key", _key_type, nullable=False),
    Column("type", SmallInteger, nullable=False),
    Column("create_revision", BigInteger, nullable=False),
    # mod revision of the value this write replaced (0 for a creation): the event row at
    # that revision holds the previous value, so no value is stored twice
    Column("prev_revision", BigInteger, nullable=False),
    Column("value", LargeBinary, nullable=True),  # NULL for a deletion
    # wall-clock seconds, so compaction can keep "the last T minutes"
    Column("created_at", Float, nullable=False),
    Index("events_key_revision", "key", "revision"),
)

# The same table again, to join an event with the event whose value it replaced.
previous = events.alias("previous")

counter = Table(
    "counter",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("revision", BigInteger, nullable=False),
)

meta = Table(
    "meta",
    metadata,
    Column("name", String, primary_key=True),
    Column("value", String, nullable=False),
)
