"""Validation: what the API server refuses with ``422 Invalid``, field by field.

After defaulting, the server checks an object against its kind's rules and answers a broken
one with a ``Status`` whose causes name each problem: ``spec.containers[0].image: Required
value``. ``validate(rt, obj, old=...)`` returns those causes for the spec and data of every
served kind — metadata rules live in ``meta.validate_object_meta`` — and an empty list for
kinds it has no rules for. With ``old`` it also applies the update rules: immutable selectors,
frozen pod specs, immutable ConfigMaps and Secrets, a ClusterIP that may not move.

This module holds the dispatcher and the small kinds (ConfigMap, Secret, Namespace); the others
are in ``validation_pods.py``, ``validation_workloads.py`` (with ``validation_strategies.py``),
``validation_batch.py`` (Jobs), ``validation_cronjobs.py``, ``validation_services.py``,
``validation_networking.py`` (Ingress, IngressClass) and ``validation_network_policy.py``. Every
function takes JSON-shaped input of any quality and never raises: a field of the wrong type
reads as absent (the decoder and schema report types).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

from minikube_py.api.errors import Cause
from minikube_py.api.meta import STANDARD_FINALIZERS
from minikube_py.api.resources import ResourceType
from minikube_py.api.validation_batch import validate_job
from minikube_py.api.validation_causes import (
    IMMUTABLE,
    as_dict,
    byte_len,
    forbidden,
    invalid,
    items,
    mapping,
    required,
    same,
    text,
    too_long,
)
from minikube_py.api.validation_cronjobs import validate_cron_job
from minikube_py.api.validation_formats import is_config_map_key, is_qualified_name
from minikube_py.api.validation_network_policy import validate_network_policy
from minikube_py.api.validation_networking import validate_ingress, validate_ingress_class
from minikube_py.api.validation_pods import validate_pod, validate_pod_template
from minikube_py.api.validation_services import validate_service
from minikube_py.api.validation_workloads import (
    validate_daemon_set,
    validate_deployment,
    validate_replica_set,
    validate_replication_controller,
    validate_stateful_set,
)

Validator = Callable[[Any, Any], list[Cause]]
MAX_DATA_SIZE = 1024 * 1024  # core.MaxSecretSize, also the limit for a ConfigMap


def validate(rt: ResourceType, obj: Any, *, old: Any = None) -> list[Cause]:
    """Upstream's causes for ``obj`` of type ``rt``; on update pass the stored ``old``."""
    validator = _VALIDATORS.get((rt.group, rt.kind))
    return [] if validator is None else validator(obj, old)


def _immutable_data(obj: Any, old: Any, keys: tuple[str, ...]) -> list[Cause]:
    """Once ``immutable: true`` is stored, neither the flag nor the data may change."""
    if old is None or not isinstance(old, dict) or old.get("immutable") is not True:
        return []
    causes = []
    if as_dict(obj).get("immutable") is not True:
        causes.append(forbidden("immutable", "field is immutable when `immutable` is set"))
    for key in keys:
        if not same(mapping(obj, key), mapping(old, key)):
            causes.append(forbidden(key, "field is immutable when `immutable` is set"))
    return causes


def validate_config_map(obj: Any, old: Any) -> list[Cause]:
    causes = _immutable_data(obj, old, ("data", "binaryData"))
    data, binary = mapping(obj, "data"), mapping(obj, "binaryData")
    size = 0
    for field, values, other, twin in (
        ("data", data, binary, "binaryData"),
        ("binaryData", binary, data, "data"),
    ):
        for key, value in values.items():
            causes += [invalid(f"{field}[{key}]", key, msg) for msg in is_config_map_key(key)]
            if key in other:
                causes.append(
                    invalid(f"{field}[{key}]", key, f"duplicate of key present in {twin}")
                )
            if field == "binaryData":
                decoded, error = decode_base64(value)
                if error:
                    causes.append(invalid(f"binaryData[{key}]", "<value omitted>", error))
                size += len(decoded)
            else:
                size += byte_len(value) if isinstance(value, str) else 0
    if size > MAX_DATA_SIZE:
        causes.append(too_long("", MAX_DATA_SIZE))
    return causes


# The keys each secret type must carry (upstream's ValidateSecret).
_SECRET_KEYS = {
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
}


def validate_secret(obj: Any, old: Any) -> list[Cause]:
    """Keys, sizes and per-type required keys of a Secret.

    On the wire ``data`` values are base64 strings. Upstream decodes them while reading the
    request and answers bad base64 with a ``400 BadRequest`` (``illegal base64 data at input
    byte N``) before validation runs; here that is a ``FieldValueInvalid`` cause on
    ``data[<key>]`` with the same words, which the server may turn into the 400.
    ``stringData`` must already have been merged (``merge_string_data``).
    """
    causes = _immutable_data(obj, old, ("data",))
    if old is not None and text(obj, "type") != text(old, "type"):
        causes.append(invalid("type", text(obj, "type"), IMMUTABLE))
    data, decoded, size = mapping(obj, "data"), {}, 0
    for key, value in data.items():
        causes += [invalid(f"data[{key}]", key, msg) for msg in is_config_map_key(key)]
        decoded[key], error = decode_base64(value)
        if error:
            causes.append(invalid(f"data[{key}]", "<secret contents redacted>", error))
        size += len(decoded[key])
    if size > MAX_DATA_SIZE:
        causes.append(too_long("data", MAX_DATA_SIZE))
    kind = text(obj, "type")
    if kind == "kubernetes.io/service-account-token":
        name = mapping(mapping(obj, "metadata"), "annotations").get(SERVICE_ACCOUNT_NAME)
        if not name:
            causes.append(required(f"metadata.annotations[{SERVICE_ACCOUNT_NAME}]"))
    elif kind == "kubernetes.io/basic-auth" and not {"username", "password"} & set(data):
        causes += [required("data[username]"), required("data[password]")]
    for key in _SECRET_KEYS.get(kind, ()):
        if key not in data or (kind == "kubernetes.io/ssh-auth" and not decoded.get(key)):
            causes.append(required(f"data[{key}]"))
        elif key.startswith(".docker") and (problem := _json_error(decoded[key])):
            causes.append(invalid(f"data[{key}]", "<secret contents redacted>", problem))
    return causes


SERVICE_ACCOUNT_NAME = "kubernetes.io/service-account.name"


def _json_error(raw: bytes) -> str | None:
    """Go's ``json.Unmarshal`` error for decoding ``raw`` into a map, in its words."""
    text_ = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(text_)
    except ValueError as error:
        position = getattr(error, "pos", len(text_))
        if not text_.strip() or position >= len(text_):
            return "unexpected end of JSON input"
        return f"invalid character {text_[position]!r} looking for beginning of value"
    kinds = {list: "array", str: "string", bool: "bool", int: "number", float: "number"}
    kind = kinds.get(type(parsed))
    if kind is None:
        return None  # an object, or null (which leaves the map empty)
    return f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"


def decode_base64(value: Any) -> tuple[bytes, str | None]:
    """Decode as Go's ``base64.StdEncoding`` does: padding required, CR and LF skipped.

    Returns the bytes and, for bad input, Go's ``illegal base64 data at input byte N``
    with the offset Go reports.
    """
    if not isinstance(value, str):
        return b"", "must be a base64-encoded string"
    clean: list[str] = []
    index, end = 0, len(value)

    def corrupt(offset: int) -> tuple[bytes, str]:
        return b"", f"illegal base64 data at input byte {offset}"

    while True:
        count = 0
        while count < 4:
            if index == end:
                if count == 0:
                    return base64.b64decode("".join(clean)), None
                return corrupt(index - count)  # an unpadded last group
            char, index = value[index], index + 1
            if char in "\r\n":
                continue
            if char != "=":
                if not re.fullmatch("[A-Za-z0-9+/]", char):
                    return corrupt(index - 1)
                clean.append(char)
                count += 1
                continue
            if count < 2:
                return corrupt(index - 1)
            if count == 2:  # "==" expected: find the second "="
                while index < end and value[index] in "\r\n":
                    index += 1
                if index == end:
                    return corrupt(end)
                if value[index] != "=":
                    return corrupt(index - 1)
                index += 1
            while index < end and value[index] in "\r\n":
                index += 1
            if index < end:
                return corrupt(index)  # something after the padding
            clean.append("=" * (4 - count))
            return base64.b64decode("".join(clean)), None


def merge_string_data(secret: Any) -> list[Cause]:
    """What the API server does with ``stringData``: merge it into ``data``, base64-encoded.

    ``stringData`` is write-only convenience: its entries overwrite ``data`` entries of the
    same key and the field itself is never stored. A value that is not a string (upstream
    refuses it while decoding, as a 400) is left out and reported as a cause.
    """
    if not isinstance(secret, dict) or not isinstance(secret.get("stringData"), dict):
        if isinstance(secret, dict):
            secret.pop("stringData", None)
        return []
    causes: list[Cause] = []
    if not isinstance(secret.get("data"), dict):
        secret["data"] = {}
    for key, value in secret.pop("stringData").items():
        if not isinstance(value, str):
            causes.append(invalid(f"stringData[{key}]", value, "must be a string"))
            continue
        encoded = value.encode("utf-8", "surrogatepass")
        secret["data"][key] = base64.b64encode(encoded).decode("ascii")
    return causes


def validate_namespace(obj: Any, old: Any) -> list[Cause]:
    """``spec.finalizers`` are qualified names; a bare one must be a standard finalizer."""
    causes: list[Cause] = []
    for name in items(mapping(obj, "spec"), "finalizers"):
        if not isinstance(name, str):
            causes.append(invalid("spec.finalizers", name, "must be a string"))
            continue
        causes += [invalid("spec.finalizers", name, msg) for msg in is_qualified_name(name)]
        if "/" not in name and name not in STANDARD_FINALIZERS:
            causes.append(
                invalid(
                    "spec.finalizers",
                    name,
                    "name is neither a standard finalizer name nor is it fully qualified",
                )
            )
    return causes


_VALIDATORS: dict[tuple[str, str], Validator] = {
    ("", "Pod"): validate_pod,
    ("", "PodTemplate"): lambda obj, old: validate_pod_template(
        mapping(obj, "template"), "template"
    ),
    ("", "ReplicationController"): validate_replication_controller,
    ("", "Service"): validate_service,
    ("", "ConfigMap"): validate_config_map,
    ("", "Secret"): validate_secret,
    ("", "Namespace"): validate_namespace,
    ("apps", "Deployment"): validate_deployment,
    ("apps", "ReplicaSet"): validate_replica_set,
    ("apps", "StatefulSet"): validate_stateful_set,
    ("apps", "DaemonSet"): validate_daemon_set,
    ("batch", "Job"): validate_job,
    ("batch", "CronJob"): validate_cron_job,
    ("networking.k8s.io", "Ingress"): validate_ingress,
    ("networking.k8s.io", "IngressClass"): validate_ingress_class,
    ("networking.k8s.io", "NetworkPolicy"): validate_network_policy,
}
