"""A container's environment, and ``$(VAR)`` references in its env, command and args.

The kubelet builds each container's environment from the pod spec, in order:

- ``env`` entries with a literal ``value``; a value may refer to variables defined *earlier*
  in the list as ``$(NAME)`` (``$$(NAME)`` is an escaped, literal ``$(NAME)``; a reference to
  an undefined variable stays as written);
- the downward API: ``fieldRef`` (the pod's name, namespace, uid, one label or annotation,
  node name, service account, pod and host addresses) and ``resourceFieldRef`` (a container's
  cpu or memory request or limit, divided by ``divisor`` and rounded *up*, so ``limits.cpu``
  of ``250m`` reads ``1``; an unset limit reads the node's allocatable, as upstream);
- ``configMapKeyRef`` / ``secretKeyRef`` and ``envFrom``, through an ``EnvSource`` (the
  kubelet's is ``watched.ConfigObjects``, the node's cache). A missing object or key that is
  not ``optional`` is a ``ConfigError`` with upstream's words (``configmap "x" not found``,
  ``couldn't find key k in ConfigMap default/x``), which the kubelet reports as
  ``CreateContainerConfigError``. ``envFrom`` (with its ``prefix``) comes first, so ``env``
  overrides it; a key that is no valid variable name (``is_relaxed_env_var_name``: 1.32's
  relaxed rule) is skipped with upstream's ``InvalidEnvironmentVariableNames`` warning.

Service discovery variables (``service_env.py``: ``BACKEND_SERVICE_HOST`` … for the Services
of the pod's namespace, and the ``kubernetes`` Service's, which every pod gets so that a client
library in it finds the API server) come last and never override the container's own; a value
may refer to them as ``$(KUBERNETES_SERVICE_HOST)``. ``kubernetes_service_env`` gives the
``kubernetes`` Service's variables for an address of the kubelet's choosing.

``command`` and ``args`` are then expanded with the finished environment. Everything here is a
pure function of the pod and the values handed in, so it is tested without any cluster.
"""

from __future__ import annotations

import math
from collections import ChainMap
from collections.abc import Mapping
from typing import Any, Protocol

from minikube_py.api.quantities import QuantityError, parse_quantity
from minikube_py.api.validation_formats import is_relaxed_env_var_name

Object = dict[str, Any]


class ConfigError(Exception):
    """The environment cannot be built (a missing ConfigMap, key or Secret, a bad reference);
    the message is what the container's ``CreateContainerConfigError`` status says."""


class EnvSource(Protocol):
    """Where ``configMapKeyRef``, ``secretKeyRef`` and ``envFrom`` values come from."""

    async def config_map(self, namespace: str, name: str) -> Mapping[str, str] | None:
        """The ConfigMap's data (binaryData excluded), or None if there is no such object."""
        ...

    async def secret(self, namespace: str, name: str) -> Mapping[str, str] | None:
        """The Secret's data, decoded, or None if there is no such object."""
        ...


class NoEnvSource:
    """The seam's placeholder: ConfigMaps and Secrets are not readable yet (issue 8)."""

    async def config_map(self, namespace: str, name: str) -> Mapping[str, str] | None:
        raise ConfigError(f'configmap "{name}" not found')

    async def secret(self, namespace: str, name: str) -> Mapping[str, str] | None:
        raise ConfigError(f'secret "{name}" not found')


def expand(text: str, variables: Mapping[str, str]) -> str:
    """Expand ``$(NAME)`` in ``text`` as upstream's ``expansion.Expand`` does."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char != "$" or i + 1 >= n:
            out.append(char)
            i += 1
            continue
        following = text[i + 1]
        if following == "$":  # "$$" is an escaped "$"
            out.append("$")
            i += 2
        elif following == "(":
            close = text.find(")", i + 2)
            if close < 0:  # an unterminated reference is kept as written
                out.append("$(")
                i += 2
                continue
            name = text[i + 2 : close]
            out.append(variables.get(name, f"$({name})"))  # undefined: kept as written
            i = close + 1
        else:
            out.append("$" + following)
            i += 2
    return "".join(out)


def field_value(pod: Object, path: str, *, pod_ip: str, host_ip: str) -> str:
    """The downward API's ``fieldRef`` value for ``path``."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
    }
    if path in simple:
        return str(simple[path])
    for prefix, field in (("metadata.labels", "labels"), ("metadata.annotations", "annotations")):
        if path.startswith(prefix + "['") and path.endswith("']"):
            return str((meta.get(field) or {}).get(path[len(prefix) + 2 : -2], ""))
    raise ConfigError(f"unsupported fieldPath: {path}")


def resource_value(
    pod: Object, container_name: str, ref: Object, allocatable: Mapping[str, str]
) -> str:
    """The downward API's ``resourceFieldRef`` value: a request or limit over ``divisor``."""
    name = ref.get("containerName") or container_name
    containers = [*(pod["spec"].get("initContainers") or []), *pod["spec"]["containers"]]
    container = next((c for c in containers if c.get("name") == name), None)
    if container is None:
        raise ConfigError(f"container {name} not found")
    resource = str(ref.get("resource", ""))
    kind, _, quantity_name = resource.partition(".")
    if kind not in ("limits", "requests") or quantity_name not in (
        "cpu",
        "memory",
        "ephemeral-storage",
    ):
        raise ConfigError(f"unsupported container resource : {resource}")
    resources = container.get("resources") or {}
    amount = (resources.get(kind) or {}).get(quantity_name)
    if amount is None and kind == "limits":
        amount = allocatable.get(quantity_name)  # no limit: the node's allocatable is the cap
    try:
        value = parse_quantity(amount if amount is not None else 0)
        divisor = parse_quantity(ref.get("divisor") or 1)
    except QuantityError as error:
        raise ConfigError(str(error)) from None
    if divisor <= 0:
        raise ConfigError(f"invalid divisor for {resource}")
    scale = 1000 if quantity_name == "cpu" else 1  # upstream divides cpu in milli-units
    # Each side is rounded up to whole (milli-)units first, as Quantity.MilliValue/Value do.
    numerator, denominator = math.ceil(value * scale), math.ceil(divisor * scale)
    return str(-(-numerator // denominator))  # integer ceiling: bytes exceed float precision


async def environment(
    pod: Object,
    container: Object,
    *,
    pod_ip: str,
    host_ip: str,
    allocatable: Mapping[str, str],
    source: EnvSource,
    services: Mapping[str, str] | None = None,
    warnings: list[tuple[str, str]] | None = None,
) -> dict[str, str]:
    """The container's environment variables, in the order upstream builds them;
    ``services``: the service discovery variables (``service_env.pod_service_env``);
    ``warnings`` gets (reason, message) of the Events the kubelet should record."""
    namespace = (pod.get("metadata") or {}).get("namespace", "default")
    services = services or {}
    result: dict[str, str] = {}
    for item in container.get("envFrom") or []:
        result.update(await _env_from(namespace, item, source, warnings))
    for var in container.get("env") or []:
        name = var["name"]
        if "valueFrom" not in var or var.get("value"):
            result[name] = expand(str(var.get("value") or ""), ChainMap(result, dict(services)))
            continue
        value_from = var["valueFrom"] or {}
        if "fieldRef" in value_from:
            path = value_from["fieldRef"].get("fieldPath", "")
            result[name] = field_value(pod, path, pod_ip=pod_ip, host_ip=host_ip)
        elif "resourceFieldRef" in value_from:
            ref = value_from["resourceFieldRef"]
            result[name] = resource_value(pod, container["name"], ref, allocatable)
        elif "configMapKeyRef" in value_from or "secretKeyRef" in value_from:
            value = await _key_ref(namespace, value_from, source)
            if value is not None:
                result[name] = value
    for name, value in services.items():
        result.setdefault(name, value)  # the container's own definitions win
    return result


def kubernetes_service_env(host: str, port: int, service_port: int = 443) -> dict[str, str]:
    """The ``kubernetes`` Service's discovery variables pointing at ``host:port``.

    Upstream's values are the Service's ClusterIP and port (443), which ``service_env`` gives
    when the kubelet has no ``api_endpoint``. With one, these hold the API server's own
    address and port (a client then needs neither the service proxy nor a certificate for the
    ClusterIP), and only the names keep the Service's port."""
    url = f"tcp://{host}:{port}"
    prefix = f"KUBERNETES_PORT_{service_port}_TCP"
    return {
        "KUBERNETES_SERVICE_HOST": host,
        "KUBERNETES_SERVICE_PORT": str(port),
        "KUBERNETES_SERVICE_PORT_HTTPS": str(port),  # the Service's port is named "https"
        "KUBERNETES_PORT": url,
        prefix: url,
        f"{prefix}_PROTO": "tcp",
        f"{prefix}_PORT": str(port),
        f"{prefix}_ADDR": host,
    }


async def _env_from(
    namespace: str, item: Object, source: EnvSource, warnings: list[tuple[str, str]] | None
) -> dict[str, str]:
    prefix = item.get("prefix") or ""
    for field, kind, read in (
        ("configMapRef", "configmap", source.config_map),
        ("secretRef", "secret", source.secret),
    ):
        if field in item:
            ref = item[field] or {}
            name = ref.get("name", "")
            data = await read(namespace, name)
            if data is None:
                if ref.get("optional"):
                    return {}
                raise ConfigError(f'{kind} "{name}" not found')
            values = {prefix + key: value for key, value in data.items()}
            invalid = sorted(key for key in values if is_relaxed_env_var_name(key))
            if invalid and warnings is not None:
                warnings.append(
                    (
                        "InvalidEnvironmentVariableNames",
                        f"Keys [{', '.join(invalid)}] from the EnvFrom {kind} {namespace}/{name} "
                        "were skipped since they are considered invalid environment variable "
                        "names.",
                    )
                )
            return {key: value for key, value in values.items() if key not in invalid}
    return {}


async def _key_ref(namespace: str, value_from: Object, source: EnvSource) -> str | None:
    if "configMapKeyRef" in value_from:
        ref, kind, label = value_from["configMapKeyRef"], "configmap", "ConfigMap"
        data = await source.config_map(namespace, ref.get("name", ""))
    else:
        ref, kind, label = value_from["secretKeyRef"], "secret", "Secret"
        data = await source.secret(namespace, ref.get("name", ""))
    name, key = ref.get("name", ""), ref.get("key", "")
    if data is None:
        if ref.get("optional"):
            return None
        raise ConfigError(f'{kind} "{name}" not found')
    if key not in data:
        if ref.get("optional"):
            return None
        raise ConfigError(f"couldn't find key {key} in {label} {namespace}/{name}")
    return data[key]


def expand_command(container: Object, env: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """``command`` and ``args`` with ``$(VAR)`` expanded from the container's environment."""
    command = [expand(str(part), env) for part in container.get("command") or []]
    args = [expand(str(part), env) for part in container.get("args") or []]
    return command, args
