"""The cluster's certificates: what they say, where they live, when they are (re)made."""

from __future__ import annotations

import datetime
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from minikube_py.apiserver.pki import (
    DEFAULT_DNS_NAMES,
    Pki,
    ensure_pki,
    issue_client_certificate,
)


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def contents(pki: Pki) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in pki.directory.iterdir() if path.is_file()}


def attribute(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in cert.subject.get_attributes_for_oid(oid)]


def sans(cert: x509.Certificate) -> tuple[set[str], set[str]]:
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    ips = {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    return ips, set(names.get_values_for_type(x509.DNSName))


def usages(cert: x509.Certificate) -> list[x509.ObjectIdentifier]:
    return list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def years(cert: x509.Certificate) -> float:
    return (cert.not_valid_after_utc - cert.not_valid_before_utc) / datetime.timedelta(days=365)


def test_files_are_named_like_a_minikube_profile_and_keys_are_private(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path / "pki", addresses=["127.49.0.2"])
    assert pki == Pki.at(tmp_path / "pki")
    for cert in (pki.ca_cert, pki.server_cert, pki.client_cert):
        assert cert.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    for key in (pki.ca_key, pki.server_key, pki.client_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert pki.client_cert.name == "client.crt" and pki.client_key.name == "client.key"
    leftovers = [p.name for p in pki.directory.iterdir() if p.name.startswith(".") and p.is_file()]
    assert leftovers == [".lock"]  # no temporary files


def test_certificates_chain_to_the_minikube_ca(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path, addresses=[])
    ca = load(pki.ca_cert)
    assert attribute(ca, NameOID.COMMON_NAME) == ["minikubeCA"]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert 9.9 < years(ca) < 10.1
    for path in (pki.server_cert, pki.client_cert):
        leaf = load(path)
        leaf.verify_directly_issued_by(ca)
        assert leaf.issuer == ca.subject
        assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        assert 2.9 < years(leaf) < 3.1
        # P-256: fast to make, accepted by Go, OpenSSL and urllib3.
        assert leaf.public_key().curve.name == "secp256r1"  # type: ignore[union-attr]


def test_server_certificate_names_every_address_and_host_name(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path, addresses=["127.49.0.2", "127.96.0.1", "::1"])
    server = load(pki.server_cert)
    ips, names = sans(server)
    assert ips == {"127.0.0.1", "127.49.0.2", "127.96.0.1", "::1"}
    assert names == set(DEFAULT_DNS_NAMES)
    assert {"kubernetes.default.svc.cluster.local", "localhost"} <= names
    assert usages(server) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_admin_certificate_is_minikube_user_in_system_masters(tmp_path: Path) -> None:
    client = load(ensure_pki(tmp_path, addresses=[]).client_cert)
    assert attribute(client, NameOID.COMMON_NAME) == ["minikube-user"]
    assert attribute(client, NameOID.ORGANIZATION_NAME) == ["system:masters"]
    assert usages(client) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_later_calls_reuse_every_file_byte_for_byte(tmp_path: Path) -> None:
    first = contents(ensure_pki(tmp_path, addresses=["127.49.0.2"]))
    # A subset of what the certificate already names needs nothing new either.
    again = contents(ensure_pki(tmp_path, addresses=["127.49.0.2"]))
    subset = contents(ensure_pki(tmp_path, addresses=[], dns_names=["localhost"]))
    assert first == again == subset


def test_a_new_address_reissues_only_the_server_certificate(tmp_path: Path) -> None:
    before = contents(ensure_pki(tmp_path, addresses=["127.49.0.2"]))
    pki = ensure_pki(tmp_path, addresses=["127.49.0.3"])
    after = contents(pki)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"apiserver.crt"}  # same CA, same admin cert, same server key
    server = load(pki.server_cert)
    server.verify_directly_issued_by(load(pki.ca_cert))
    # The old address stays, so two callers that disagree do not reissue it back and forth.
    assert sans(server)[0] == {"127.0.0.1", "127.49.0.2", "127.49.0.3"}
    assert contents(ensure_pki(tmp_path, addresses=["127.49.0.2"])) == after


def test_a_new_dns_name_reissues_the_server_certificate(tmp_path: Path) -> None:
    ensure_pki(tmp_path, addresses=[])
    pki = ensure_pki(tmp_path, addresses=[], dns_names=["api.example.test"])
    assert "api.example.test" in sans(load(pki.server_cert))[1]


def test_a_server_certificate_from_another_ca_is_replaced(tmp_path: Path) -> None:
    other = ensure_pki(tmp_path / "other", addresses=["127.49.0.2"])
    pki = Pki.at(tmp_path / "mine")
    pki.directory.mkdir()
    pki.server_cert.write_bytes(other.server_cert.read_bytes())
    pki.server_key.write_bytes(other.server_key.read_bytes())
    ensure_pki(pki.directory, addresses=["127.49.0.2"])
    load(pki.server_cert).verify_directly_issued_by(load(pki.ca_cert))


def test_a_missing_client_certificate_is_recreated(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path, addresses=[])
    ca = pki.ca_cert.read_bytes()
    pki.client_cert.unlink()
    pki.client_key.unlink()
    ensure_pki(tmp_path, addresses=[])
    assert pki.ca_cert.read_bytes() == ca
    load(pki.client_cert).verify_directly_issued_by(load(pki.ca_cert))


def test_an_unreadable_ca_is_an_error_not_a_new_ca(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path, addresses=[])
    pki.ca_key.write_bytes(b"not a key")
    with pytest.raises(ValueError, match="cluster CA"):
        ensure_pki(tmp_path, addresses=[])
    assert pki.ca_key.read_bytes() == b"not a key"


def test_addresses_must_be_ip_addresses(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        ensure_pki(tmp_path, addresses=["minikube.local"])


def test_concurrent_first_calls_agree_on_one_ca(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: ensure_pki(tmp_path, addresses=[]), range(8)))
    assert len(set(results)) == 1
    ca = load(results[0].ca_cert)
    load(results[0].server_cert).verify_directly_issued_by(ca)
    load(results[0].client_cert).verify_directly_issued_by(ca)


def test_issue_client_certificate_for_another_user(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path / "pki", addresses=[])
    cert_path, key_path = issue_client_certificate(
        pki, user="alice", groups=["dev", "ops"], path_prefix=tmp_path / "alice"
    )
    assert (cert_path, key_path) == (tmp_path / "alice.crt", tmp_path / "alice.key")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    cert = load(cert_path)
    cert.verify_directly_issued_by(load(pki.ca_cert))
    assert attribute(cert, NameOID.COMMON_NAME) == ["alice"]
    assert attribute(cert, NameOID.ORGANIZATION_NAME) == ["dev", "ops"]
    assert usages(cert) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_issue_client_certificate_needs_an_existing_ca(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cluster CA"):
        issue_client_certificate(
            Pki.at(tmp_path), user="bob", groups=[], path_prefix=tmp_path / "bob"
        )
    assert not (tmp_path / "ca.crt").exists()
