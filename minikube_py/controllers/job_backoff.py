"""The Job's pod failure back-off: wait longer before each new pod after consecutive failures.

A Job whose pods keep failing should not hammer the cluster with replacements. As upstream
(``backoff_utils.go``) the controller remembers per Job how many pods failed since the last
success and when the last of them finished; before creating pods it waits
``10 s * 2^(failures - 1)``, at most six minutes, counted from that last failure. A success
resets the count. The record lives in memory only, as upstream's does: a restarted controller
starts afresh. Times come from the pods' own finish times and the injected clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from minikube_py.controllers.job_util import finished_time

Object = dict[str, Any]
DEFAULT_BACKOFF = 10.0  # upstream's DefaultJobPodFailureBackOff
MAX_BACKOFF = 360.0  # MaxJobPodFailureBackOff


@attrs.frozen
class BackoffRecord:
    """Failures since the last success, and when the latest of them finished."""

    failures_after_last_success: int = 0
    last_failure_time: float | None = None

    def remaining(self, now: float) -> float:
        """Seconds still to wait before a new pod may be created (0: none)."""
        if self.failures_after_last_success == 0 or self.last_failure_time is None:
            return 0.0
        backoff = min(DEFAULT_BACKOFF * 2.0 ** (self.failures_after_last_success - 1), MAX_BACKOFF)
        elapsed = now - self.last_failure_time
        if elapsed < 0:  # a skewed clock: wait the whole back-off
            return backoff
        return max(0.0, backoff - elapsed)


class BackoffStore:
    """Back-off records by Job key."""

    def __init__(self) -> None:
        self._records: dict[str, BackoffRecord] = {}

    def get(self, key: str) -> BackoffRecord:
        return self._records.get(key, BackoffRecord())

    def update(self, key: str, record: BackoffRecord) -> None:
        self._records[key] = record

    def remove(self, key: str) -> None:
        self._records.pop(key, None)

    def next_record(
        self, key: str, new_succeeded: Iterable[Object], new_failed: Iterable[Object]
    ) -> BackoffRecord:
        """The record after counting newly finished pods: failures after the latest success
        add up; a success with no later failure resets it."""
        old = self.get(key)
        failures = sorted(finished_time(pod) for pod in new_failed)
        successes = sorted(finished_time(pod) for pod in new_succeeded)
        if not successes:
            if not failures:
                return old
            return BackoffRecord(old.failures_after_last_success + len(failures), failures[-1])
        later = [moment for moment in failures if moment > successes[-1]]
        return BackoffRecord(len(later), later[-1] if later else None)
