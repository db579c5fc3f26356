"""The kubelet's token manager: service-account tokens for its pods, fetched and kept fresh.

A pod's service-account volume holds a *bound* token: the kubelet asks the API server for it
through the TokenRequest API (``POST …/serviceaccounts/<account>/token``) with the pod named in
``boundObjectRef``, so the token is the pod's and no one else's. Tokens expire, so the kubelet
fetches a new one before that: upstream's token manager (``pkg/kubelet/token``) renews a token
once 80 % of its lifetime has passed, or after 24 hours, whichever comes first, and until then
hands out the one it has. ``TokenManager`` is that, with its time from the node's ``Clock``
(so tests step over an hour without waiting one): ``get`` answers from the cache unless the
token is due, ``refresh_at`` says when it will be, ``forget`` drops a pod's tokens when it goes.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from minikube_py.client.protocol import SERVICE_ACCOUNTS, Client, Object
from minikube_py.clock import Clock

REFRESH_FRACTION = 0.8  # renew once this much of the lifetime has passed
MAX_TTL = 24 * 3600.0  # and at least daily, however long the token lives


@attrs.frozen
class Token:
    """A token, and when (on the node's clock) it was fetched and must be renewed."""

    token: str
    fetched_at: float
    lifetime: float

    @property
    def refresh_at(self) -> float:
        return self.fetched_at + min(self.lifetime * REFRESH_FRACTION, MAX_TTL)


TokenKey = tuple[str, str, tuple[str, ...], int, str]  # namespace, account, audiences, s, uid


class TokenManager:
    """Bound service-account tokens per pod, renewed when due."""

    def __init__(self, client: Client, clock: Clock) -> None:
        self.client = client
        self.clock = clock
        # by pod uid first: a node's pods each ask when their own tokens are due
        self._tokens: dict[str, dict[TokenKey, Token]] = {}

    async def get(
        self, pod: Object, account: str, *, seconds: int, audiences: Sequence[str] = ()
    ) -> Token:
        """The pod's token for ``account``: the cached one unless it is due for renewal."""
        meta = pod["metadata"]
        uid = str(meta.get("uid", ""))
        key = (str(meta.get("namespace", "")), account, tuple(audiences), seconds, uid)
        cached = self._tokens.get(uid, {}).get(key)
        if cached is not None and self.clock.now() < cached.refresh_at:
            return cached
        request: Object = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "metadata": {"name": account, "namespace": key[0]},
            "spec": {
                "audiences": list(audiences) or None,
                "expirationSeconds": seconds,
                "boundObjectRef": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "name": meta.get("name", ""),
                    "uid": uid,
                },
            },
        }
        if not audiences:
            del request["spec"]["audiences"]  # the API server's own audience
        fetched_at = self.clock.now()
        answer = await self.client.create(SERVICE_ACCOUNTS, key[0], request, subresource="token")
        granted = (answer.get("spec") or {}).get("expirationSeconds") or seconds
        token = Token(str(answer["status"]["token"]), fetched_at, float(granted))
        self._tokens.setdefault(uid, {})[key] = token
        return token

    def refresh_at(self, pod_uid: str) -> float | None:
        """When the first of the pod's tokens is due for renewal (None: it has none)."""
        tokens = self._tokens.get(pod_uid, {})
        return min((token.refresh_at for token in tokens.values()), default=None)

    def forget(self, pod_uid: str) -> None:
        self._tokens.pop(pod_uid, None)
