"""Reading a kubeconfig: which server to call, how to trust it, and who to say we are.

A kubeconfig (what ``kubectl`` reads, ``~/.kube/config`` by default) is YAML with named
``clusters`` (a server URL and the CA certificate to trust it by), ``users`` (credentials: a
client certificate and key, or a bearer token) and ``contexts`` (a cluster, a user and a
default namespace), plus ``current-context``. Each certificate or key is given either as a
file path (``client-certificate``; relative paths are relative to the kubeconfig itself, as
kubectl resolves them) or inline, base64-encoded (``client-certificate-data``).

``load_kubeconfig`` turns one context into a ``Connection``: the server URL, a ready
``ssl.SSLContext`` (Python's ``ssl`` loads a certificate chain only from files, so inline
data passes through a private temporary directory that is removed at once), the token and
the context's namespace. ``HttpClient.from_kubeconfig`` builds a client from it.
"""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from pathlib import Path
from typing import Any

import attrs
import yaml


class KubeconfigError(Exception):
    """The kubeconfig is missing, malformed, or lacks the context asked for."""


@attrs.frozen
class Connection:
    """Everything needed to call one cluster as one user."""

    server: str
    ssl_context: ssl.SSLContext | None
    token: str | None = None
    namespace: str = "default"
    tls_server_name: str | None = None


def default_path() -> Path:
    """The first entry of ``$KUBECONFIG`` if set, else ``~/.kube/config`` (as kubectl)."""
    for entry in os.environ.get("KUBECONFIG", "").split(os.pathsep):
        if entry:
            return Path(entry)
    return Path.home() / ".kube" / "config"


def _named(config: dict[str, Any], section: str, name: str, key: str) -> dict[str, Any]:
    for entry in config.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            value = entry.get(key)
            return value if isinstance(value, dict) else {}
    raise KubeconfigError(f"the kubeconfig has no {key} named {name!r}")


def _pem(entry: dict[str, Any], field: str, base: Path) -> bytes | None:
    """The PEM bytes of ``field`` (a path) or ``field-data`` (inline base64), if given."""
    data = entry.get(f"{field}-data")
    if data:
        return base64.b64decode(data)
    path = entry.get(field)
    if path:
        return (base / Path(path).expanduser()).read_bytes()
    return None


def _ssl_context(cluster: dict[str, Any], user: dict[str, Any], base: Path) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca = _pem(cluster, "certificate-authority", base)
    if ca is not None:
        context.load_verify_locations(cadata=ca.decode("ascii"))
    if cluster.get("insecure-skip-tls-verify"):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    cert = _pem(user, "client-certificate", base)
    key = _pem(user, "client-key", base)
    if cert is not None:
        with tempfile.TemporaryDirectory(prefix="minikube-py-kubeconfig-") as directory:
            cert_file, key_file = Path(directory, "client.crt"), Path(directory, "client.key")
            cert_file.write_bytes(cert)
            key_file.touch(mode=0o600)
            key_file.write_bytes(key if key is not None else cert)
            context.load_cert_chain(cert_file, key_file)
    return context


def load_kubeconfig(path: Path | str | None = None, context: str | None = None) -> Connection:
    """The connection of ``context`` (default: the current context) in the kubeconfig."""
    path = Path(path) if path is not None else default_path()
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise KubeconfigError(f"cannot read kubeconfig {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise KubeconfigError(f"{path} is not a valid kubeconfig: {error}") from None
    if not isinstance(config, dict):
        raise KubeconfigError(f"{path} is not a valid kubeconfig: not a mapping")
    name = context or config.get("current-context")
    if not name:
        raise KubeconfigError(f"{path} has no current context; name one")
    chosen = _named(config, "contexts", name, "context")
    cluster = _named(config, "clusters", str(chosen.get("cluster", "")), "cluster")
    user_name = chosen.get("user")
    user = _named(config, "users", str(user_name), "user") if user_name else {}
    server = cluster.get("server")
    if not server:
        raise KubeconfigError(f"the cluster of context {name!r} has no server")
    base = path.resolve().parent
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = (base / Path(user["tokenFile"]).expanduser()).read_text().strip()
    secure = str(server).startswith("https:")
    return Connection(
        server=str(server),
        ssl_context=_ssl_context(cluster, user, base) if secure else None,
        token=str(token) if token else None,
        namespace=str(chosen.get("namespace") or "default"),
        tls_server_name=cluster.get("tls-server-name") or None,
    )
