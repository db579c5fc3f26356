"""Fixtures for the controller tests: a real in-process API server, and a stepping clock.

``client`` is the API server's storage and watch cache behind an in-process client (as in
``tests/kubelet/conftest.py``), with the bootstrap namespaces and nothing running on it: no
scheduler, no kubelet, no controllers but the ones a test starts. ``clock`` is a
``SteppingClock`` (``tests/controllers/stepping.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from minikube_py.api.catalog import builtin_registry
from minikube_py.apiserver.bootstrap import bootstrap
from minikube_py.apiserver.local import LocalBackend
from minikube_py.apiserver.storage import Storage
from minikube_py.apiserver.watchcache import WatchCache
from minikube_py.client import Client
from minikube_py.store import open_store
from tests.controllers.stepping import SteppingClock


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    store = await open_store("sqlite://")
    cache = WatchCache(store)
    try:
        storage = Storage(store, builtin_registry())
        storage.track_namespaces(cache)
        await cache.start()
        await bootstrap(storage, host="127.0.0.1", port=8443)
        made = LocalBackend(storage, cache).client()
        try:
            yield made
        finally:
            await made.close()
    finally:
        await cache.stop()
        await store.close()


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()
