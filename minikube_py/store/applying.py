"""How one write changes one key: the checks, the new row, the event and the answer.

This is the heart of compare-and-swap, kept free of I/O so it reads like the rules it
implements. The writer (``writing.py``, its transaction in ``committing.py``) loads the current
rows of every key in a batch once, then passes each write through ``apply`` in order — a later
write in the same batch sees the earlier ones — and finally stores the changed rows in a few
bulk statements.

The rules, as etcd and Kubernetes have them:

- ``create`` needs the key to be absent (``AlreadyExists``);
- ``update`` and ``delete`` need it present (``NotFound``) and, unless the caller passed
  ``expected_revision=None``, still at the caller's revision (``Conflict``);
- a write at revision ``R`` stamps the key's ``mod_revision`` with ``R``; a creation sets its
  ``create_revision`` too; a deletion answers with the last value, stamped with ``R``.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import attrs

from minikube_py.store.encryption import ValueCodec
from minikube_py.store.errors import AlreadyExists, Conflict, NotFound
from minikube_py.store.records import EventType, KeyValue, WatchEvent


@attrs.frozen
class WriteOp:
    """One requested write; ``expected_revision=None`` skips the compare-and-swap."""

    kind: Literal["create", "update", "delete"]
    key: str
    value: bytes | None = None
    expected_revision: int | None = None


class Stored(NamedTuple):
    """A key's row as the database holds it (the value possibly sealed)."""

    value: bytes
    create_revision: int
    mod_revision: int


class Applied(NamedTuple):
    answer: KeyValue  # what the caller gets back
    row: Stored | None  # the key's new row; None once deleted
    event: WatchEvent  # what watchers see
    history: dict[str, Any]  # the ``events`` row


def apply(
    op: WriteOp, current: Stored | None, revision: int, *, codec: ValueCodec, now: float
) -> Applied:
    """Check ``op`` against the key's ``current`` row and write it at ``revision``."""
    if op.kind == "create":
        if current is not None:
            raise AlreadyExists(op.key)
    elif current is None:
        raise NotFound(op.key)
    elif op.expected_revision is not None and current.mod_revision != op.expected_revision:
        raise Conflict(op.key, expected=op.expected_revision, actual=current.mod_revision)

    previous = codec.open(op.key, current.value) if current is not None else None
    created = revision if current is None else current.create_revision
    if op.kind == "delete":
        assert previous is not None
        answer, row, sealed = KeyValue(op.key, previous, created, revision), None, None
        event_type = EventType.DELETED
    else:
        assert op.value is not None
        sealed = codec.seal(op.key, op.value)
        answer = KeyValue(op.key, op.value, created, revision)
        row = Stored(sealed, created, revision)
        event_type = EventType.ADDED if current is None else EventType.MODIFIED
    history = {
        "revision": revision,
        "key": op.key,
        "type": event_type.value,
        "create_revision": created,
        "prev_revision": current.mod_revision if current is not None else 0,
        "value": sealed,
        "created_at": now,
    }
    event = WatchEvent(event_type, op.key, op.value, revision, previous, created)
    return Applied(answer, row, event, history)
