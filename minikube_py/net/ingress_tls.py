"""HTTPS for Ingresses: certificates from ``kubernetes.io/tls`` Secrets, chosen by SNI.

An Ingress's ``spec.tls`` names, for some of its hosts, a Secret holding ``tls.crt`` (PEM,
the certificate and its chain) and ``tls.key``. One HTTPS listener serves every host: the
client names the host it wants in the TLS handshake (SNI), and ``ssl.SSLContext.sni_callback``
switches the handshake to that host's context before the certificate is sent.

As ingress-nginx, a host whose Secret is missing, unreadable, not a key pair, or whose
certificate does not name the host (Subject Alternative Names, else the Common Name) is served
with the controller's default certificate — a self-signed "Kubernetes Ingress Controller Fake
Certificate" made at start — and the reason is logged. So is any host not named in a TLS
section, and a client that sends no SNI.

Python's ``ssl`` loads certificates only from files, so each key pair is written to a private
temporary directory for the moment it takes to load, off the event loop.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import ssl
import tempfile
from pathlib import Path
from typing import Any

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from minikube_py.net.ingress_rules import RoutingTable

Object = dict[str, Any]
FAKE_CERTIFICATE_NAME = "Kubernetes Ingress Controller Fake Certificate"
Loaded = tuple[ssl.SSLContext, list[str]] | str  # a Secret's context and names, or what is wrong


def fake_certificate() -> tuple[bytes, bytes]:
    """A self-signed certificate and key (PEM) like ingress-nginx's default one."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme Co"),
            x509.NameAttribute(NameOID.COMMON_NAME, FAKE_CERTIFICATE_NAME),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("ingress.local")]), False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def server_context(cert_pem: bytes, key_pem: bytes) -> ssl.SSLContext:
    """A TLS server context for one key pair (blocking: it writes and reads files)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.set_alpn_protocols(["http/1.1"])
    with tempfile.TemporaryDirectory(prefix="ingress-tls-") as directory:
        cert_file, key_file = Path(directory, "tls.crt"), Path(directory, "tls.key")
        cert_file.write_bytes(cert_pem)
        key_file.touch(mode=0o600)
        key_file.write_bytes(key_pem)
        context.load_cert_chain(cert_file, key_file)
    return context


def names_of(cert_pem: bytes) -> list[str]:
    """The DNS names a certificate is for: its SANs, else its Common Name."""
    certificate = x509.load_pem_x509_certificate(cert_pem)
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = extension.value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    if not names:
        names = [
            str(attribute.value)
            for attribute in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        ]
    return [name.lower() for name in names]


def covers(names: list[str], host: str) -> bool:
    """Whether a certificate for ``names`` is valid for ``host`` (one wildcard label)."""
    host = host.lower()
    for name in names:
        if name == host:
            return True
        if name.startswith("*.") and host.partition(".")[2] == name[2:] and "*" not in host:
            return True
    return False


@attrs.frozen
class Loading:
    by_host: dict[str, ssl.SSLContext]
    loaded: dict[tuple[str, str, str], Loaded]
    problems: list[str]


class TlsCertificates:
    """The HTTPS listener's context and the per-host contexts it switches to by SNI."""

    def __init__(self, cert_pem: bytes, key_pem: bytes) -> None:
        self.default = server_context(cert_pem, key_pem)
        self.default.sni_callback = self._choose
        self.table = RoutingTable()
        self._by_host: dict[str, ssl.SSLContext] = {}
        self._loaded: dict[tuple[str, str, str], Loaded] = {}

    def _choose(
        self, connection: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext
    ) -> None:
        if server_name:
            context = self._by_host.get(self.table.server(server_name).host)
            if context is not None:
                connection.context = context
        return None

    def install(self, table: RoutingTable, loading: Loading) -> None:
        """Switch to ``table`` and the certificates ``load`` made for it (on the loop)."""
        self._by_host, self._loaded, self.table = loading.by_host, loading.loaded, table

    def load(self, table: RoutingTable, secrets: dict[str, Object]) -> Loading:
        """Load the certificates ``table``'s TLS hosts name (blocking: run it off the loop);
        ``problems`` are the hosts served with the default certificate instead, and why."""
        problems: list[str] = []
        by_host: dict[str, ssl.SSLContext] = {}
        loaded: dict[tuple[str, str, str], Loaded] = {}
        for server in [*table.exact.values(), *table.wildcard.values()]:
            if server.tls is None or not server.tls[1]:
                continue
            namespace, name = server.tls
            secret = secrets.get(f"{namespace}/{name}")
            version = str(((secret or {}).get("metadata") or {}).get("resourceVersion") or "")
            cache_key = (namespace, name, version)
            result = loaded.get(cache_key) or self._loaded.get(cache_key)
            if result is None:
                result = _load(secret) if secret is not None else "not found"
            loaded[cache_key] = result
            if isinstance(result, str):
                problems.append(f"{server.host}: Secret {namespace}/{name}: {result}")
                continue
            context, names = result
            if not covers(names, server.host):
                problems.append(
                    f"{server.host}: the certificate in Secret {namespace}/{name} is not for "
                    f"this host (it names {', '.join(names) or 'nothing'})"
                )
                continue
            by_host[server.host] = context
        return Loading(by_host, loaded, problems)


def _load(secret: Object) -> Loaded:
    """The context of a TLS Secret, or why it cannot serve."""
    data = secret.get("data") or {}
    try:
        cert_pem = base64.b64decode(data.get("tls.crt") or "", validate=True)
        key_pem = base64.b64decode(data.get("tls.key") or "", validate=True)
    except (binascii.Error, ValueError):
        return "tls.crt or tls.key is not valid base64"
    if not cert_pem or not key_pem:
        return "it has no tls.crt or no tls.key"
    try:
        names = names_of(cert_pem)
        context = server_context(cert_pem, key_pem)
    except Exception as error:  # whatever is wrong with a user's Secret, the default serves
        return f"not a valid certificate and key: {error}"
    return context, names
