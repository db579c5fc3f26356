"""``kubectl describe`` of any other kind, custom resources included; ConfigMaps, Secrets and
ServiceAccounts.

For a kind kubectl has no describer for it prints the object itself as an indented tree:
``Name``, ``Namespace``, labels and annotations, then every other field in sorted order with
its name made readable (``creationTimestamp`` → ``Creation Timestamp``, ``apiVersion`` →
``API Version``), maps and lists one level deeper, and finally the events about it. Managed
fields are left out. ConfigMaps print their data keys with the values below them, Secrets
only the sizes of theirs, ServiceAccounts the secrets they name.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from minikube_py.api.errors import ApiError
from minikube_py.api.printers import items, mapping, text
from minikube_py.client.discovery import Resource
from minikube_py.client.protocol import Object
from minikube_py.kubectl.describe_namespaces import optional_list
from minikube_py.kubectl.describe_writer import (
    DescribeWriter,
    fetch_events,
    go_value,
    new_description,
)
from minikube_py.kubectl.session import Session

SKIPPED = frozenset(
    (
        ".metadata.managedFields",
        ".metadata.name",
        ".metadata.namespace",
        ".metadata.labels",
        ".metadata.annotations",
    )
)
ACRONYMS = frozenset(("API", "URL", "UID", "OSB", "GUID"))
# Runs of one character class (lower, upper, digit, other), as fatih/camelcase splits words.
_RUNS = re.compile(r"[a-z]+|[A-Z]+|[0-9]+|[^a-zA-Z0-9]+")


async def describe_object(
    session: Session, resource: Resource, obj: Object, show_events: bool = True
) -> str:
    events = await fetch_events(
        session, obj, str(obj.get("kind") or resource.kind), wanted=show_events
    )
    meta = mapping(obj, "metadata")
    w = new_description(meta)
    _tree(w, 0, obj, "")
    return w.render(events)


def _tree(w: DescribeWriter, level: int, content: dict[str, Any], path: str) -> None:
    """Each field sorted by name: maps and lists as nested sections, values after a tab."""
    for field in sorted(content):
        value, where = content[field], f"{path}.{field}"
        if where in SKIPPED:
            continue
        if isinstance(value, dict):
            w.write(level, f"{smart_label(field)}:\n")
            _tree(w, level + 1, value, where)
        elif isinstance(value, list):
            w.write(level, f"{smart_label(field)}:\n")
            for child in value:
                if isinstance(child, dict):
                    _tree(w, level + 1, child, where)
                else:
                    w.write(level + 1, f"{go_value(child)}\n")
        else:
            w.write(level, f"{smart_label(field)}:\t{go_value(value)}\n")


def smart_label(field: str) -> str:
    """``podCIDR`` → ``Pod CIDR``: camel-case words capitalised, known acronyms upper-cased;
    a name with characters other than letters and ``-`` is kept as it is."""
    if any(not (c.isalpha() or c == "-") for c in field):
        return field
    runs = _RUNS.findall(field)
    for i in range(len(runs) - 1):  # "APIV" "ersion" → "API" "Version"
        if runs[i][0].isupper() and runs[i + 1][0].islower():
            runs[i + 1] = runs[i][-1] + runs[i + 1]
            runs[i] = runs[i][:-1]
    words = [run for run in runs if run and run != "_"]
    return " ".join(w.upper() if w.upper() in ACRONYMS else w[:1].upper() + w[1:] for w in words)


async def describe_config_map(
    session: Session, resource: Resource, config_map: Object, show_events: bool = True
) -> str:
    meta = mapping(config_map, "metadata")
    w = new_description(meta)
    # kubectl ranges over a Go map here, so its key order varies run to run; sorted is stable.
    w.write(0, "\nData\n====\n")
    data = mapping(config_map, "data")
    for key in sorted(data):
        w.write(0, f"{key}:\n----\n{data[key]}\n\n")
    w.write(0, "\nBinaryData\n====\n")
    binary = mapping(config_map, "binaryData")
    for key in sorted(binary):
        try:
            size = len(base64.b64decode(str(binary[key]), validate=True))
        except (binascii.Error, ValueError):
            size = 0
        w.write(0, f"{key}: {size} bytes\n")
    w.write(0, "\n")
    return w.render(await fetch_events(session, config_map, "ConfigMap", wanted=show_events))


async def describe_secret(
    session: Session, resource: Resource, secret: Object, show_events: bool = True
) -> str:
    """Data keys with their sizes only (a token of a service account token Secret in full);
    kubectl shows no events for Secrets."""
    meta = mapping(secret, "metadata")
    w = new_description(meta)
    kind = text(secret, "type")
    w.write(0, f"\nType:\t{kind}\n\nData\n====\n")
    data = mapping(secret, "data")
    for key in sorted(data):  # a Go map in kubectl: its order varies, sorted is stable
        value = _decoded(data[key])
        if key == "token" and kind == "kubernetes.io/service-account-token":
            w.write(0, f"{key}:\t{value.decode(errors='replace')}\n")
        else:
            w.write(0, f"{key}:\t{len(value)} bytes\n")
    return w.render()


def _decoded(value: Any) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        return b""


async def describe_service_account(
    session: Session, resource: Resource, account: Object, show_events: bool = True
) -> str:
    """The account's pull and mountable secrets and the token Secrets made for it."""
    meta = mapping(account, "metadata")
    namespace, name, uid = text(meta, "namespace"), text(meta, "name"), text(meta, "uid")
    try:
        secrets: list[Object] | None = await optional_list(
            session, f"/api/v1/namespaces/{namespace}/secrets"
        )
    except ApiError:
        secrets = None  # kubectl still lists the names the account refers to
    existing = {text(s, "metadata", "name") for s in secrets or ()}
    tokens = [
        text(s, "metadata", "name")
        for s in secrets or ()
        if text(s, "type") == "kubernetes.io/service-account-token"
        and text(s, "metadata", "annotations", "kubernetes.io/service-account.name") == name
        and text(s, "metadata", "annotations", "kubernetes.io/service-account.uid") == uid
    ]
    events = await fetch_events(session, account, "ServiceAccount", wanted=show_events)
    w = new_description(meta)
    groups = {
        "Image pull secrets:": [text(s, "name") for s in items(account, "imagePullSecrets")],
        "Mountable secrets: ": [text(s, "name") for s in items(account, "secrets")],
        "Tokens:            ": tokens,
    }
    for header in sorted(groups):
        if not groups[header]:
            w.write(0, f"{header}\t<none>\n")
        for i, secret in enumerate(groups[header]):
            missing = " (not found)" if secrets is not None and secret not in existing else ""
            w.write(0, f"{header if i == 0 else ' ' * 19}\t{secret}{missing}\n")
    return w.render(events)
