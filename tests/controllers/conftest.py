"""Fixtures for the controller tests: a real in-process API server, and a stepping clock.

``client`` is the API server's storage and watch cache behind an in-process client (as in
``tests/kubelet/conftest.py``), with the bootstrap namespaces and nothing running on it: no
scheduler, no kubelet, no controllers but the ones a test starts. ``clock`` is a
``SteppingClock`` (``tests/controllers/stepping.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from minikube_py.client import Client
from tests.clusters import in_process_client
from tests.controllers.stepping import SteppingClock


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    async with in_process_client() as made:
        yield made


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()
