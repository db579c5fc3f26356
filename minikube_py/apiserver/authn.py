"""Authentication: who is making this request?

Kubernetes has no user database. Every request proves an identity on its own, and the API
server asks its authenticators in turn, as upstream's union authenticator does:

1. **Client certificate.** A certificate the TLS handshake verified against the cluster CA
   (``pki.py``) names the user in its Common Name and the groups in its Organizations:
   ``CN=minikube-user, O=system:masters`` is the admin. The TLS layer has already checked the
   signature and dates, so here it is only read.
2. **Bearer token.** ``Authorization: Bearer <token>`` is looked up in a static table (like
   ``--token-auth-file``) and then handed to ``token_reviewer``, the seam where service-account
   tokens plug in. A token nobody recognises is a failure (401), not a fall-back to anonymous:
   a client that sent a credential expects it to count.
3. **Anonymous.** With no credential at all the request runs as ``system:anonymous`` in group
   ``system:unauthenticated``, which may only read the public paths (``/version``, the health
   checks), as upstream's ``system:public-info-viewer`` role allows.

Every authenticated user is also in ``system:authenticated``. Authorization is deliberately
simple for now: any authenticated user may do anything (``is_allowed``); RBAC comes later and
will replace that function, not this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
from aiohttp import web

AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
PUBLIC_PATHS = ("/version", "/healthz", "/livez", "/readyz")


@attrs.frozen
class UserInfo:
    """An authenticated identity, as Kubernetes' ``user.Info``."""

    name: str
    groups: tuple[str, ...]
    uid: str = ""


ANONYMOUS = UserInfo(name="system:anonymous", groups=(UNAUTHENTICATED,))

TokenReviewer = Callable[[str], UserInfo | None]


def is_public(path: str) -> bool:
    """Whether anonymous requests may read ``path``: ``/version``, ``/healthz/etcd``, …"""
    path = path.split("?", 1)[0]
    return any(path == public or path.startswith(public + "/") for public in PUBLIC_PATHS)


def is_allowed(user: UserInfo, path: str) -> bool:
    """The authorizer until RBAC arrives: anonymous only on public paths, everyone else anywhere.

    A request that is not allowed gets 403 Forbidden (its identity is known, it lacks the
    right), unlike a failed authentication, which gets 401 Unauthorized.
    """
    return user != ANONYMOUS or is_public(path)


class Authenticator:
    """Maps a request's TLS peer certificate and ``Authorization`` header to a ``UserInfo``."""

    def __init__(self, *, token_reviewer: TokenReviewer | None = None) -> None:
        self._tokens: dict[str, UserInfo] = {}
        self.token_reviewer = token_reviewer

    def add_token(self, token: str, user: UserInfo) -> None:
        """Accept ``Authorization: Bearer <token>`` as ``user`` (a static token, never expiring)."""
        if not token or any(c.isspace() for c in token):
            raise ValueError("a bearer token is non-empty and has no white space")
        self._tokens[token] = user

    def remove_token(self, token: str) -> None:
        self._tokens.pop(token, None)

    def authenticate(
        self,
        peer_certificate: Mapping[str, Any] | None,
        authorization_header: str | None,
    ) -> UserInfo | None:
        """The requester, ``ANONYMOUS`` without credentials, or None for bad ones (401).

        ``peer_certificate`` is what ``ssl.SSLSocket.getpeercert()`` returns: None or an empty
        dict when the client sent no certificate (or it was not verified), else its fields.
        """
        if peer_certificate:
            user = _user_from_certificate(peer_certificate)
            if user is not None:
                # Upstream asks the certificate first: a valid one wins over any token.
                return user
        token = _bearer_token(authorization_header)
        if token is None:
            return ANONYMOUS
        user = self._tokens.get(token)
        if user is None and self.token_reviewer is not None:
            user = self.token_reviewer(token)
        return None if user is None else _with_authenticated(user)

    def authenticate_request(self, request: web.Request) -> UserInfo | None:
        """``authenticate`` for an aiohttp request."""
        return self.authenticate(peer_certificate(request), request.headers.get("Authorization"))


def peer_certificate(request: web.Request) -> dict[str, Any] | None:
    """The verified client certificate of ``request``'s TLS connection, if it presented one."""
    transport = request.transport
    if transport is None:  # the connection is already gone
        return None
    # asyncio's SSL transport answers "peercert" with SSLObject.getpeercert(); plain TCP: None.
    certificate: dict[str, Any] | None = transport.get_extra_info("peercert")
    return certificate or None


def _user_from_certificate(certificate: Mapping[str, Any]) -> UserInfo | None:
    # The subject is a tuple of relative distinguished names, each a tuple of (field, value)
    # pairs: ((("organizationName", "system:masters"),), (("commonName", "minikube-user"),)).
    names: list[str] = []
    groups: list[str] = []
    for rdn in certificate.get("subject", ()):
        for field, value in rdn:
            if field == "commonName":
                names.append(value)
            elif field == "organizationName":
                groups.append(value)
    if not names or not names[-1]:
        return None
    # Go's pkix.Name keeps the last CN when there are several; so does the real API server.
    return _with_authenticated(UserInfo(name=names[-1], groups=tuple(groups)))


def _bearer_token(header: str | None) -> str | None:
    """The token of ``Bearer <token>``; None for no header or another scheme (as upstream)."""
    parts = (header or "").strip().split(" ")
    if len(parts) < 2 or parts[0].lower() != "bearer":
        return None
    # Upstream treats an empty token ("Bearer  x") as no attempt at all, so anonymous.
    return parts[1] or None


def _with_authenticated(user: UserInfo) -> UserInfo:
    if AUTHENTICATED in user.groups:
        return user
    return attrs.evolve(user, groups=(*user.groups, AUTHENTICATED))
