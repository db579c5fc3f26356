"""Validation of pod specs, pod templates, and of Pods themselves on create and update.

A pod spec is the unit every workload is built from, so ``validate_pod_spec`` runs for Pods
and for the template inside each Deployment, ReplicaSet, DaemonSet, Job, CronJob and
ReplicationController: its volumes (each named, with exactly one source), its containers
(``validation_containers.py``), a supported restart and DNS policy, valid node and service
account names. A Pod that exists is mostly frozen: an update may change container images,
shorten ``activeDeadlineSeconds`` and add tolerations, and nothing else; anything more is
refused with upstream's long "pod updates may not change fields other than …" message.

Field paths and messages follow ``pkg/apis/core/validation`` of Kubernetes 1.32. Quantities
(``resources``) and the rarer fields (security contexts, affinity, topology spread) are not
checked here.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from minikube_py.api.defaults_workloads import VOLUME_SOURCES
from minikube_py.api.errors import Cause
from minikube_py.api.meta import validate_annotations, validate_labels
from minikube_py.api.validation_causes import (
    as_dict,
    duplicate,
    forbidden,
    has,
    invalid,
    is_int,
    items,
    mapping,
    required,
    same,
    text,
)
from minikube_py.api.validation_containers import choice, dns_label, validate_containers
from minikube_py.api.validation_formats import is_dns1123_subdomain
from minikube_py.api.validation_paths import volume_path_causes

RESTART_POLICIES = ["Always", "OnFailure", "Never"]
DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
_NAMED_SOURCES = (
    ("hostPath", "path"),
    ("persistentVolumeClaim", "claimName"),
    ("secret", "secretName"),
    ("configMap", "name"),
)


def _validate_volumes(volumes: list[Any], path: str) -> tuple[list[Cause], set[str]]:
    """Errors, and the names of the volumes that passed (mounts may only name those)."""
    causes: list[Cause] = []
    valid: set[str] = set()
    for index, volume in enumerate(volumes):
        at = f"{path}[{index}]"
        sources = [key for key in VOLUME_SOURCES if has(volume, key)]
        errors = [] if sources else [required(at, "must specify a volume type")]
        errors += [
            forbidden(f"{at}.{key}", "may not specify more than 1 volume type")
            for key in sources[1:]
        ]
        for source, key in _NAMED_SOURCES:
            if has(volume, source) and not text(mapping(volume, source), key):
                errors.append(required(f"{at}.{source}.{key}"))
        for source in ("secret", "configMap", "downwardAPI", "projected"):
            mode = mapping(volume, source).get("defaultMode")
            if is_int(mode) and not 0 <= mode <= 0o777:
                errors.append(
                    invalid(
                        f"{at}.{source}.defaultMode",
                        mode,
                        "must be a number between 0 and 0777 (octal), both inclusive",
                    )
                )
        errors += volume_path_causes(volume, at)
        name = text(volume, "name")
        errors += dns_label(name, f"{at}.name") if name else [required(f"{at}.name")]
        if name in valid:
            errors.append(duplicate(f"{at}.name", name))
        if errors:
            causes += errors
        else:
            valid.add(name)
    return causes, valid


def validate_pod_spec(spec: Any, path: str) -> list[Cause]:
    """``ValidatePodSpec`` for ``spec`` found at ``path`` (``spec``, ``spec.template.spec``)."""
    causes: list[Cause] = []
    if not has(spec, "terminationGracePeriodSeconds"):
        causes.append(required(f"{path}.terminationGracePeriodSeconds"))
    volume_causes, volumes = _validate_volumes(items(spec, "volumes"), f"{path}.volumes")
    causes += volume_causes
    causes += validate_containers(spec, volumes, path)
    causes += choice(text(spec, "restartPolicy"), f"{path}.restartPolicy", RESTART_POLICIES)
    dns_policy = text(spec, "dnsPolicy")
    causes += choice(dns_policy, f"{path}.dnsPolicy", DNS_POLICIES)
    causes += validate_labels(mapping(spec, "nodeSelector"), f"{path}.nodeSelector")
    if dns_policy == "None" and not has(spec, "dnsConfig"):
        causes.append(
            required(f"{path}.dnsConfig", "must provide `dnsConfig` when `dnsPolicy` is None")
        )
    for key in ("serviceAccountName", "nodeName"):
        if value := text(spec, key):
            causes += [invalid(f"{path}.{key}", value, m) for m in is_dns1123_subdomain(value)]
    deadline = as_dict(spec).get("activeDeadlineSeconds")
    if is_int(deadline) and not 1 <= deadline <= 2**31 - 1:
        causes.append(
            invalid(
                f"{path}.activeDeadlineSeconds",
                deadline,
                "must be between 1 and 2147483647, inclusive",
            )
        )
    for key in ("hostname", "subdomain"):
        if value := text(spec, key):
            causes += dns_label(value, f"{path}.{key}")
    return causes


def validate_pod_template(template: Any, path: str) -> list[Cause]:
    """``ValidatePodTemplateSpec``; upstream reports labels at ``<path>.labels``."""
    meta = mapping(template, "metadata")
    causes = validate_labels(meta.get("labels"), f"{path}.labels")
    causes += validate_annotations(meta.get("annotations"), f"{path}.annotations")
    spec = mapping(template, "spec")
    causes += validate_pod_spec(spec, f"{path}.spec")
    if items(spec, "ephemeralContainers"):
        causes.append(
            forbidden(
                f"{path}.spec.ephemeralContainers",
                "ephemeral containers not allowed in pod template",
            )
        )
    return causes


def validate_pod(obj: Any, old: Any) -> list[Cause]:
    spec = mapping(obj, "spec")
    causes = validate_pod_spec(spec, "spec")
    for key in ("containers", "initContainers"):
        for index, container in enumerate(items(spec, key)):
            image = text(container, "image")
            if image != image.strip():
                causes.append(
                    invalid(
                        f"spec.{key}[{index}].image",
                        image,
                        "must not have leading or trailing whitespace",
                    )
                )
    if old is None:
        if items(spec, "ephemeralContainers"):
            causes.append(forbidden("spec.ephemeralContainers", "cannot be set on create"))
        return causes
    return causes + _validate_pod_update(spec, mapping(old, "spec"))


UPDATABLE = ",".join(
    [
        "`spec.containers[*].image`",
        "`spec.initContainers[*].image`",
        "`spec.activeDeadlineSeconds`",
        "`spec.tolerations` (only additions to existing tolerations)",
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "
        "negative)",
    ]
)


def _validate_pod_update(spec: dict[str, Any], before: dict[str, Any]) -> list[Cause]:
    """``ValidatePodUpdate``: compare the new spec, with its updatable fields reset, to the old."""
    causes: list[Cause] = []
    for key in ("containers", "initContainers"):
        if len(items(spec, key)) != len(items(before, key)):
            return [forbidden(f"spec.{key}", "pod updates may not add or remove containers")]
        for index, container in enumerate(items(spec, key)):
            if not text(container, "image"):
                causes.append(required(f"spec.{key}[{index}].image"))
    deadline, old_deadline = spec.get("activeDeadlineSeconds"), before.get("activeDeadlineSeconds")
    if is_int(deadline) and not 0 <= deadline <= 2**31 - 1:
        return [
            *causes,
            invalid(
                "spec.activeDeadlineSeconds",
                deadline,
                "must be between 0 and 2147483647, inclusive",
            ),
        ]
    if is_int(deadline) and is_int(old_deadline) and old_deadline < deadline:
        return [
            *causes,
            invalid(
                "spec.activeDeadlineSeconds",
                deadline,
                "must be less than or equal to previous value",
            ),
        ]
    if deadline is None and old_deadline is not None:
        causes.append(
            invalid(
                "spec.activeDeadlineSeconds",
                None,
                "must not update from a positive integer to nil value",
            )
        )
    tolerations = items(spec, "tolerations")
    for toleration in items(before, "tolerations"):
        if not any(
            same(
                {**as_dict(toleration), "tolerationSeconds": None},
                {**as_dict(new), "tolerationSeconds": None},
            )
            for new in tolerations
        ):
            causes.append(
                forbidden(
                    "spec.tolerations",
                    "existing toleration can not be modified except its tolerationSeconds",
                )
            )
            break
    if same(spec, before):
        return causes
    munged = _munge(spec, before)
    if not same(munged, before):
        causes.append(
            forbidden(
                "spec",
                f"pod updates may not change fields other than "
                f"{UPDATABLE}\n{_diff(before, munged)}",
            )
        )
    return causes


def _munge(spec: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    munged = copy.deepcopy(spec)
    for key in ("containers", "initContainers"):
        for container, old in zip(items(munged, key), items(before, key), strict=True):
            if isinstance(container, dict):
                container["image"] = as_dict(old).get("image")
    for key in ("activeDeadlineSeconds", "tolerations", "schedulingGates"):
        munged[key] = before.get(key)
    grace, old_grace = (
        munged.get("terminationGracePeriodSeconds"),
        before.get("terminationGracePeriodSeconds"),
    )
    if is_int(old_grace) and old_grace < 0 and grace == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    return munged


def _diff(before: dict[str, Any], after: dict[str, Any]) -> str:
    """A short stand-in for upstream's ``cmp.Diff`` of the two ``core.PodSpec`` values."""
    lines = ["  core.PodSpec{"]
    for key in sorted(set(before) | set(after)):
        if not same(before.get(key), after.get(key)):
            for sign, value in (("-", before.get(key)), ("+", after.get(key))):
                shown = json.dumps(value, sort_keys=True, default=str)
                lines.append(f"{sign} \t{key[:1].upper() + key[1:]}: {shown},")
    return "\n".join([*lines, "  }"])
