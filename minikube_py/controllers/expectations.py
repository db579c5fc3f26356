"""Expectations: a controller remembers what it just asked for, so a stale cache cannot fool it.

A ReplicaSet controller that creates two pods learns of them only when the pod informer sees
them, a moment later. Were it to reconcile in between, its cache would still show too few
pods and it would create two more. Upstream's answer (``ControllerExpectations`` in
``pkg/controller/controller_utils.go``) is a note per controller key: "I expect N creations
and M deletions". Each create or delete the controller issues is expected *before* it is
sent; each one the informer reports lowers the count. While a note is unfulfilled the
controller must not act on its cache (it may still update status); once both counts reach
zero — or the note is older than five minutes, because a watch event can be lost and a
controller must not wait forever — the cache is trusted again.

Deletions can be tracked by pod key too (upstream's ``UIDTrackingControllerExpectations``):
a pod that was already going away when the controller decided to delete it may report its
deletion twice (once when marked, once when gone), and only the keys the controller asked
to delete should count down. Times come from an injectable ``Clock``.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from minikube_py.clock import Clock, SystemClock
from minikube_py.logs import get_logger

_log = get_logger("controllers.expectations")

TTL_SECONDS = 5 * 60.0  # upstream's ExpectationsTimeout


@attrs.define
class Expectation:
    """Creations and deletions still to be observed for one controller key, and since when."""

    add: int
    delete: int
    timestamp: float

    def fulfilled(self) -> bool:
        return self.add <= 0 and self.delete <= 0


class Expectations:
    """Per-controller-key counts of creations and deletions the cache has not shown yet."""

    def __init__(self, clock: Clock | None = None, *, ttl: float = TTL_SECONDS) -> None:
        self.clock: Clock = clock or SystemClock()
        self.ttl = ttl
        self._records: dict[str, Expectation] = {}
        self._deleting: dict[str, set[str]] = {}  # controller key -> pod keys asked to delete

    def get(self, key: str) -> Expectation | None:
        return self._records.get(key)

    def satisfied(self, key: str) -> bool:
        """Whether the controller may trust its cache for ``key`` (and so act on it)."""
        record = self._records.get(key)
        if record is None:
            return True  # a new controller, or one whose expectations were deleted
        if record.fulfilled():
            return True
        if self.clock.now() - record.timestamp > self.ttl:
            _log.info(
                "expectations expired",
                key=key,
                add=record.add,
                delete=record.delete,
                age=self.clock.now() - record.timestamp,
            )
            return True
        return False

    def set(self, key: str, *, add: int = 0, delete: int = 0) -> None:
        """Replace ``key``'s record: expect ``add`` creations and ``delete`` deletions from now."""
        self._records[key] = Expectation(add, delete, self.clock.now())

    def expect_creations(self, key: str, count: int) -> None:
        self.set(key, add=count)

    def expect_deletions(self, key: str, count: int) -> None:
        self.set(key, delete=count)

    def expect_deletions_of(self, key: str, pod_keys: Iterable[str]) -> None:
        """Expect the deletion of exactly these pods; ``deletion_observed(key, pod_key)`` then
        counts only them, once each."""
        keys = set(pod_keys)
        if self._deleting.get(key):
            _log.warning("clobbering pending deletions", key=key, pending=len(self._deleting[key]))
        self._deleting[key] = keys
        self.set(key, delete=len(keys))

    def raise_expectations(self, key: str, *, add: int = 0, delete: int = 0) -> None:
        """Expect more (the record keeps its timestamp); no-op without a record, as upstream."""
        record = self._records.get(key)
        if record is not None:
            record.add += add
            record.delete += delete

    def lower_expectations(self, key: str, *, add: int = 0, delete: int = 0) -> None:
        """Expect fewer: some creations or deletions were observed, or were never sent."""
        record = self._records.get(key)
        if record is not None:
            record.add -= add
            record.delete -= delete

    def creation_observed(self, key: str) -> None:
        self.lower_expectations(key, add=1)

    def deletion_observed(self, key: str, pod_key: str | None = None) -> None:
        """One deletion seen; with ``pod_key``, counted only if that pod was expected to go."""
        tracked = self._deleting.get(key)
        if pod_key is not None and tracked is not None:
            if pod_key not in tracked:
                return
            tracked.discard(pod_key)
        self.lower_expectations(key, delete=1)

    def delete(self, key: str) -> None:
        """Forget ``key`` (its controller object was deleted)."""
        self._records.pop(key, None)
        self._deleting.pop(key, None)
