"""The objects ``kubectl create <kind> NAME ...`` builds, field for field as kubectl 1.32 does.

Each generator turns flags into the object kubectl would send, so the stored object is the
same whichever kubectl made it: a Deployment labelled and selected by ``app: NAME`` whose
containers are named after their images (``nginx:1.27`` → ``nginx``); ConfigMaps and Secrets
from literals, files and env files (Secret values base64-encoded); Services of each type with
``--tcp=port[:targetPort]`` ports named ``80-8080`` (or ``80``) and selecting ``app: NAME``.
Mistakes in the flags raise ``KubectlError`` with kubectl's words. ``printable`` and
``struct_json`` show such an object as ``--dry-run=client -o yaml|json`` prints it.
"""

from __future__ import annotations

import base64
import json
import os
import random
import re
from pathlib import Path
from typing import Any

from minikube_py.client.protocol import Object
from minikube_py.kubectl.session import KubectlError

_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # what Kubernetes' generated names use
_DOCKER_HUB = "https://index.docker.io/v1/"
_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_KEY_RULE = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
    "'[-._a-zA-Z0-9]+')"
)


def container_name(image: str) -> str:
    """``registry/team/web:1.2`` → ``web``; names with ``_`` or ``.`` are made valid and
    given a random suffix, as kubectl does."""
    name = image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
    if "_" in name or "." in name:
        cleaned = name.replace("_", "-").replace(".", "-")
        suffix = "".join(random.choice(_SUFFIX_ALPHABET) for _ in range(5))
        name = f"{cleaned}-{suffix}"
    return name


def deployment(name: str, images: list[str], replicas: int, port: int | None) -> Object:
    labels = {"app": name}
    containers: list[dict[str, Any]] = []
    for index, image in enumerate(images):
        container: dict[str, Any] = {"name": container_name(image), "image": image}
        if port is not None and port >= 0 and index == 0:  # kubectl: the first container's
            container["ports"] = [{"containerPort": port}]
        container["resources"] = {}
        containers.append(container)
    return {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}},
            "strategy": {},
        },
        "status": {},
    }


def namespace(name: str) -> Object:
    return {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": name}, "spec": {}}


class _Data(dict[str, bytes]):
    """The data of a ConfigMap or Secret as it is gathered, refusing keys kubectl refuses."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__()
        self.kind, self.name = kind, name

    def add(self, key: str, value: bytes) -> None:
        if not _KEY.fullmatch(key):
            raise KubectlError(f'"{key}" is not a valid key name for a {self.kind}: {_KEY_RULE}')
        if key in self:
            if self.kind == "ConfigMap":  # kubectl words the two kinds' errors differently
                raise KubectlError(
                    f'cannot add key "{key}", another key by that name already exists in Data '
                    f'for ConfigMap "{self.name}"'
                )
            raise KubectlError(f"cannot add key {key}, another key by that name already exists")
        self[key] = value


def key_values(
    kind: str, name: str, literals: list[str], files: list[str], env_files: list[str]
) -> dict[str, bytes]:
    """A ConfigMap's or Secret's data: ``--from-literal``, ``--from-file``, ``--from-env-file``."""
    if env_files and (literals or files):
        raise KubectlError("from-env-file cannot be combined with from-file or from-literal")
    data = _Data(kind, name)
    for literal in literals:
        key, equals, value = literal.partition("=")
        if not equals or not key:
            raise KubectlError(f"invalid literal source {literal}, expected key=value")
        data.add(key, value.encode())
    for source in files:
        key, equals, path = source.partition("=")
        if not equals:
            key, path = "", source
        if os.path.isdir(path):
            if key:
                raise KubectlError("cannot give a key name for a directory path")
            for entry in sorted(os.listdir(path)):
                if os.path.isfile(os.path.join(path, entry)):
                    data.add(entry, _read(os.path.join(path, entry)))
            continue
        data.add(key or os.path.basename(path), _read(path))
    for env_file in env_files:
        for key, value in _env_lines(env_file):
            data.add(key, value.encode())
    return data


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise KubectlError(f"error reading {path}: {_reason(error)}") from None


def _reason(error: OSError) -> str:
    """Go's words for a failed open: ``no such file or directory``, lower-case."""
    return str(error.strerror or error).lower()


def _env_lines(path: str) -> list[tuple[str, str]]:
    """``KEY=value`` lines; ``#`` comments and blank lines skipped, a bare ``KEY`` taken from
    the environment (left out when unset), as kubectl reads an env file."""
    pairs = []
    for number, raw in enumerate(_read(path).decode("utf-8", "replace").splitlines(), 1):
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        key, equals, value = line.partition("=")
        if not key.strip() or " " in key.strip():
            raise KubectlError(f"{key!r} is not a valid key name (line {number} of {path})")
        if equals:
            pairs.append((key, value))
        elif key in os.environ:
            pairs.append((key, os.environ[key]))
    return pairs


def configmap(name: str, data: dict[str, bytes]) -> Object:
    obj: Object = {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": name}}
    text: dict[str, str] = {}
    binary: dict[str, str] = {}
    for key, value in data.items():
        try:
            text[key] = value.decode("utf-8")
        except UnicodeDecodeError:
            binary[key] = base64.b64encode(value).decode()  # not text: binaryData, as kubectl
    if text:
        obj["data"] = text
    if binary:
        obj["binaryData"] = binary
    return obj


def secret(name: str, data: dict[str, bytes], secret_type: str) -> Object:
    obj: Object = {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": name}}
    if data:
        obj["data"] = {key: base64.b64encode(value).decode() for key, value in data.items()}
    if secret_type:
        obj["type"] = secret_type
    return obj


def tls_secret(name: str, cert: str, key: str) -> Object:
    if not cert or not key:
        raise KubectlError("key and cert must be specified")
    data = {}
    for field, path in (("tls.crt", cert), ("tls.key", key)):
        try:
            data[field] = Path(path).read_bytes()
        except OSError as error:
            raise KubectlError(f"Cannot read file {path}, open {path}: {_reason(error)}") from None
    return secret(name, data, "kubernetes.io/tls")


def docker_registry_secret(
    name: str, server: str, username: str, password: str, email: str
) -> Object:
    if not username or not password:
        raise KubectlError(
            "either --from-file or the combination of --docker-username, "
            "--docker-password and --docker-server is required"
        )
    entry = {"username": username, "password": password}
    if email:
        entry["email"] = email
    entry["auth"] = base64.b64encode(f"{username}:{password}".encode()).decode()
    config = json.dumps({"auths": {server or _DOCKER_HUB: entry}}, separators=(",", ":"))
    data = {".dockerconfigjson": config.encode()}
    return secret(name, data, "kubernetes.io/dockerconfigjson")


def service(name: str, kind: str, tcp: list[str], node_port: int, cluster_ip: str | None) -> Object:
    """``create service clusterip|nodeport|loadbalancer NAME --tcp=80:8080``."""
    ports: list[dict[str, Any]] = []
    for spec in tcp:
        port_text, colon, target_text = spec.partition(":")
        port = _number(port_text)
        target: int | str = port
        if colon:  # a target port may be a container port's name
            target = int(target_text) if target_text.isdigit() else target_text
        entry: dict[str, Any] = {
            "name": spec.replace(":", "-"),  # kubectl names a port by its spec as written
            "protocol": "TCP",
            "port": port,
            "targetPort": target,
        }
        if node_port:
            entry["nodePort"] = node_port
        ports.append(entry)
    body: dict[str, Any] = {}
    if ports:
        body["ports"] = ports
    body["selector"] = {"app": name}
    if cluster_ip is not None:
        body["clusterIP"] = cluster_ip
    body["type"] = kind
    return {
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": body,
    }


def _number(text: str) -> int:
    if not text.isdigit():
        raise KubectlError(f'strconv.ParseUint: parsing "{text}": invalid syntax')
    return int(text)


# ------------------------------------------------------------- as kubectl prints them locally


def printable(obj: Object) -> Object:
    """``obj`` as ``--dry-run=client -o yaml`` shows it: the typed object kubectl built, with
    its empty ``creationTimestamp`` and ``status``."""
    shown: Object = json.loads(json.dumps(obj))
    shown["metadata"] = _meta(shown["metadata"])
    template = (shown.get("spec") or {}).get("template")
    if isinstance(template, dict):
        template["metadata"] = _meta(template.get("metadata") or {})
    kind = shown.get("kind")
    if kind == "Service":
        shown["status"] = {"loadBalancer": {}}
    elif kind in ("Deployment", "Pod", "Namespace"):
        shown["status"] = {}
    return shown


def _meta(metadata: dict[str, Any]) -> dict[str, Any]:
    """ObjectMeta's fields in Go's order, ``creationTimestamp`` among them."""
    order = ("name", "generateName", "namespace", "creationTimestamp", "labels", "annotations")
    full = {**metadata, "creationTimestamp": None}
    return {key: full[key] for key in order if key in full}


def struct_json(obj: Object) -> str:
    """``-o json`` of an object kubectl built itself: fields in struct order (as built here),
    four-space indent, HTML characters escaped, as Go's encoder writes it."""
    text = json.dumps(obj, indent=4, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text + "\n"
