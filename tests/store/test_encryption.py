"""Encryption at rest: Secrets never reach the database in plaintext; wrong keys fail clearly."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from minikube_py.store import (
    Encryption,
    EncryptionError,
    load_or_create_key,
    open_store,
)
from minikube_py.store.encryption import ValueCodec

SECRET_KEY = "/registry/secrets/default/db-password"
PLAINTEXT = b'{"data":{"password":"cGxhaW50ZXh0LXBhc3N3b3Jk"},"marker":"TOP-SECRET-MARKER"}'
CONFIG = b'{"data":{"mode":"PUBLIC-CONFIG-MARKER"}}'


def _raw_rows(url: str) -> bytes:
    """Every stored value, as the database holds it, joined."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT value FROM kv UNION ALL SELECT value FROM events")
            )
            return b"".join(bytes(row[0]) for row in rows if row[0] is not None)
    finally:
        engine.dispose()


def _raw_files(directory: Path) -> bytes:
    """The database, WAL and shared-memory files, byte for byte."""
    return b"".join(path.read_bytes() for path in directory.glob("state.db*"))


async def test_secrets_are_sealed_in_the_database_and_open_for_readers(
    store_url: str, tmp_path: Path
) -> None:
    if store_url == "sqlite://":
        store_url = f"sqlite:///{tmp_path}/ephemeral-look-alike.db"  # to read it afterwards
    encryption = Encryption(load_or_create_key(tmp_path / "key"))
    store = await open_store(store_url, encryption=encryption)
    try:
        start = await store.current_revision()
        created = await store.create(SECRET_KEY, PLAINTEXT)
        await store.update(SECRET_KEY, PLAINTEXT + b" ", expected_revision=created.mod_revision)
        await store.create("/registry/configmaps/default/app", CONFIG)
        assert (await store.get(SECRET_KEY)).value == PLAINTEXT + b" "
        assert (await store.list("/registry/secrets/")).items[0].value == PLAINTEXT + b" "
        watch = await store.watch("/registry/secrets/", start)
        async with watch:
            first, second = await anext(watch), await anext(watch)
        assert (first.value, second.prev_value) == (PLAINTEXT, PLAINTEXT)
    finally:
        await store.close()
    raw = _raw_rows(store_url.replace("sqlite:///", "sqlite+pysqlite:///"))
    assert b"PUBLIC-CONFIG-MARKER" in raw  # the dump does show what is not encrypted
    assert b"TOP-SECRET-MARKER" not in raw
    assert b"k8s:enc:aesgcm:v1:local:" in raw


async def test_a_raw_dump_of_the_sqlite_file_shows_no_plaintext(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/state.db"
    store = await open_store(url, encryption=Encryption(load_or_create_key(tmp_path / "key")))
    try:
        await store.create(SECRET_KEY, PLAINTEXT)
        await store.create("/registry/configmaps/default/app", CONFIG)
    finally:
        await store.close()
    dump = _raw_files(tmp_path)
    assert b"PUBLIC-CONFIG-MARKER" in dump
    assert b"TOP-SECRET-MARKER" not in dump


async def test_a_wrong_or_missing_key_is_a_clear_error(store_url: str, tmp_path: Path) -> None:
    if store_url == "sqlite://":
        store_url = f"sqlite:///{tmp_path}/state.db"
    right = Encryption(os.urandom(32))
    store = await open_store(store_url, encryption=right)
    try:
        await store.create(SECRET_KEY, PLAINTEXT)
    finally:
        await store.close()
    for encryption, message in ((Encryption(os.urandom(32)), "wrong"), (None, "no encryption key")):
        store = await open_store(store_url, encryption=encryption)
        try:
            with pytest.raises(EncryptionError, match=message):
                await store.get(SECRET_KEY)
            with pytest.raises(EncryptionError, match=message):
                await store.list("/registry/secrets/")
            with pytest.raises(EncryptionError):  # and nothing is overwritten on the way
                await store.update(SECRET_KEY, b"new", expected_revision=None)
        finally:
            await store.close()
    store = await open_store(store_url, encryption=right)
    try:
        assert (await store.get(SECRET_KEY)).value == PLAINTEXT
    finally:
        await store.close()


def test_the_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "encryption.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key


def test_a_damaged_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "encryption.key"
    path.write_text("not base64 at all!\n")
    with pytest.raises(EncryptionError, match="encryption key"):
        load_or_create_key(path)
    path.write_text("c2hvcnQ=\n")  # valid base64, 5 bytes
    with pytest.raises(EncryptionError, match="32-byte"):
        load_or_create_key(path)


def test_a_sealed_value_does_not_open_under_another_key() -> None:
    codec = ValueCodec(Encryption(os.urandom(32)))
    sealed = codec.seal("/registry/secrets/a/x", b"value")
    assert codec.open("/registry/secrets/a/x", sealed) == b"value"
    with pytest.raises(EncryptionError):
        codec.open("/registry/secrets/a/y", sealed)
    assert codec.seal("/registry/configmaps/a/x", b"value") == b"value"
