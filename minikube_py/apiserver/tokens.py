"""Service-account tokens: what ``kubectl create token`` and pods present as bearer tokens.

A service account is an identity for programs. Upstream's ``TokenRequest`` API
(``POST …/serviceaccounts/<name>/token``) issues a signed JWT naming the account; the API
server later accepts it as ``system:serviceaccount:<namespace>:<name>``, in the groups
``system:serviceaccounts`` and ``system:serviceaccounts:<namespace>``, until it expires.

Ours are JWTs too (header, claims, signature, base64url), signed with HMAC-SHA256 under a key
kept in the state directory (``sa.key``, written like the encryption key, mode 0600), so
tokens stay valid across restarts. Upstream signs with an RSA key so that other parties can
verify; nothing outside the cluster verifies ours.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from typing import Any

from minikube_py.apiserver.authn import UserInfo

_DEFAULT_SECONDS = 3600
_MIN_SECONDS = 600  # upstream refuses shorter tokens
_AUDIENCE = "https://kubernetes.default.svc.cluster.local"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    """Issues and checks service-account tokens."""

    def __init__(self, key: bytes | None = None, *, clock: Any = time.time) -> None:
        self._key = key or os.urandom(32)
        self._clock = clock

    def issue(
        self, *, namespace: str, name: str, uid: str, seconds: int | None, audiences: list[str]
    ) -> tuple[str, int]:
        """A token for the account, and its expiry (Unix seconds)."""
        now = int(self._clock())
        expires = now + max(seconds or _DEFAULT_SECONDS, _MIN_SECONDS)
        claims = {
            "iss": _AUDIENCE,
            "aud": audiences or [_AUDIENCE],
            "sub": f"system:serviceaccount:{namespace}:{name}",
            "iat": now,
            "nbf": now,
            "exp": expires,
            "jti": str(uuid.uuid4()),
            "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}},
        }
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        return f"{header}.{body}.{self._sign(f'{header}.{body}')}", expires

    def review(self, token: str) -> UserInfo | None:
        """The account a token names, or None if it is not ours or has expired."""
        parts = token.split(".")
        if len(parts) != 3 or not hmac.compare_digest(
            parts[2], self._sign(f"{parts[0]}.{parts[1]}")
        ):
            return None
        try:
            claims = json.loads(_unb64(parts[1]))
            info = claims["kubernetes.io"]
            namespace, account = info["namespace"], info["serviceaccount"]
        except (ValueError, KeyError, TypeError):
            return None
        if claims.get("exp", 0) <= self._clock():
            return None
        return UserInfo(
            name=f"system:serviceaccount:{namespace}:{account['name']}",
            groups=("system:serviceaccounts", f"system:serviceaccounts:{namespace}"),
            uid=str(account.get("uid", "")),
        )

    def _sign(self, message: str) -> str:
        return _b64(hmac.new(self._key, message.encode(), hashlib.sha256).digest())


def token_request_response(request: Any, token: str, expires: int) -> dict[str, Any]:
    """The TokenRequest a client gets back: its spec, and the token in its status."""
    spec = (request.get("spec") if isinstance(request, dict) else None) or {}
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
    return {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": {
            "audiences": spec.get("audiences") or [_AUDIENCE],
            "expirationSeconds": spec.get("expirationSeconds", _DEFAULT_SECONDS),
            "boundObjectRef": spec.get("boundObjectRef"),
        },
        "status": {"token": token, "expirationTimestamp": stamp},
    }
