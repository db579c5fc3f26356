"""The store's contract: what the API server may ask of the cluster's memory.

This is etcd's key-value API cut down to what Kubernetes uses, the way k3s's kine cuts it:

- keys are paths, ``/registry/<group>/<resource>/<namespace>/<name>``, and values JSON bytes;
- every write returns the new global revision, which becomes the object's ``resourceVersion``;
- ``update`` and ``delete`` are compare-and-swap on the revision the caller last saw, so two
  clients editing one object cannot silently overwrite each other (``Conflict``); passing
  ``expected_revision=None`` is the unconditional variant, for the cluster's own use;
- ``list`` pages all read at one revision, however long the client takes between pages;
- ``watch`` replays the history after a revision, then streams live changes in strict revision
  order — the mechanism behind every informer, controller and ``kubectl get -w``.

Only the API server holds a ``Store``; every other component goes through the API.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from minikube_py.store.records import KeyValue, ListResult, WatchEvent


class Watch(Protocol):
    """A stream of ``WatchEvent`` in revision order; ends when closed, raises ``Expired`` or
    ``WatchOverflow`` when the caller must list again."""

    def __aiter__(self) -> Watch: ...

    async def __anext__(self) -> WatchEvent: ...

    def close(self) -> None: ...

    async def __aenter__(self) -> Watch: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Store(Protocol):
    """The operations every backend (SQLite file, ephemeral SQLite, PostgreSQL) offers."""

    async def create(self, key: str, value: bytes) -> KeyValue:
        """Store a new key; ``AlreadyExists`` if it is present."""

    async def get(self, key: str) -> KeyValue:
        """The current value of a key; ``NotFound`` if absent."""

    async def list(
        self,
        prefix: str,
        *,
        limit: int = 0,
        continue_token: str | None = None,
        revision: int | None = None,
    ) -> ListResult:
        """Keys under ``prefix`` in key order, ``limit`` at a time (0: all), as they were at
        ``revision`` (default: the newest; ``RevisionNotYet`` if it is in the future)."""

    async def update(self, key: str, value: bytes, *, expected_revision: int | None) -> KeyValue:
        """Replace a key's value if its mod revision is still ``expected_revision``."""

    async def delete(self, key: str, *, expected_revision: int | None) -> KeyValue:
        """Remove a key; returns its last value, stamped with the deletion's revision."""

    async def current_revision(self) -> int:
        """The newest revision written by anyone to this database."""

    async def watch(self, prefix: str, from_revision: int) -> Watch:
        """Every change under ``prefix`` after ``from_revision``, then live changes."""

    async def compact(self) -> int:
        """Drop history the retention policy no longer needs; returns the compacted revision."""

    async def close(self) -> None:
        """Finish pending writes, end watches and release the database."""
