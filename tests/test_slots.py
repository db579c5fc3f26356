"""Address slots: clusters side by side take disjoint address plans, and give them back."""

from __future__ import annotations

import ipaddress
import itertools
from pathlib import Path

import pytest

from minikube_py.client import GVR
from minikube_py.cluster import running_cluster
from minikube_py.slots import SLOTS, NoFreeSlot, claimed_slot, plan_for_slot
from tests.clusters import ephemeral_config


@pytest.fixture(autouse=True)
def own_run_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a run directory of the test's own, so clusters elsewhere on the machine do not count
    monkeypatch.setenv("MINIKUBE_PY_RUN_DIR", str(tmp_path / "run"))


def test_slot_zero_is_the_design_plan() -> None:
    plan = plan_for_slot(0)
    assert plan.node_address(0) == "127.49.0.2" and plan.pod_cidr(1) == "127.244.1.0/24"
    assert plan.service_block == "127.96.0.0/16"


def test_every_block_of_every_slot_is_disjoint_from_every_other() -> None:
    blocks = [
        ipaddress.ip_network(block)
        for slot in range(SLOTS)
        for plan in [plan_for_slot(slot)]
        for block in (
            plan.node_block,
            plan.pod_block,
            plan.service_block,
            plan.load_balancer_block,
        )
    ]
    for a, b in itertools.combinations(blocks, 2):
        assert not a.overlaps(b), (a, b)
    with pytest.raises(ValueError, match="between 0 and"):
        plan_for_slot(SLOTS)


def test_claims_take_the_next_free_slot_and_release_it() -> None:
    with claimed_slot() as first, claimed_slot() as second:
        assert (first.slot, second.slot) == (0, 1)
    with claimed_slot() as again:
        assert again.slot == 0  # released when its holder ended


def test_when_every_slot_is_taken_the_error_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("minikube_py.slots.SLOTS", 2)
    with (
        claimed_slot(),
        claimed_slot(),
        pytest.raises(NoFreeSlot, match="all 2 address slots are taken"),
        claimed_slot(),
    ):
        pass


async def test_two_clusters_at_once_get_disjoint_addresses(tmp_path: Path) -> None:
    async with (
        running_cluster(ephemeral_config(tmp_path / "a")) as a,
        running_cluster(ephemeral_config(tmp_path / "b")) as b,
    ):
        assert {a.network.slot, b.network.slot} == {0, 1}
        for running in (a, b):
            node = await running.api_server.client("test").get(
                GVR("", "v1", "nodes"), None, "minikube"
            )
            assert node["spec"]["podCIDR"] == running.network.pod_cidr(0)
            assert node["status"]["addresses"][0]["address"] == running.network.node_address(0)
            kubernetes = await running.api_server.client("test").get(
                GVR("", "v1", "services"), "default", "kubernetes"
            )
            ip = ipaddress.ip_address(kubernetes["spec"]["clusterIP"])
            assert ip in ipaddress.ip_network(running.network.service_block)
