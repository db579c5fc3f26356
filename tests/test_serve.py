"""``serve`` refuses a state directory another cluster is using."""

from __future__ import annotations

from pathlib import Path

import pytest

from minikube_py.cluster import ClusterError, running_cluster
from tests.clusters import ephemeral_config


async def test_a_second_cluster_on_one_state_directory_is_refused(tmp_path: Path) -> None:
    config = ephemeral_config(tmp_path)
    async with running_cluster(config) as cluster:
        assert cluster.url.startswith("https://127.0.0.1:")
        with pytest.raises(ClusterError, match="is in use by minikube-py"):
            async with running_cluster(config):
                pass
    async with running_cluster(config):  # released on exit
        pass
