"""Pod addresses from the node's pod CIDR, and admission against the node's allocatable."""

from __future__ import annotations

import pytest

from minikube_py.kubelet.admission import admit, pod_requests
from minikube_py.kubelet.ipam import AddressesExhausted, PodAddresses


def test_addresses_start_at_2_and_are_reused_after_release() -> None:
    addresses = PodAddresses("127.244.1.0/24")
    assert addresses.allocate("a") == "127.244.1.2"
    assert addresses.allocate("b") == "127.244.1.3"
    assert addresses.allocate("a") == "127.244.1.2"  # the same pod keeps its address
    addresses.release("a")
    assert addresses.allocate("c") == "127.244.1.2"
    assert addresses.allocate("d", preferred="127.244.1.9") == "127.244.1.9"
    assert addresses.allocate("e", preferred="10.0.0.1") == "127.244.1.4"  # not in range


def test_a_full_range_says_so() -> None:
    addresses = PodAddresses("127.244.0.0/29")  # .2 to .6
    for index in range(5):
        addresses.allocate(str(index))
    with pytest.raises(AddressesExhausted, match="no IP addresses available in range set"):
        addresses.allocate("one too many")


def pod(cpu: str | None = None, memory: str | None = None, init_cpu: str | None = None) -> dict:
    def container(name: str, cpu: str | None, memory: str | None = None) -> dict:
        requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
        return {"name": name, "resources": {"requests": requests}}

    spec: dict = {"containers": [container("a", cpu, memory), container("b", cpu)]}
    if init_cpu:
        spec["initContainers"] = [container("i", init_cpu)]
    return {"spec": spec}


def test_requests_take_the_larger_of_app_sum_and_init_max() -> None:
    assert pod_requests(pod("250m", "1Gi")) == {"cpu": 500, "memory": 2**30}
    assert pod_requests(pod("250m", init_cpu="2")) == {"cpu": 2000, "memory": 0}


def test_admission_messages() -> None:
    allocatable = {"cpu": "2", "memory": "4Gi", "pods": "2"}
    assert admit(pod("500m"), [pod("500m")], allocatable) is None
    assert admit(pod("1"), [pod("500m")], allocatable) == (
        "OutOfcpu",
        "Node didn't have enough resource: cpu, requested: 2000, used: 1000, capacity: 2000",
    )
    assert admit(pod(memory="5Gi"), [], allocatable) == (
        "OutOfmemory",
        f"Node didn't have enough resource: memory, requested: {5 * 2**30}, used: 0, "
        f"capacity: {4 * 2**30}",
    )
    assert admit(pod(), [pod(), pod()], allocatable) == (
        "OutOfpods",
        "Node didn't have enough resource: pods, requested: 1, used: 2, capacity: 2",
    )
