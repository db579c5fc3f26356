"""Prefix lists and their pages: key order, prefix boundaries, one revision for all pages."""

from __future__ import annotations

import pytest

from minikube_py.store import (
    Expired,
    InvalidContinueToken,
    Retention,
    RevisionNotYet,
    SqlStore,
    open_store,
)
from minikube_py.store.reading import prefix_end


async def _fill(store: SqlStore, keys: list[str]) -> None:
    for key in keys:
        await store.create(key, key.encode())


async def _list_all(store: SqlStore, prefix: str, limit: int) -> tuple[list[str], set[int]]:
    keys: list[str] = []
    revisions: set[int] = set()
    token = None
    while True:
        page = await store.list(prefix, limit=limit, continue_token=token)
        keys += [item.key for item in page.items]
        revisions.add(page.revision)
        token = page.continue_token
        if token is None:
            return keys, revisions


async def test_list_returns_only_keys_under_the_prefix_in_key_order(store: SqlStore) -> None:
    await _fill(
        store,
        [
            "/registry/pods/default/b",
            "/registry/pods/default/a",
            "/registry/pods/defaultx/c",
            "/registry/pods/kube-system/d",
            "/registry/podsecurity/e",
            "/registry/services/specs/default/f",
        ],
    )
    result = await store.list("/registry/pods/default/")
    assert [item.key for item in result.items] == [
        "/registry/pods/default/a",
        "/registry/pods/default/b",
    ]
    assert result.continue_token is None
    assert result.revision == await store.current_revision()
    everything = await store.list("/registry/pods/")
    assert len(everything.items) == 4
    assert [i.value for i in everything.items] == [i.key.encode() for i in everything.items]


async def test_list_of_an_empty_prefix_is_empty(store: SqlStore) -> None:
    result = await store.list("/registry/nothing/")
    assert result.items == [] and result.continue_token is None


async def test_pages_cover_every_key_once(store: SqlStore) -> None:
    keys = [f"/registry/cm/ns/{i:04}" for i in range(53)]
    await _fill(store, keys)
    for limit in (1, 7, 53, 54, 500):
        listed, revisions = await _list_all(store, "/registry/cm/", limit)
        assert listed == keys
        assert len(revisions) == 1


async def test_all_pages_see_the_revision_of_the_first(store: SqlStore) -> None:
    keys = [f"/registry/cm/ns/{i:02}" for i in range(10)]
    await _fill(store, keys)
    first = await store.list("/registry/cm/", limit=4)
    snapshot = {item.key: item for item in (await store.list("/registry/cm/")).items}
    # Writes between the pages: change, delete, delete-and-recreate, and create.
    await store.update(keys[5], b"changed", expected_revision=None)
    await store.delete(keys[6], expected_revision=None)
    await store.delete(keys[7], expected_revision=None)
    await store.create(keys[7], b"recreated")
    await store.create("/registry/cm/ns/05a", b"new")
    await store.update(keys[0], b"changed too", expected_revision=None)
    items = list(first.items)
    token = first.continue_token
    while token is not None:
        page = await store.list("/registry/cm/", limit=4, continue_token=token)
        assert page.revision == first.revision
        items += page.items
        token = page.continue_token
    assert {item.key: item for item in items} == snapshot
    assert [item.key for item in items] == keys


async def test_a_tampered_continue_token_is_refused(store: SqlStore) -> None:
    await _fill(store, [f"/registry/cm/ns/{i}" for i in range(3)])
    token = (await store.list("/registry/cm/", limit=1)).continue_token
    assert token is not None
    body, mac = token.split(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    for bad in (f"{flipped}.{mac}", token[:-3], "garbage", token + "x"):
        with pytest.raises(InvalidContinueToken):
            await store.list("/registry/cm/", limit=1, continue_token=bad)
    with pytest.raises(InvalidContinueToken):
        await store.list("/registry/secrets/", limit=1, continue_token=token)


async def test_a_continue_token_older_than_compaction_is_expired(store_url: str) -> None:
    store = await open_store(store_url, retention=Retention(min_revisions=1, min_age_seconds=0))
    try:
        await _fill(store, [f"/registry/cm/ns/{i}" for i in range(3)])
        token = (await store.list("/registry/cm/", limit=1)).continue_token
        for i in range(3):
            await store.update(f"/registry/cm/ns/{i}", b"again", expected_revision=None)
        await store.compact()
        with pytest.raises(Expired):
            await store.list("/registry/cm/", limit=1, continue_token=token)
        assert len((await store.list("/registry/cm/")).items) == 3
    finally:
        await store.close()


def test_prefix_end_bounds_every_key_under_the_prefix() -> None:
    assert prefix_end("/registry/pods/") == "/registry/pods0"
    assert prefix_end("") is None
    top = chr(0x10FFFF)
    assert prefix_end(f"/a{top}") == "/b"
    assert prefix_end(top * 2) is None


async def test_list_at_an_older_revision_shows_the_state_then(store: SqlStore) -> None:
    first = await store.create("/registry/cm/ns/a", b"1")
    await store.update("/registry/cm/ns/a", b"2", expected_revision=None)
    await store.create("/registry/cm/ns/b", b"3")
    then = await store.list("/registry/cm/", revision=first.mod_revision)
    assert [(i.key, i.value) for i in then.items] == [("/registry/cm/ns/a", b"1")]
    assert then.revision == first.mod_revision
    with pytest.raises(RevisionNotYet):
        await store.list("/registry/cm/", revision=await store.current_revision() + 1)
