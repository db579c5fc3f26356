"""A pod's sandbox on its node: its address, its directory, its volumes and its host ports.

Upstream the kubelet asks the container runtime for a *pod sandbox* before it starts any of the
pod's containers: the network namespace with the pod's IP address (the CNI plugins, ``portmap``
for host ports among them) and the pause container holding it open. The containers then join
it; when the pod ends the sandbox is torn down and the address goes back to the node's range.
Here a sandbox is the pod's address from the node's range (``ipam``; the node's own for a
``hostNetwork`` pod), its directory (``SandboxConfig.directory``, where container roots, logs
and volumes live), its ``emptyDir`` volumes (``volumes``) and its host-port relays
(``hostports``). Anything that fails undoes what was done and is reported as upstream's
``FailedCreatePodSandBox`` Event; the worker retries after a back-off.

A pod that ended but still exists keeps its sandbox's directory — the logs ``kubectl logs``
reads — until it is deleted, as upstream keeps exited containers until then
(``ended_sandbox``).
"""

from __future__ import annotations

import contextlib

from minikube_py.kubelet.hostports import HostPortError, mappings
from minikube_py.kubelet.ipam import AddressesExhausted
from minikube_py.kubelet.projected import VolumeError
from minikube_py.kubelet.starting import ContainerStarter
from minikube_py.logs import get_logger
from minikube_py.runtime.protocol import ContainerError, SandboxConfig

_log = get_logger("kubelet")


class SandboxKeeper(ContainerStarter):
    """The sandbox half of a pod worker (see ``podworker.PodWorker``)."""

    ended_sandbox: str | None = None  # torn down, its logs kept until the pod goes

    async def _create_sandbox(self) -> bool:
        """Make the pod's sandbox; False (and an Event) if it cannot be had now."""
        meta, spec = self.pod["metadata"], self.pod.get("spec") or {}
        address = self.ctx.node.address
        try:
            if not spec.get("hostNetwork"):
                preferred = (self.pod.get("status") or {}).get("podIP")
                address = self.ctx.addresses.allocate(self.uid, preferred)
            config = SandboxConfig(
                uid=self.uid,
                namespace=meta.get("namespace", "default"),
                name=meta["name"],
                ip=address,
                hostname=spec.get("hostname") or meta["name"],
                directory=self.ctx.directory / "pods" / self.uid,
            )
            self.sandbox = await self.ctx.runtime.create_sandbox(config)
            if spec.get("volumes"):  # no thread hop on the pod-start path when there are none
                self.volumes = await self.ctx.volumes.prepare(self.pod, config.directory)
            if wanted := mappings(self.pod):
                await self.ctx.host_ports.open(self.uid, address, wanted)
                ports = [f"{self.ctx.node.address}:{m.host_port}" for m in wanted]
                _log.info("host ports open", pod=self.key, ports=ports)
        except (AddressesExhausted, ContainerError, HostPortError, OSError, VolumeError) as error:
            if self.sandbox is not None:
                with contextlib.suppress(ContainerError):
                    await self.ctx.runtime.remove_sandbox(self.sandbox)
                self.sandbox = None
            self.ctx.addresses.release(self.uid)
            self.ctx.volumes.release(self.uid)
            if isinstance(error, VolumeError):  # upstream's volume manager reports these
                await self.event("FailedMount", str(error), warning=True)
                return False
            message = f"Failed to create pod sandbox: {error}"
            await self.event("FailedCreatePodSandBox", message, warning=True)
            return False
        self.pod_ip = address
        return True

    async def _teardown(self, *, keep_logs: bool = False) -> None:
        """Remove the pod's containers and sandbox and give its address back. ``keep_logs``: the
        pod ended but still exists, so the sandbox's directory (the logs `kubectl logs` reads)
        stays until it is deleted, as upstream keeps exited containers until then."""
        self.cancel_tasks()
        await self.ctx.host_ports.close(self.uid)
        for record in self.records:
            for instance in (record.previous, record.current):
                if instance is not None:
                    with contextlib.suppress(ContainerError):
                        await self.ctx.runtime.remove_container(instance)
        if self.sandbox is not None:
            self.ended_sandbox, self.sandbox = self.sandbox, None
        if self.ended_sandbox is not None and not keep_logs:
            with contextlib.suppress(ContainerError):
                await self.ctx.runtime.remove_sandbox(self.ended_sandbox)
            self.ended_sandbox = None
        self.ctx.addresses.release(self.uid)
        self.ctx.volumes.release(self.uid)
