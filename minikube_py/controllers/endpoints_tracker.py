"""Knowing our own EndpointSlice writes: a stale cache, and changes made by someone else.

The EndpointSlice controller plans from its informer cache, and a slice it just created may
not be in that cache yet when the Service's next sync runs; planning then would create the
slice a second time. So, like upstream's ``EndpointSliceTracker``
(``k8s.io/endpointslice/util``), the controller notes the version of each slice it wrote, per
Service, and the slices it deleted:

- ``stale(key, slices)``: the cache lacks a slice we wrote, holds an older version of one, or
  still holds one we deleted — the sync waits for the cache rather than act on it;
- ``should_sync(key, slice)``: a slice event that is not the echo of our own write (someone
  edited or made it) — the Service is synced to put it right;
- ``deleted(key, slice)``: whether a slice's deletion was ours (no sync needed).

Upstream compares ``metadata.generation``; versions (``resourceVersion``, which the store
orders) serve the same purpose here and need nothing from the API server.
"""

from __future__ import annotations

from minikube_py.client.protocol import Object

_DELETED = -1  # the version noted for a slice we deleted


def _uid(endpoint_slice: Object) -> str:
    return str((endpoint_slice.get("metadata") or {}).get("uid") or "")


def _version(endpoint_slice: Object) -> int:
    text = (endpoint_slice.get("metadata") or {}).get("resourceVersion") or 0
    try:
        return int(text)
    except ValueError:
        return 0


class SliceTracker:
    """Per Service key: ``{slice uid: the version we wrote, or _DELETED}``."""

    def __init__(self) -> None:
        self._versions: dict[str, dict[str, int]] = {}

    def wrote(self, key: str, endpoint_slice: Object) -> None:
        self._versions.setdefault(key, {})[_uid(endpoint_slice)] = _version(endpoint_slice)

    def deleting(self, key: str, endpoint_slice: Object) -> None:
        self._versions.setdefault(key, {})[_uid(endpoint_slice)] = _DELETED

    def has(self, key: str, endpoint_slice: Object) -> bool:
        return _uid(endpoint_slice) in self._versions.get(key, {})

    def should_sync(self, key: str, endpoint_slice: Object) -> bool:
        """Whether this version of the slice is news to us (not our own write's echo)."""
        versions = self._versions.get(key)
        if versions is None:
            return True
        noted = versions.get(_uid(endpoint_slice))
        return noted is None or _version(endpoint_slice) > noted

    def deleted(self, key: str, endpoint_slice: Object) -> bool:
        """Forget a slice that is gone; whether we were the ones who deleted it."""
        return self._versions.get(key, {}).pop(_uid(endpoint_slice), None) == _DELETED

    def stale(self, key: str, slices: list[Object]) -> bool:
        """Whether the cached ``slices`` of the Service miss any write of ours."""
        versions = self._versions.get(key)
        if not versions:
            return False
        cached = {_uid(s): _version(s) for s in slices}
        for uid, noted in versions.items():
            if noted == _DELETED:
                if uid in cached:
                    return True
            elif uid not in cached or cached[uid] < noted:
                return True
        return False

    def forget(self, key: str) -> None:
        """The Service is gone; its slices go with it (the garbage collector's work)."""
        self._versions.pop(key, None)
