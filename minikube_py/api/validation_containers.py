"""Validation of the containers in a pod spec.

Each container needs a name (a DNS label, unique among the pod's containers and init
containers) and an image; its ports must be numbers in 1-65535 with a supported protocol; its
environment variables need names and at most one source each; its volume mounts must name a
volume the pod declares, at distinct paths; its pull and termination-message policies must be
known values. These are the mistakes people make most when writing a manifest by hand, so the
field paths and wording follow ``pkg/apis/core/validation`` of Kubernetes 1.32 exactly.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.errors import Cause
from minikube_py.api.validation_causes import (
    duplicate,
    has,
    invalid,
    is_int,
    items,
    mapping,
    not_found,
    not_supported,
    required,
    text,
)
from minikube_py.api.validation_formats import (
    is_config_map_key,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_port_name,
    is_port_number,
    is_relaxed_env_var_name,
)
from minikube_py.api.validation_paths import mount_path_causes

PROTOCOLS = ["SCTP", "TCP", "UDP"]
PULL_POLICIES = ["Always", "IfNotPresent", "Never"]
_ENV_FIELD_PATHS = (
    "metadata.name metadata.namespace metadata.uid spec.nodeName spec.serviceAccountName "
    "status.hostIP status.hostIPs status.podIP status.podIPs"
)
ENV_FIELD_PATHS = _ENV_FIELD_PATHS.split()
_ENV_SOURCES = ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef")


def dns_label(value: str, path: str) -> list[Cause]:
    return [invalid(path, value, msg) for msg in is_dns1123_label(value)]


def choice(value: str, path: str, supported: list[str]) -> list[Cause]:
    """A field with a fixed set of values: Required when empty, else NotSupported."""
    if not value:
        return [required(path)]
    return [] if value in supported else [not_supported(path, value, supported)]


def _validate_ports(ports: list[Any], path: str) -> list[Cause]:
    causes: list[Cause] = []
    names: set[str] = set()
    for index, port in enumerate(ports):
        at, name = f"{path}[{index}]", text(port, "name")
        fields = port if isinstance(port, dict) else {}
        if name and (errors := is_port_name(name)):
            causes += [invalid(f"{at}.name", name, msg) for msg in errors]
        elif name in names:
            causes.append(duplicate(f"{at}.name", name))
        elif name:
            names.add(name)
        number = fields.get("containerPort")
        if not number:
            causes.append(required(f"{at}.containerPort"))
        elif is_int(number):
            causes += [invalid(f"{at}.containerPort", number, m) for m in is_port_number(number)]
        host = fields.get("hostPort")
        if is_int(host) and host != 0:
            causes += [invalid(f"{at}.hostPort", host, msg) for msg in is_port_number(host)]
        causes += choice(text(port, "protocol"), f"{at}.protocol", PROTOCOLS)
    return causes


def _validate_env(env: list[Any], path: str) -> list[Cause]:
    causes: list[Cause] = []
    for index, var in enumerate(env):
        at, name = f"{path}[{index}]", text(var, "name")
        if not name:
            causes.append(required(f"{at}.name"))
        causes += [invalid(f"{at}.name", name, msg) for msg in is_relaxed_env_var_name(name)]
        if not has(var, "valueFrom"):
            continue
        source, at = mapping(var, "valueFrom"), f"{at}.valueFrom"
        kinds = [kind for kind in _ENV_SOURCES if has(source, kind)]
        for kind in kinds:
            if kind in ("configMapKeyRef", "secretKeyRef"):
                causes += _key_selector(mapping(source, kind), f"{at}.{kind}")
            elif kind == "fieldRef":
                causes += _field_ref(mapping(source, kind), f"{at}.fieldRef")
        if not kinds:
            causes.append(
                invalid(
                    at,
                    "",
                    "must specify one of: `fieldRef`, "
                    "`resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
                )
            )
        elif text(var, "value"):
            causes.append(invalid(at, "", "may not be specified when `value` is not empty"))
        elif len(kinds) > 1:
            causes.append(invalid(at, "", "may not have more than one field specified at a time"))
    return causes


def _key_selector(selector: dict[str, Any], path: str) -> list[Cause]:
    name, key = text(selector, "name"), text(selector, "key")
    causes = [invalid(f"{path}.name", name, msg) for msg in is_dns1123_subdomain(name)]
    if not key:
        return [*causes, required(f"{path}.key")]
    return causes + [invalid(f"{path}.key", key, msg) for msg in is_config_map_key(key)]


def _field_ref(ref: dict[str, Any], path: str) -> list[Cause]:
    version, field = text(ref, "apiVersion"), text(ref, "fieldPath")
    if not version:
        return [required(f"{path}.apiVersion")]
    if not field:
        return [required(f"{path}.fieldPath")]
    if version != "v1":
        return [
            invalid(
                f"{path}.fieldPath",
                field,
                f"error converting fieldPath: unsupported pod version: {version}",
            )
        ]
    if field.startswith(("metadata.labels[", "metadata.annotations[")):
        return []
    if field not in ENV_FIELD_PATHS:
        return [not_supported(f"{path}.fieldPath", field, ENV_FIELD_PATHS)]
    return []


def _validate_mounts(mounts: list[Any], volumes: set[str], path: str) -> list[Cause]:
    causes: list[Cause] = []
    seen: set[str] = set()
    for index, mount in enumerate(mounts):
        at, name, target = f"{path}[{index}]", text(mount, "name"), text(mount, "mountPath")
        if not name:
            causes.append(required(f"{at}.name"))
        if name not in volumes:
            causes.append(not_found(f"{at}.name", name))
        if not target:
            causes.append(required(f"{at}.mountPath"))
        if target in seen:
            causes.append(invalid(f"{at}.mountPath", target, "must be unique"))
        seen.add(target)
        causes += mount_path_causes(mount, at)
    return causes


def _validate_container(container: Any, volumes: set[str], path: str) -> list[Cause]:
    """``validateContainerCommon``: what regular and init containers share."""
    name = text(container, "name")
    causes = dns_label(name, f"{path}.name") if name else [required(f"{path}.name")]
    if not text(container, "image"):
        causes.append(required(f"{path}.image"))
    causes += choice(
        text(container, "terminationMessagePolicy"),
        f"{path}.terminationMessagePolicy",
        ["File", "FallbackToLogsOnError"],
    )
    causes += _validate_ports(items(container, "ports"), f"{path}.ports")
    causes += _validate_env(items(container, "env"), f"{path}.env")
    causes += _validate_mounts(items(container, "volumeMounts"), volumes, f"{path}.volumeMounts")
    causes += choice(text(container, "imagePullPolicy"), f"{path}.imagePullPolicy", PULL_POLICIES)
    return causes


def validate_containers(spec: Any, volumes: set[str], path: str) -> list[Cause]:
    """Regular containers (at least one), then init containers; names unique across both."""
    containers = items(spec, "containers")
    if not containers:
        return [required(f"{path}.containers")]
    causes: list[Cause] = []
    names: set[str] = set()
    for index, container in enumerate(containers):
        at = f"{path}.containers[{index}]"
        causes += _validate_container(container, volumes, at)
        name = text(container, "name")
        if name in names:
            causes.append(duplicate(f"{at}.name", name))
        names.add(name)
        threshold = mapping(container, "livenessProbe").get("successThreshold")
        if is_int(threshold) and threshold != 1:
            causes.append(invalid(f"{at}.livenessProbe.successThreshold", threshold, "must be 1"))
    for index, container in enumerate(items(spec, "initContainers")):
        at = f"{path}.initContainers[{index}]"
        causes += _validate_container(container, volumes, at)
        name = text(container, "name")
        if name in names:
            causes.append(duplicate(f"{at}.name", name))
        elif name:
            names.add(name)
    return causes
