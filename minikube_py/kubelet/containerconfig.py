"""A container's configuration as the runtime wants it, assembled from the pod spec.

Before the kubelet creates a container (``starting.py``) it works out everything the runtime
needs (upstream's ``generateContainerConfig``):

- the environment (``environment.py``): ``envFrom``, ``env`` with ``valueFrom`` (ConfigMaps
  and Secrets from the node's cache, the downward API), then the Services' discovery variables
  (``service_env.py``) — values fixed at start: a running container never sees them change;
- ``command`` and ``args`` with ``$(VAR)`` expanded;
- the resolver file and the start-up hook's DNS variables (``dns.py``), once per pod;
- the mounts (``mounts.py``): ``volumeMounts`` over the pod's prepared volumes, ``subPath``
  and ``subPathExpr`` resolved safely;
- the memory limit.

Anything missing or wrong raises ``ConfigError``: the container waits in
``CreateContainerConfigError`` with its message, and starts once the kubelet is woken (a
ConfigMap or Secret it waits for appears) or its retry comes. Warnings found on the way
(``InvalidEnvironmentVariableNames``) are Events. ``ContainerConfigs`` is the base of the pod
worker's container half; it holds what a worker knows about its pod.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from minikube_py.api.quantities import QuantityError, value
from minikube_py.kubelet.claimvolumes import read_only_claims
from minikube_py.kubelet.configvolumes import config_volume_names
from minikube_py.kubelet.context import NodeContext
from minikube_py.kubelet.dns import hook_env, pod_resolver
from minikube_py.kubelet.environment import (
    ConfigError,
    environment,
    expand_command,
    kubernetes_service_env,
)
from minikube_py.kubelet.mounts import container_mounts
from minikube_py.kubelet.records import ContainerRecord
from minikube_py.kubelet.service_env import pod_service_env
from minikube_py.runtime.protocol import ContainerConfig, Mount

Object = dict[str, Any]
SERVICES_SYNC_TIMEOUT = 5.0  # how long a container start waits for the Service informer


class ContainerConfigs:
    """A pod worker's knowledge of its pod, and the containers' configurations."""

    def __init__(
        self,
        ctx: NodeContext,
        pod: Object,
        init: list[ContainerRecord],
        app: list[ContainerRecord],
    ) -> None:
        self.ctx = ctx
        self.pod = pod
        self.uid = str(pod["metadata"]["uid"])
        self.init = init
        self.app = app
        self.sandbox: str | None = None
        self.pod_ip: str | None = None
        self.volumes: dict[str, Path] = {}  # volume name → its directory (volumes.py)
        self.resolver: tuple[str, dict[str, str]] | None = None  # resolv.conf, hook variables

    @property
    def records(self) -> list[ContainerRecord]:
        return [*self.init, *self.app]

    @property
    def key(self) -> str:
        meta = self.pod["metadata"]
        return f"{meta.get('namespace')}/{meta['name']}"

    @property
    def pod_ref(self) -> str:
        """``name_namespace(uid)``, upstream's ``format.Pod``."""
        meta = self.pod["metadata"]
        return f"{meta['name']}_{meta.get('namespace')}({self.uid})"

    def wake(self) -> None:  # overridden by the worker
        raise NotImplementedError

    async def event(
        self,
        reason: str,
        message: str,
        *,
        warning: bool = False,
        record: ContainerRecord | None = None,
    ) -> None:
        field_path = ""
        if record is not None:
            field_path = (
                f"spec.{'initContainers' if record.init else 'containers'}{{{record.name}}}"
            )
        await self.ctx.recorder.record(
            self.pod, reason=reason, message=message, warning=warning, field_path=field_path
        )

    async def _service_env(self) -> dict[str, str]:
        """The Services' discovery variables (``service_env``) as this container starts."""
        endpoint = self.ctx.api_endpoint
        overrides = {"kubernetes": kubernetes_service_env(*endpoint)} if endpoint else {}
        informer = self.ctx.services
        if informer is None:
            return overrides.get("kubernetes", {})
        if not informer.has_synced:
            try:
                async with asyncio.timeout(SERVICES_SYNC_TIMEOUT):
                    await informer.wait_synced()
            except TimeoutError:  # upstream's words; the kubelet retries after a back-off
                raise ConfigError(
                    "services have not yet been read at least once, cannot construct envvars"
                ) from None
        namespace = str(self.pod["metadata"].get("namespace") or "default")
        services = informer.by_namespace(namespace)
        if namespace != "default":
            services = [*services, *informer.by_namespace("default")]
        return pod_service_env(self.pod, services, overrides)

    async def _resolver(self) -> tuple[str | None, dict[str, str]]:
        """The pod's /etc/resolv.conf and the start-up hook's DNS variables (``dns.py``);
        worked out once per pod, with its ``DNSConfigForming`` / ``MissingClusterDNS``
        warnings recorded then."""
        networking = self.ctx.networking
        if networking is None:
            return None, {}
        if self.resolver is None:
            config, warnings = pod_resolver(self.pod, networking, self.ctx.host_resolver)
            self.resolver = (config.text(), hook_env(config, networking))
            for reason, message in warnings:
                await self.event(reason, message, warning=True)
        return self.resolver

    async def _config(self, record: ContainerRecord) -> ContainerConfig:
        spec = record.spec
        warnings: list[tuple[str, str]] = []
        env = await environment(
            self.pod,
            spec,
            pod_ip=self.pod_ip or "",
            host_ip=self.ctx.node.address,
            allocatable=self.ctx.allocatable,
            source=self.ctx.env_source,
            services=await self._service_env(),
            warnings=warnings,
        )
        for reason, message in warnings:
            await self.event(reason, message, warning=True)
        resolv_conf, hook = await self._resolver()
        for name, setting in hook.items():
            env.setdefault(name, setting)  # after expansion: $(MINIKUBE_PY_DNS) is not a var
        command, args = expand_command(spec, env)
        limit = ((spec.get("resources") or {}).get("limits") or {}).get("memory")
        try:
            memory_limit = value(limit) if limit is not None else None
        except QuantityError as error:
            raise ConfigError(str(error)) from None
        return ContainerConfig(
            name=record.name,
            image=str(spec.get("image", "")),
            command=command,
            args=args,
            env=env,
            working_dir=spec.get("workingDir") or None,
            stdin=bool(spec.get("stdin")),
            stdin_once=bool(spec.get("stdinOnce")),
            tty=bool(spec.get("tty")),
            memory_limit=memory_limit,
            termination_message_path=spec.get("terminationMessagePath") or "/dev/termination-log",
            mounts=await self._mounts(spec, env),
            attempt=record.runs,
            resolv_conf=resolv_conf,
        )

    async def _mounts(self, spec: Object, env: dict[str, str]) -> list[Mount]:
        """The container's mounts; in a thread when a sub-path must be made or copied."""
        read_only = read_only_claims(self.pod)
        config = config_volume_names(self.pod)
        directory = self.ctx.directory / "pods" / self.uid
        mounts = spec.get("volumeMounts") or []
        if not any(m.get("subPath") or m.get("subPathExpr") for m in mounts):
            return container_mounts(spec, self.volumes, read_only, config_volumes=config)
        return await asyncio.to_thread(
            container_mounts,
            spec,
            self.volumes,
            read_only,
            env=env,
            config_volumes=config,
            pod_directory=directory,
        )
