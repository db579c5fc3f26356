"""The store's typed errors.

The API server turns each of these into a Kubernetes ``Status``: ``NotFound`` → 404,
``AlreadyExists`` → 409 AlreadyExists, ``Conflict`` → 409 Conflict (a stale
``resourceVersion``), ``Expired`` → 410 Gone (history already compacted away),
``WatchOverflow`` → a watch that must relist, ``InvalidContinueToken`` → 400 BadRequest.
``SchemaError`` and ``EncryptionError`` mean the database cannot be used as it is; they
stop the cluster with a message instead of serving garbage.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every error the store raises on purpose."""


class NotFound(StoreError):
    """The key does not exist (or no longer exists)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"key {key!r} not found")
        self.key = key


class AlreadyExists(StoreError):
    """``create`` on a key that is already present."""

    def __init__(self, key: str) -> None:
        super().__init__(f"key {key!r} already exists")
        self.key = key


class Conflict(StoreError):
    """A compare-and-swap failed: the caller's revision of the key is stale."""

    def __init__(self, key: str, *, expected: int, actual: int) -> None:
        super().__init__(
            f"key {key!r} was modified: expected revision {expected}, current is {actual}"
        )
        self.key = key
        self.expected = expected
        self.actual = actual


class Expired(StoreError):
    """A list or watch asked for a revision whose history was compacted."""

    def __init__(self, revision: int, compacted: int) -> None:
        super().__init__(
            f"revision {revision} is too old: history up to revision {compacted} was compacted"
        )
        self.revision = revision
        self.compacted = compacted


class RevisionNotYet(StoreError):
    """A read asked for a revision newer than any written so far."""

    def __init__(self, revision: int, newest: int) -> None:
        super().__init__(f"revision {revision} is newer than the newest revision {newest}")
        self.revision = revision
        self.newest = newest


class WatchOverflow(StoreError):
    """A watcher fell too far behind and was ended; it should list again, then watch."""

    def __init__(self, prefix: str, pending: int) -> None:
        super().__init__(f"watch on {prefix!r} ended: the consumer fell {pending} events behind")
        self.prefix = prefix
        self.pending = pending


class InvalidContinueToken(StoreError):
    """A list's ``continue`` token was altered, truncated or belongs to another list."""


class SchemaError(StoreError):
    """The database is unreadable, or was written by a newer schema than this code knows."""


class EncryptionError(StoreError):
    """An encrypted value cannot be decrypted: the key is wrong or missing."""


class StoreClosed(StoreError):
    """The store was closed while the operation was pending."""
