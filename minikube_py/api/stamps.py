"""The values the API server stamps on objects: generated names, UIDs and timestamps.

A create fills in ``metadata.uid`` (a random UUID, version 4), ``creationTimestamp`` and, for a
``generateName``, the name (the prefix plus five random characters, as upstream's
``SimpleNameGenerator``). Kubernetes writes times in two forms: ``Time`` (RFC 3339, UTC, whole
seconds: ``2024-01-02T03:04:05Z``), in most fields, and ``MicroTime`` (six fractional digits),
in Leases and ``events.k8s.io`` Events. This module makes both and reads either back.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

# Upstream's SimpleNameGenerator: 5 characters from an alphabet without vowels (so no words)
# and without look-alikes, appended to a prefix cut to leave room within 63 characters.
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
MAX_GENERATED_PREFIX = 58


# A uid or a generated name must be unique, not secret (upstream uses math/rand for names):
# a generator seeded once from the OS is enough, and it spares each create getrandom() system
# calls — one per character with ``secrets.choice`` — each of which gives up the GIL and, on
# a busy process, waits to get it back.
_uid_source = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _uid_source.seed(os.urandom(32)))  # no twin uids


def generate_name(prefix: str) -> str:
    suffix = "".join(_uid_source.choices(NAME_ALPHABET, k=5))
    return prefix[:MAX_GENERATED_PREFIX] + suffix


def new_uid() -> str:
    return str(uuid.UUID(int=_uid_source.getrandbits(128), version=4))


_stamp: tuple[int, str] = (0, "")


def now_rfc3339(now: datetime | None = None) -> str:
    """A Kubernetes timestamp: RFC 3339, UTC, whole seconds (``2024-01-02T03:04:05Z``)."""
    if now is None:
        return rfc3339(time.time())
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def micro_time(moment: float) -> str:
    """A ``MicroTime`` (Leases, events.k8s.io) as the API prints it, from Unix seconds:
    RFC 3339 with six fractional digits (``2026-01-02T03:04:05.123456Z``)."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rfc3339(moment: float) -> str:
    """Unix seconds as Kubernetes writes a ``Time``: whole seconds, UTC
    (``2024-01-02T03:04:05Z``)."""
    global _stamp
    second = int(moment)
    if _stamp[0] != second:  # formatting is the costly part: most calls ask for this second
        _stamp = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return _stamp[1]


def parse_time(value: Any) -> float | None:
    """A ``Time`` or ``MicroTime`` as Unix seconds; None for a missing or unreadable one (Go's
    zero time)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
