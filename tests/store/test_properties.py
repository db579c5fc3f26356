"""Property-based tests: the store behaves like a dict with a revision counter.

Hypothesis generates random sequences of creates, updates and deletes (conditional with a
current or a stale revision, and unconditional), gets and paged lists. Each runs against the
store and against ``Model``, a few lines of plain Python; both must give the same results and
errors, the same final state, and the same event sequence — seen live by a watch opened before
the sequence, and replayed from history by a watch opened after it.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minikube_py.store import EventType, SqlStore, StoreError, open_store

KEYS = ["a/0", "a/1", "a/2", "b/0", "b/1"]


@attrs.define
class Model:
    """The specification: current values, the revision counter, the event log."""

    revision: int
    data: dict[str, tuple[bytes, int, int]] = attrs.Factory(dict)
    events: list[tuple[EventType, str, bytes | None, bytes | None, int]] = attrs.Factory(list)

    def _write(self, kind: EventType, key: str, value: bytes | None) -> tuple[Any, ...]:
        self.revision += 1
        prev = self.data.get(key)
        created = prev[1] if prev and kind is not EventType.ADDED else self.revision
        if value is None:
            del self.data[key]
        else:
            self.data[key] = (value, created, self.revision)
        self.events.append((kind, key, value, prev[0] if prev else None, self.revision))
        return (value if value is not None else prev and prev[0], created, self.revision)

    def apply(self, op: tuple[Any, ...]) -> tuple[Any, ...] | str:
        name, key, value, expectation = op
        current = self.data.get(key)
        if name == "get":
            return current if current else "NotFound"
        if name == "create":
            return "AlreadyExists" if current else self._write(EventType.ADDED, key, value)
        if current is None:
            return "NotFound"
        if expectation == "stale":
            return "Conflict"
        kind = EventType.MODIFIED if name == "update" else EventType.DELETED
        return self._write(kind, key, value if name == "update" else None)


async def _run_on_store(store: SqlStore, prefix: str, op: tuple[Any, ...]) -> tuple[Any, ...] | str:
    name, key, value, expectation = op
    key = prefix + key
    try:
        if name == "get":
            kv = await store.get(key)
        elif name == "create":
            kv = await store.create(key, value)
        else:
            expected = None
            if expectation is not None:
                current = await store.get(key)
                expected = current.mod_revision - (1 if expectation == "stale" else 0)
            if name == "update":
                kv = await store.update(key, value, expected_revision=expected)
            else:
                kv = await store.delete(key, expected_revision=expected)
                return (kv.value, kv.create_revision, kv.mod_revision)
    except StoreError as error:
        return type(error).__name__
    return (kv.value, kv.create_revision, kv.mod_revision)


ops = st.lists(
    st.tuples(
        st.sampled_from(["get", "create", "update", "delete", "create", "update"]),
        st.sampled_from(KEYS),
        st.binary(min_size=1, max_size=8),
        st.sampled_from([None, "current", "stale"]),
    ),
    max_size=40,
)


async def _check(url: str, sequence: list[tuple[Any, ...]], page: int) -> None:
    store = await open_store(url)
    prefix = f"/registry/{uuid.uuid4().hex}/"
    try:
        start = await store.current_revision()
        model = Model(revision=start)
        live = await store.watch(prefix, start)
        for op in sequence:
            expected = model.apply(op)
            assert await _run_on_store(store, prefix, op) == expected, op
        # same final state, listed in pages of `page`
        listed, token = [], None
        while True:
            result = await store.list(prefix, limit=page, continue_token=token)
            listed += [
                (i.key.removeprefix(prefix), i.value, i.create_revision, i.mod_revision)
                for i in result.items
            ]
            token = result.continue_token
            if token is None:
                break
        assert listed == [(k, *v) for k, v in sorted(model.data.items())]
        # same events, live and replayed
        replay = await store.watch(prefix, start)
        for watch in (live, replay):
            seen = [await asyncio.wait_for(anext(watch), 5) for _ in range(len(model.events))]
            assert [
                (e.type, e.key.removeprefix(prefix), e.value, e.prev_value, e.revision)
                for e in seen
            ] == model.events
            watch.close()
    finally:
        await store.close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=ops, page=st.integers(min_value=1, max_value=6))
def test_store_matches_the_model(
    store_url: str, sequence: list[tuple[Any, ...]], page: int
) -> None:
    asyncio.run(_check(store_url, sequence, page))
