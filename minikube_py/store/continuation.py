"""Continue tokens: how a paged list resumes where it stopped, at the revision it began.

Kubernetes clients page big lists with ``limit`` and ``continue``. The token must carry
two things: the revision the first page read at (so every page sees one consistent state,
however long the client waits between pages) and the last key returned (so the next page
starts after it). Upstream encodes them as base64 JSON; we add an HMAC over the list's prefix
and that JSON, with a secret kept in the database, so a token that was edited, truncated,
or taken from a list of another prefix is refused instead of silently reading elsewhere.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from minikube_py.store.errors import InvalidContinueToken

_MAC_BYTES = 16


def encode(secret: bytes, *, prefix: str, revision: int, last_key: str) -> str:
    """A token that resumes the list of ``prefix`` at ``revision`` after ``last_key``."""
    payload = json.dumps({"v": 1, "rv": revision, "start": last_key}, separators=(",", ":"))
    raw = payload.encode()
    return _b64(raw) + "." + _b64(_mac(secret, prefix, raw))


def decode(secret: bytes, *, prefix: str, token: str) -> tuple[int, str]:
    """The (revision, last key) a token carries; ``InvalidContinueToken`` if it is not ours."""
    try:
        body, mac = token.split(".")
        raw = base64.urlsafe_b64decode(_pad(body))
        given = base64.urlsafe_b64decode(_pad(mac))
    except (ValueError, binascii.Error):
        raise InvalidContinueToken("continue token is malformed") from None
    if not hmac.compare_digest(given, _mac(secret, prefix, raw)):
        raise InvalidContinueToken("continue token was altered or belongs to another list")
    data = json.loads(raw)
    revision, last_key = data["rv"], data["start"]
    if not last_key.startswith(prefix):
        raise InvalidContinueToken("continue token belongs to another list")
    return int(revision), str(last_key)


def _mac(secret: bytes, prefix: str, raw: bytes) -> bytes:
    return hmac.new(secret, prefix.encode() + b"\0" + raw, hashlib.sha256).digest()[:_MAC_BYTES]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _pad(text: str) -> bytes:
    return (text + "=" * (-len(text) % 4)).encode()
