"""Create, get, update and delete on every backend: revisions and compare-and-swap."""

from __future__ import annotations

import asyncio

import pytest

from minikube_py.store import (
    AlreadyExists,
    Conflict,
    NotFound,
    SqlStore,
    StoreClosed,
    open_store,
)

POD = "/registry/pods/default/web"


async def test_create_then_get_returns_the_value_and_its_revisions(store: SqlStore) -> None:
    before = await store.current_revision()
    created = await store.create(POD, b'{"kind":"Pod"}')
    assert created.value == b'{"kind":"Pod"}'
    assert created.create_revision == created.mod_revision > before
    assert await store.get(POD) == created
    assert await store.current_revision() == created.mod_revision


async def test_every_write_gets_a_new_larger_revision(store: SqlStore) -> None:
    revisions = []
    for i in range(5):
        revisions.append((await store.create(f"/registry/a/{i}", b"x")).mod_revision)
    revisions.append(
        (await store.update("/registry/a/0", b"y", expected_revision=None)).mod_revision
    )
    revisions.append((await store.delete("/registry/a/1", expected_revision=None)).mod_revision)
    assert revisions == sorted(set(revisions))


async def test_create_of_an_existing_key_fails_and_changes_nothing(store: SqlStore) -> None:
    created = await store.create(POD, b"one")
    with pytest.raises(AlreadyExists):
        await store.create(POD, b"two")
    assert await store.get(POD) == created
    assert await store.current_revision() == created.mod_revision


async def test_get_of_a_missing_key_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        await store.get(POD)


async def test_update_is_compare_and_swap_on_the_mod_revision(store: SqlStore) -> None:
    created = await store.create(POD, b"v1")
    updated = await store.update(POD, b"v2", expected_revision=created.mod_revision)
    assert updated.create_revision == created.create_revision
    assert updated.mod_revision > created.mod_revision
    with pytest.raises(Conflict) as raised:
        await store.update(POD, b"stale", expected_revision=created.mod_revision)
    assert raised.value.actual == updated.mod_revision
    assert (await store.get(POD)).value == b"v2"


async def test_unconditional_update_ignores_the_revision(store: SqlStore) -> None:
    await store.create(POD, b"v1")
    await store.update(POD, b"v2", expected_revision=None)
    forced = await store.update(POD, b"v3", expected_revision=None)
    assert (await store.get(POD)) == forced


async def test_update_and_delete_of_a_missing_key_are_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        await store.update(POD, b"v", expected_revision=None)
    with pytest.raises(NotFound):
        await store.delete(POD, expected_revision=None)
    with pytest.raises(NotFound):
        await store.delete(POD, expected_revision=3)


async def test_delete_is_compare_and_swap_and_returns_the_last_value(store: SqlStore) -> None:
    created = await store.create(POD, b"v1")
    updated = await store.update(POD, b"v2", expected_revision=None)
    with pytest.raises(Conflict):
        await store.delete(POD, expected_revision=created.mod_revision)
    deleted = await store.delete(POD, expected_revision=updated.mod_revision)
    assert deleted.value == b"v2"
    assert deleted.create_revision == created.create_revision
    assert deleted.mod_revision > updated.mod_revision
    with pytest.raises(NotFound):
        await store.get(POD)
    again = await store.create(POD, b"v3")
    assert again.create_revision > deleted.mod_revision


async def test_concurrent_writes_each_get_their_own_revision(store: SqlStore) -> None:
    results = await asyncio.gather(
        *(store.create(f"/registry/many/{i:03}", b"v") for i in range(200)),
        store.create("/registry/many/000", b"dup"),
        return_exceptions=True,
    )
    revisions = [r.mod_revision for r in results if not isinstance(r, BaseException)]
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(revisions) == 200 == len(set(revisions))
    assert len(errors) == 1 and isinstance(errors[0], AlreadyExists)
    assert max(revisions) == await store.current_revision()


async def test_a_batch_with_several_writes_to_one_key_applies_them_in_order(
    store: SqlStore,
) -> None:
    created = await store.create(POD, b"v0")
    results = await asyncio.gather(
        store.update(POD, b"v1", expected_revision=created.mod_revision),
        store.update(POD, b"v2", expected_revision=created.mod_revision),
        store.update(POD, b"v3", expected_revision=None),
        return_exceptions=True,
    )
    assert isinstance(results[1], Conflict)
    assert (await store.get(POD)).value == b"v3"


async def test_revisions_are_never_reused_across_restarts(store_url: str) -> None:
    """Durable stores continue their revisions; an ephemeral one starts afresh each time."""
    ephemeral = store_url == "sqlite://"
    first = await open_store(store_url)
    try:
        await first.create(POD, b"v")
        last = (await first.delete(POD, expected_revision=None)).mod_revision
    finally:
        await first.close()
    second = await open_store(store_url)
    try:
        assert await second.current_revision() == (0 if ephemeral else last)
        assert (await second.create(POD, b"w")).mod_revision == (1 if ephemeral else last + 1)
    finally:
        await second.close()


async def test_operations_after_close_fail_clearly(store_url: str) -> None:
    store = await open_store(store_url)
    await store.close()
    await store.close()  # closing twice is harmless
    with pytest.raises(StoreClosed):
        await store.create(POD, b"v")
    with pytest.raises(StoreClosed):
        await store.get(POD)
    with pytest.raises(StoreClosed):
        await store.list("/registry/")
    with pytest.raises(StoreClosed):
        await store.watch("/registry/", 0)
