"""The values the store hands out: stored key-values, watch events and list pages.

A *revision* is the store's clock. Every successful write moves one global counter forward
and stamps the written key with it; Kubernetes shows that number as ``resourceVersion``.
Each stored value remembers the revision that created its key (``create_revision``) and the
revision of its last change (``mod_revision``), exactly like etcd's ``KeyValue``.
"""

from __future__ import annotations

import enum

import attrs


class EventType(enum.Enum):
    """What a write did to a key, in the words of a Kubernetes watch."""

    ADDED = 0
    MODIFIED = 1
    DELETED = 2


@attrs.frozen(slots=True)
class KeyValue:
    """One key as stored: its value (JSON bytes) and its two revisions."""

    key: str
    value: bytes
    create_revision: int
    mod_revision: int


@attrs.frozen(slots=True)
class WatchEvent:
    """One change, as a watcher sees it.

    ``value`` is the new value (``None`` for DELETED); ``prev_value`` the value before the
    change (``None`` for ADDED). ``revision`` is the revision the change was written at.
    """

    type: EventType
    key: str
    value: bytes | None
    revision: int
    prev_value: bytes | None
    create_revision: int


@attrs.frozen(slots=True)
class ListResult:
    """One page of a list: the items, the revision every page of this list reads at, and
    the opaque token for the next page (``None`` on the last page)."""

    items: list[KeyValue]
    revision: int
    continue_token: str | None
