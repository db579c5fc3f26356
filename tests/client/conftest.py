"""A real cluster per test, and each kind of client talking to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from minikube_py.client import Client, HttpClient
from tests.client.helpers import in_process_client
from tests.clusters import ephemeral_config

if TYPE_CHECKING:
    from minikube_py.cluster import RunningCluster


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[RunningCluster]:
    import attrs

    from minikube_py.cluster import running_cluster
    from minikube_py.config import ControllerSettings

    # These tests watch and count the ConfigMaps of `default` and `kube-public` (the publisher
    # of `kube-root-ca.crt` would add one to each at a moment of its choosing) and write
    # Deployments' status by hand (their controller would race them to it).
    controllers = ControllerSettings(("*", "-root-ca-cert-publisher", "-deployment"))
    config = attrs.evolve(ephemeral_config(tmp_path), controllers=controllers)
    async with running_cluster(config) as running:
        yield running


@pytest.fixture(params=["inprocess", "http"])
async def client(request: pytest.FixtureRequest, cluster: RunningCluster) -> AsyncIterator[Client]:
    """Each test using it runs once per client: the two must behave the same."""
    made: Client
    if request.param == "inprocess":
        made = in_process_client(cluster)
    else:
        assert cluster.kubeconfig is not None
        made = HttpClient.from_kubeconfig(cluster.kubeconfig)
    try:
        yield made
    finally:
        await made.close()
