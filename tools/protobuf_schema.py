"""Regenerate ``minikube_py/api/protobuf/schema.json`` from a kubectl binary.

Why a binary and not the ``.proto`` files: every Go program that links ``k8s.io/api`` carries
the gzipped ``FileDescriptorProto`` of each ``generated.proto`` it was built from (gogo
protobuf registers them at start-up). Those descriptors are the exact schema that kubectl
encodes with, and they keep what the published ``.proto`` text has lost: the gogoproto option
``nullable=false`` on every field that is *not* a Go pointer. Pointer-ness decides the JSON:
a non-pointer ``int32``/``bool``/``string`` is always on the wire, even when zero, but its JSON
(``omitempty``) leaves the zero out, while a pointer that is present means "explicitly set",
zero included (``replicas: 0``).

Usage: ``python tools/protobuf_schema.py [path/to/kubectl]`` (default: kubectl on PATH).

Two facts no descriptor carries are added here:

* Go structs embedded with ``json:",inline"`` (``Volume`` embeds ``VolumeSource``) are a
  nested message in protobuf but flat in JSON: listed in ``INLINE``.
* A few protobuf field names are not the JSON names (``Webhooks`` is ``webhooks``):
  listed in ``RENAMES``.
* Non-pointer scalars without ``omitempty`` (``ServicePort.port``) appear in JSON even when
  zero. Where the ``kubernetes`` Python client is installed, its models' required fields mark
  them; without it they are treated like ``omitempty`` fields (the zero is dropped).

Output: ``{"messages": {"apps.v1.DeploymentSpec": [[number, name, type, mode], ...]}}`` where
``type`` is a scalar name, a message name or ``[key, value]`` for a map, and ``mode`` is
0 (omit when zero), 1 (keep zero: a pointer or required), 2 (repeated), 3 (map), 4 (inline).
"""

from __future__ import annotations

import inspect
import json
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parents[1] / "minikube_py/api/protobuf/schema.json"
GZIP_MAGIC = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"

# The API packages a kubectl 1.32 typed client can send, and the three they build on.
API_PACKAGES = [
    "core/v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2", "policy/v1",
    "rbac/v1", "networking/v1", "scheduling/v1", "coordination/v1", "storage/v1",
    "discovery/v1", "node/v1", "certificates/v1", "events/v1", "authentication/v1",
    "authorization/v1", "admissionregistration/v1", "flowcontrol/v1",
]
# meta/v1 bodies that are not API objects of a group: DELETE's options (also inside an
# Eviction) and Status.
EXTRA_ROOTS = ["meta.v1.DeleteOptions", "meta.v1.Status"]
SHORT_PACKAGES = {
    "k8s.io.apimachinery.pkg.apis.meta.v1": "meta.v1",
    "k8s.io.apimachinery.pkg.runtime": "runtime",
    "k8s.io.apimachinery.pkg.runtime.schema": "schema",
    "k8s.io.apimachinery.pkg.util.intstr": "intstr",
    "k8s.io.apimachinery.pkg.api.resource": "resource",
}
INLINE = {
    "core.v1.ConfigMapEnvSource.localObjectReference",
    "core.v1.ConfigMapKeySelector.localObjectReference",
    "core.v1.ConfigMapProjection.localObjectReference",
    "core.v1.ConfigMapVolumeSource.localObjectReference",
    "core.v1.SecretEnvSource.localObjectReference",
    "core.v1.SecretKeySelector.localObjectReference",
    "core.v1.SecretProjection.localObjectReference",
    "core.v1.EphemeralContainer.ephemeralContainerCommon",
    "core.v1.PersistentVolumeSpec.persistentVolumeSource",
    "core.v1.Probe.handler",
    "core.v1.Volume.volumeSource",
    "networking.v1.IngressRule.ingressRuleValue",
    "admissionregistration.v1.NamedRuleWithOperations.ruleWithOperations",
    "admissionregistration.v1.RuleWithOperations.rule",
    "runtime.Unknown.typeMeta",
}
# Protobuf names that are not the JSON names: go-to-protobuf took them from the Go field names
# before the JSON tags settled, and field names are never changed once released.
RENAMES = {
    "admissionregistration.v1.MutatingWebhookConfiguration.Webhooks": "webhooks",
    "admissionregistration.v1.ValidatingWebhookConfiguration.Webhooks": "webhooks",
    "admissionregistration.v1.Validation.Expression": "expression",
    "admissionregistration.v1.Variable.Expression": "expression",
    "admissionregistration.v1.Variable.Name": "name",
    "authentication.v1.BoundObjectReference.uID": "uid",
    "networking.v1.IngressClassParametersReference.aPIGroup": "apiGroup",
}
SCALARS = {
    1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64", 7: "fixed32",
    8: "bool", 9: "string", 12: "bytes", 13: "uint32", 15: "sfixed32", 16: "sfixed64",
    17: "sint32", 18: "sint64",
}
GOGO_NULLABLE = 65001


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def _fields(data: bytes) -> list[tuple[int, Any]]:
    """(number, value) pairs of a trusted message: enough protobuf to read descriptors."""
    out: list[tuple[int, Any]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        wire = key & 7
        value: int | bytes
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            size, pos = _varint(data, pos)
            value, pos = data[pos:pos + size], pos + size
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, pos = data[pos:pos + size], pos + size
        else:
            raise ValueError(f"unexpected wire type {wire} in a descriptor")
        out.append((key >> 3, value))
    return out


def descriptors(binary: Path) -> dict[str, list[tuple[int, Any]]]:
    """Every gzipped FileDescriptorProto in the binary, by .proto file name."""
    data = binary.read_bytes()
    found: dict[str, list[tuple[int, Any]]] = {}
    for match in re.finditer(re.escape(GZIP_MAGIC), data):
        try:
            raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[match.start():])
            parsed = _fields(raw)
        except (zlib.error, ValueError, IndexError):
            continue
        names = [value for number, value in parsed if number == 1]
        if names and isinstance(names[0], bytes) and names[0].endswith(b".proto"):
            found[names[0].decode()] = parsed
    return found


def short(name: str) -> str:
    name = name.lstrip(".")
    package, _, message = name.rpartition(".")
    if package in SHORT_PACKAGES:
        return f"{SHORT_PACKAGES[package]}.{message}"
    return name.removeprefix("k8s.io.api.")


def _one(parsed: list[tuple[int, Any]], number: int, default: Any = None) -> Any:
    return next((value for n, value in parsed if n == number), default)


def _index(files: dict[str, list[tuple[int, Any]]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every message's descriptor by short name, and every map's (key, value) types by the
    full name of the ``XxxEntry`` message that ``map<K, V>`` compiles to."""
    messages: dict[str, list[tuple[int, Any]]] = {}
    map_entries: dict[str, tuple[str, str]] = {}
    for parsed in files.values():
        package = _one(parsed, 2, b"").decode()
        for message in (_fields(v) for n, v in parsed if n == 4):
            name = f"{package}.{_one(message, 1).decode()}"
            messages[short(name)] = message
            for entry in (_fields(v) for n, v in message if n == 3):
                key, value = (_field_type(_fields(f)) for n, f in entry if n == 2)
                map_entries[f"{name}.{_one(entry, 1).decode()}"] = (key, value)
    return messages, map_entries


def build(files: dict[str, list[tuple[int, Any]]]) -> dict[str, list[list[Any]]]:
    """The schema of every message reachable from the API packages' kinds."""
    raw_messages, map_entries = _index(files)
    required = _required_fields()
    packages = {p.replace("/", ".") for p in API_PACKAGES}
    pending = [m for m in raw_messages if m.rsplit(".", 1)[0] in packages
               and not m.endswith("List")] + EXTRA_ROOTS
    messages: dict[str, list[list[Any]]] = {}
    while pending:
        name = pending.pop()
        if name in messages:
            continue
        messages[name] = []
        for field in (_fields(v) for n, v in raw_messages[name] if n == 2):
            proto_name = _one(field, 1).decode()
            json_name = RENAMES.get(f"{name}.{proto_name}", proto_name)
            entry = map_entries.get(_one(field, 6, b"").decode().lstrip("."))
            ftype: Any = list(entry) if entry else _field_type(field)
            mode = 3 if entry else 2 if _one(field, 4) == 3 else 0
            nullable = dict(_fields(_one(field, 8, b""))).get(GOGO_NULLABLE) != 0
            if mode == 0 and f"{name}.{proto_name}" in INLINE:
                mode = 4
            elif mode == 0 and ftype in SCALARS.values() and (
                nullable or json_name in _required_for(name, required)
            ):
                mode = 1
            messages[name].append([_one(field, 3), json_name, ftype, mode])
            pending += [t for t in (ftype if entry else [ftype]) if t in raw_messages]
    _check_lists(raw_messages, messages)
    return dict(sorted(messages.items()))


def _check_lists(raw_messages: dict[str, Any], messages: dict[str, list[list[Any]]]) -> None:
    """RENAMES and INLINE must name real fields: a typo would silently change nothing."""
    proto_fields = {f"{m}.{_one(_fields(v), 1).decode()}" for m, fs in raw_messages.items()
                    for n, v in fs if n == 2}
    if set(RENAMES) - proto_fields:
        raise SystemExit(f"renamed fields not found: {sorted(set(RENAMES) - proto_fields)}")
    inlined = {f"{m}.{f[1]}" for m, fs in messages.items() for f in fs if f[3] == 4}
    missing = {i for i in INLINE if i.rsplit(".", 1)[0] in messages} - inlined
    if missing:
        raise SystemExit(f"inline fields not found: {sorted(missing)}")


def _field_type(field: list[tuple[int, Any]]) -> str:
    kind = _one(field, 5)
    if kind == 11:
        return short(_one(field, 6).decode())
    if kind not in SCALARS:
        raise SystemExit(f"unsupported field type {kind}")
    return SCALARS[kind]


def _required_fields() -> dict[str, set[str]]:
    """JSON names the kubernetes Python client marks required, by class name (empty without)."""
    try:
        from kubernetes.client import models
    except ImportError:
        return {}
    required: dict[str, set[str]] = {}
    for class_name, model in vars(models).items():
        attributes = getattr(model, "attribute_map", None)
        if isinstance(model, type) and attributes:
            names = re.findall(r"Invalid value for `(\w+)`, must not be `None`",
                               inspect.getsource(model))
            required[class_name] = {attributes[n] for n in names if n in attributes}
    return required


def _required_for(message: str, required: dict[str, set[str]]) -> set[str]:
    """The client names a model ``V1Pod``, or ``CoreV1Event`` where two groups share a kind."""
    group, version, kind = [*message.split("."), "", ""][:3]
    for class_name in (f"{group.capitalize()}{version.capitalize()}{kind}",
                       f"{version.capitalize()}{kind}"):
        if class_name in required:
            return required[class_name]
    return set()


def main() -> None:
    binary = Path(sys.argv[1] if len(sys.argv) > 1 else shutil.which("kubectl") or "kubectl")
    version = subprocess.run([str(binary), "version", "--client", "-o", "json"],
                             capture_output=True, text=True, check=False).stdout
    git_version = json.loads(version)["clientVersion"]["gitVersion"] if version else "unknown"
    messages = build(descriptors(binary))
    lines = [f"  {json.dumps(name)}: {json.dumps(fields, separators=(',', ':'))}"
             for name, fields in messages.items()]
    header = json.dumps(f"Derived from the generated.proto descriptors in kubectl {git_version} "
                        "by tools/protobuf_schema.py; see LICENSE in this directory.")
    OUTPUT.write_text("{\n \"source\": " + header + ",\n \"messages\": {\n"
                      + ",\n".join(lines) + "\n }\n}\n")
    print(f"{OUTPUT}: {len(messages)} messages from kubectl {git_version}")


if __name__ == "__main__":
    main()
