"""What a kubelet reports about the machine it runs on: capacity, identity, and pressure.

A real kubelet asks cAdvisor how many CPUs and how much memory and disk its machine has, and
publishes them as the Node's ``capacity`` (and ``allocatable``: capacity less reservations;
minikube reserves nothing, so the two are equal there and here). It reads the machine's
identity (``/etc/machine-id``, the boot id, the kernel and OS release) into ``nodeInfo``, and
watches free memory, disk and process ids against its *eviction thresholds* to set the
``MemoryPressure``, ``DiskPressure`` and ``PIDPressure`` conditions.

Every node of a minikube_py cluster runs on the same machine, so ids that must differ per
node (``machineID``, ``systemUUID``, ``bootID``) are derived from the machine's own and the
node's name: stable across restarts, distinct between nodes. Capacity is the machine's
(psutil) unless the ``NodeConfig`` sets cpu, memory or ephemeral-storage.
"""

from __future__ import annotations

import os
import platform
import uuid
from pathlib import Path

import attrs
import psutil

import minikube_py
from minikube_py.api.quantities import value
from minikube_py.config import NodeConfig

KUBELET_VERSION = "v1.32.0"
_ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
_BINARY_SUFFIXES = (("Ei", 60), ("Pi", 50), ("Ti", 40), ("Gi", 30), ("Mi", 20), ("Ki", 10))


def architecture() -> str:
    """The machine's architecture in Go's words (``amd64``, ``arm64``)."""
    machine = platform.machine().lower()
    return _ARCHITECTURES.get(machine, machine)


def binary_quantity(amount: int) -> str:
    """``amount`` bytes as Kubernetes prints a binary-SI quantity: ``0``, ``2Mi``, ``1Gi``."""
    for suffix, shift in _BINARY_SUFFIXES:
        if amount and amount % (1 << shift) == 0:
            return f"{amount >> shift}{suffix}"
    return str(amount)


def _kibibytes(amount: int) -> str:
    """Memory and disk as the kubelet reports them: a whole number of ``Ki``."""
    return f"{amount // 1024}Ki"


def hugepages() -> dict[str, str]:
    """``hugepages-<size>`` for each huge page size the kernel offers (their total size)."""
    pages: dict[str, str] = {}
    root = Path("/sys/kernel/mm/hugepages")
    for entry in sorted(root.glob("hugepages-*kB")) if root.is_dir() else ():
        size = int(entry.name.removeprefix("hugepages-").removesuffix("kB")) * 1024
        try:
            count = int((entry / "nr_hugepages").read_text())
        except (OSError, ValueError):
            count = 0
        pages[f"hugepages-{binary_quantity(size)}"] = binary_quantity(size * count)
    return pages


def capacity(node: NodeConfig, state_dir: Path) -> dict[str, str]:
    """The node's ``capacity``: configured values where set, else the machine's."""
    cpu = node.cpu or str(len(os.sched_getaffinity(0)) or os.cpu_count() or 1)
    memory = value(node.memory) if node.memory else psutil.virtual_memory().total
    if node.ephemeral_storage:
        storage = value(node.ephemeral_storage)
    else:
        disk = os.statvfs(state_dir)
        storage = disk.f_blocks * disk.f_frsize
    return {
        "cpu": cpu,
        "ephemeral-storage": _kibibytes(storage),
        **hugepages(),
        "memory": _kibibytes(memory),
        "pods": str(node.pods),
    }


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def os_image() -> str:
    """``PRETTY_NAME`` from ``/etc/os-release``, as the kubelet reports ``osImage``."""
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return "Linux"


def node_info(node_name: str) -> dict[str, str]:
    """``status.nodeInfo``: versions, OS and the node's ids."""
    machine = _read("/etc/machine-id") or _read("/var/lib/dbus/machine-id") or platform.node()
    boot = _read("/proc/sys/kernel/random/boot_id") or machine
    namespace = uuid.uuid5(uuid.NAMESPACE_OID, f"minikube-py/{machine}")
    return {
        "architecture": architecture(),
        "bootID": str(uuid.uuid5(namespace, f"{boot}/{node_name}")),
        "containerRuntimeVersion": f"minikube-py://{minikube_py.__version__}",
        "kernelVersion": platform.release(),
        "kubeProxyVersion": KUBELET_VERSION,
        "kubeletVersion": KUBELET_VERSION,
        "machineID": uuid.uuid5(namespace, f"machine/{node_name}").hex,
        "operatingSystem": "linux",
        "osImage": os_image(),
        "systemUUID": str(uuid.uuid5(namespace, f"system/{node_name}")),
    }


@attrs.frozen
class EvictionThresholds:
    """When a resource counts as under pressure: upstream's default hard eviction thresholds
    on Linux (``memory.available<100Mi``, ``nodefs.available<10%``,
    ``nodefs.inodesFree<5%``); upstream sets no PID threshold by default, nor do we."""

    memory_available: int = 100 * 1024 * 1024
    nodefs_available: float = 0.10
    nodefs_inodes_free: float = 0.05
    pid_available: float | None = None  # a fraction of pid_max, if set


@attrs.frozen
class Pressure:
    memory: bool
    disk: bool
    pid: bool


def pressure(state_dir: Path, thresholds: EvictionThresholds) -> Pressure:
    """Which resources are below their thresholds right now."""
    memory = psutil.virtual_memory().available < thresholds.memory_available
    disk = os.statvfs(state_dir)
    space = disk.f_bavail / disk.f_blocks if disk.f_blocks else 1.0
    inodes = disk.f_favail / disk.f_files if disk.f_files else 1.0
    disk_pressure = space < thresholds.nodefs_available or inodes < thresholds.nodefs_inodes_free
    pid = False
    if thresholds.pid_available is not None:
        pid_max = int(_read("/proc/sys/kernel/pid_max") or 32768)
        pid = (pid_max - len(psutil.pids())) / pid_max < thresholds.pid_available
    return Pressure(memory=memory, disk=disk_pressure, pid=pid)
