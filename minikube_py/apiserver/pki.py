"""The cluster's certificates: one CA, the API server's serving certificate, an admin client.

Kubernetes uses TLS both ways. The cluster's own certificate authority (CA), "minikubeCA" as in
minikube, signs everything. Clients trust only that CA to know they reach the real API server,
whose certificate must name every address and host name they dial in its Subject Alternative
Names (SANs). The server trusts the same CA to vouch for clients: a client certificate it signed
*is* an identity, its Common Name the user and each Organization a group. The admin's says
CN=minikube-user, O=system:masters, the group Kubernetes lets do everything.

``ensure_pki`` creates the files once and reuses them, so kubeconfigs survive restarts; when the
server must answer on an address its certificate does not name, only that certificate is
reissued, from the same CA and with the same key. Keys are EC P-256 (microseconds to generate
where RSA-2048 takes ~100 ms; Go, OpenSSL and urllib3 accept them), written atomically, mode
0600. File names follow a minikube profile, so ``curl --cacert ca.crt --cert client.crt --key
client.key https://<ip>:8443/version`` works.
"""

from __future__ import annotations

import datetime
import fcntl
import ipaddress
import os
import ssl
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import attrs
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

CA_NAME = "minikubeCA"
ADMIN_USER = "minikube-user"
ADMIN_GROUPS = ("system:masters",)
DEFAULT_DNS_NAMES = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "minikube-py",
)
_CA_VALIDITY = datetime.timedelta(days=3650)
_LEAF_VALIDITY = datetime.timedelta(days=3 * 365)
# Reissue a leaf certificate this long before it expires, not on the day clients start failing.
_RENEW_BEFORE = datetime.timedelta(days=30)
# Backdated so that a client whose clock is a little behind ours still accepts a new certificate.
_BACKDATE = datetime.timedelta(hours=1)

_IP = ipaddress.IPv4Address | ipaddress.IPv6Address
_Key = ec.EllipticCurvePrivateKey
_Pair = tuple[x509.Certificate, _Key]


@attrs.frozen
class Pki:
    """Where one cluster's certificates and keys live (absolute paths, as kubeconfigs need)."""

    directory: Path
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    @classmethod
    def at(cls, directory: Path) -> Pki:
        """The file layout under ``directory``; nothing is read or written."""
        d = directory.resolve()
        return cls(
            directory=d,
            ca_cert=d / "ca.crt",
            ca_key=d / "ca.key",
            server_cert=d / "apiserver.crt",
            server_key=d / "apiserver.key",
            client_cert=d / "client.crt",
            client_key=d / "client.key",
        )


def ensure_pki(
    directory: Path,
    *,
    addresses: Sequence[str],
    dns_names: Sequence[str] = DEFAULT_DNS_NAMES,
) -> Pki:
    """Create or reuse the certificates in ``directory``; the server's must name every address.

    127.0.0.1 is always named. An existing CA that cannot be read is an error (``ValueError``)
    rather than silently replaced: every kubeconfig and client certificate depends on it.
    """
    pki = Pki.at(directory)
    ips = {ipaddress.ip_address("127.0.0.1"), *(_parse_ip(address) for address in addresses)}
    names = set(dns_names)
    pki.directory.mkdir(parents=True, exist_ok=True)
    # Two processes starting the same profile at once must not mint two different CAs.
    with _locked(pki.directory):
        ca = _load_ca(pki)
        server = _load_pair(pki.server_cert, pki.server_key)
        # A certificate from another CA, or about to expire, counts as naming nothing.
        old_ips, old_names = (
            _sans(server[0]) if server is not None and _current(server[0], ca) else (set(), set())
        )
        if server is None or not (ips <= old_ips and names <= old_names):
            key = server[1] if server is not None else _new_key()
            # The old names stay: two callers that disagree must not reissue it back and forth.
            cert = _sign(
                ca,
                key,
                subject=_name("minikube-py"),
                usage=ExtendedKeyUsageOID.SERVER_AUTH,
                ips=ips | old_ips,
                dns_names=names | old_names,
            )
            _write_pair(pki.server_cert, pki.server_key, cert, key if server is None else None)
        client = _load_pair(pki.client_cert, pki.client_key)
        if client is None or not _current(client[0], ca):
            key = client[1] if client is not None else _new_key()
            cert = _sign(ca, key, subject=_name(ADMIN_USER, ADMIN_GROUPS))
            _write_pair(pki.client_cert, pki.client_key, cert, key if client is None else None)
    return pki


def issue_client_certificate(
    pki: Pki, *, user: str, groups: Sequence[str] = (), path_prefix: Path
) -> tuple[Path, Path]:
    """Sign a certificate for ``user`` in ``groups``; returns the paths prefix.crt, prefix.key."""
    ca = _load_ca(pki, create=False)
    key = _new_key()
    cert = _sign(ca, key, subject=_name(user, groups))
    cert_path, key_path = Path(f"{path_prefix}.crt"), Path(f"{path_prefix}.key")
    _write_pair(cert_path, key_path, cert, key)
    return cert_path, key_path


def server_ssl_context(pki: Pki) -> ssl.SSLContext:
    """TLS for the API server: its certificate, and client certificates checked if offered."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(pki.server_cert, pki.server_key)
    context.load_verify_locations(cafile=pki.ca_cert)
    # Optional, not required: health probes and bearer-token clients (service accounts) have no
    # certificate. One that is offered must chain to the CA, or OpenSSL ends the handshake.
    context.verify_mode = ssl.CERT_OPTIONAL
    # Go clients offer h2 first; aiohttp serves HTTP/1.1 only, so say so during the handshake.
    context.set_alpn_protocols(["http/1.1"])
    return context


def client_ssl_context(pki: Pki) -> ssl.SSLContext:
    """TLS for an admin client: trust only the cluster CA, present the admin certificate."""
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    # Python 3.13 turns strict checking on by default; turning it on now keeps our
    # certificates honest on every supported Python.
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    context.load_cert_chain(pki.client_cert, pki.client_key)
    return context


def _parse_ip(address: str) -> _IP:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        raise ValueError(f"{address!r} is not an IP address; use dns_names") from None


def _name(common_name: str, organizations: Sequence[str] = ()) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    return x509.Name([*attributes, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _new_key() -> _Key:
    return ec.generate_private_key(ec.SECP256R1())


def _sign(
    issuer: _Pair | None,
    key: _Key,
    *,
    subject: x509.Name,
    usage: ObjectIdentifier = ExtendedKeyUsageOID.CLIENT_AUTH,
    ips: Iterable[_IP] = (),
    dns_names: Iterable[str] = (),
) -> x509.Certificate:
    """A certificate for ``key``, signed by ``issuer`` (or by itself, making a CA)."""
    is_ca = issuer is None
    issuer_name, issuer_key = (subject, key) if issuer is None else (issuer[0].subject, issuer[1])
    # digital_signature, content_commitment, key_encipherment, data_encipherment, key_agreement,
    # key_cert_sign, crl_sign, encipher_only, decipher_only: an EC key signs, it never encrypts.
    key_usage = x509.KeyUsage(True, False, False, False, False, is_ca, is_ca, False, False)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + (_CA_VALIDITY if is_ca else _LEAF_VALIDITY))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(key_usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if not is_ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    sans: list[x509.GeneralName] = [x509.IPAddress(ip) for ip in sorted(ips, key=str)]
    sans += [x509.DNSName(name) for name in sorted(dns_names)]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _load_ca(pki: Pki, *, create: bool = True) -> _Pair:
    if create and not pki.ca_cert.exists() and not pki.ca_key.exists():
        key = _new_key()
        cert = _sign(None, key, subject=_name(CA_NAME))
        _write_pair(pki.ca_cert, pki.ca_key, cert, key)
        return cert, key
    ca = _load_pair(pki.ca_cert, pki.ca_key)
    if ca is None:
        raise ValueError(
            f"the cluster CA in {pki.directory} is unreadable or its key does not match; "
            "delete the directory to start over with new certificates"
        )
    return ca


def _load_pair(cert_path: Path, key_path: Path) -> _Pair | None:
    """The certificate and its key, or None if either is missing, unreadable or mismatched."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or cert.public_key() != key.public_key():
        return None
    return cert, key


def _current(cert: x509.Certificate, ca: _Pair) -> bool:
    """Signed by this CA and not about to expire."""
    try:
        cert.verify_directly_issued_by(ca[0])
    except (ValueError, TypeError, InvalidSignature):
        return False
    remaining = cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC)
    return remaining > _RENEW_BEFORE


def _sans(cert: x509.Certificate) -> tuple[set[_IP], set[str]]:
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set(), set()
    addresses = names.get_values_for_type(x509.IPAddress)
    ips = {ip for ip in addresses if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address)}
    return ips, set(names.get_values_for_type(x509.DNSName))


def _write_pair(cert_path: Path, key_path: Path, cert: x509.Certificate, key: _Key | None) -> None:
    """Write ``cert`` and, unless it is None because the file already holds it, ``key``."""
    # The key goes first: a reader may see a new key with an old certificate for an instant,
    # never a certificate whose key is not yet on disk.
    if key is not None:
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        _write_atomically(key_path, pem, mode=0o600)
    _write_atomically(cert_path, cert.public_bytes(Encoding.PEM), mode=0o644)


def _write_atomically(path: Path, data: bytes, *, mode: int) -> None:
    """Write via a temporary file and rename, so readers see the old file or the new one."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), mode)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    with (directory / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
