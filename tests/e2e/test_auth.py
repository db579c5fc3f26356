"""Who may talk to the cluster: client certificates from the cluster CA, nobody else.

Anonymous callers may read ``/version`` and the health checks only (upstream's
``system:public-info-viewer``); everything else is 401. A certificate from another CA, an
expired one, or a bearer token nobody issued is refused. The profile's own files work with
plain ``curl``, as minikube's do.
"""

from __future__ import annotations

import datetime
import json
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.e2e.conftest import Kubectl, Server


def curl(server: Server, path: str, *args: str, tmp: Path) -> tuple[int, int, Any]:
    """(curl's exit code, HTTP status or 0, the parsed body or its text)."""
    if shutil.which("curl") is None:
        pytest.skip("curl is not on PATH")
    body = tmp / "body"
    body.unlink(missing_ok=True)
    done = subprocess.run(
        [
            "curl",
            "-sS",
            "--noproxy",
            "*",
            "--max-time",
            "10",
            "-o",
            str(body),
            "-w",
            "%{http_code}",
            *args,
            f"https://127.0.0.1:{server.port}{path}",
        ],
        capture_output=True,
        text=True,
        timeout=20,
    )
    code = int(done.stdout or 0)
    text = body.read_text() if body.exists() else ""
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = text
    return done.returncode, code, parsed


def admin(server: Server) -> list[str]:
    return ["--cert", str(server.client_cert), "--key", str(server.client_key)]


def test_version_needs_no_certificate(cluster: Server, tmp_path: Path) -> None:
    rc, code, body = curl(cluster, "/version", "-k", tmp=tmp_path)
    assert (rc, code) == (0, 200)
    assert body["gitVersion"].startswith("v1.32.")
    for path in ("/healthz", "/livez", "/readyz"):
        rc, code, text = curl(cluster, path, "-k", tmp=tmp_path)
        assert (rc, code, text) == (0, 200, "ok")
    rc, code, text = curl(cluster, "/readyz?verbose", "-k", tmp=tmp_path)
    assert code == 200 and text.endswith("readyz check passed\n"), text


def test_server_certificate_verifies_against_the_cluster_ca(
    cluster: Server, tmp_path: Path
) -> None:
    rc, code, _ = curl(cluster, "/version", "--cacert", str(cluster.ca_cert), tmp=tmp_path)
    assert (rc, code) == (0, 200)
    # The certificate names localhost too.
    done = subprocess.run(
        [
            "curl",
            "-sS",
            "--noproxy",
            "*",
            "--max-time",
            "10",
            "--cacert",
            str(cluster.ca_cert),
            "--resolve",
            f"localhost:{cluster.port}:127.0.0.1",
            f"https://localhost:{cluster.port}/version",
        ],
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["major"] == "1"


def test_anonymous_is_refused_everywhere_else(cluster: Server, tmp_path: Path) -> None:
    for path in (
        "/api",
        "/apis",
        "/api/v1/namespaces",
        "/api/v1/namespaces/default/configmaps",
        "/openapi/v3",
        "/nonexistent",
    ):
        rc, code, body = curl(cluster, path, "-k", tmp=tmp_path)
        assert (rc, code) == (0, 401), (path, body)
        assert body == {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "Unauthorized",
            "reason": "Unauthorized",
            "code": 401,
        }, (path, body)


def test_profile_client_certificate_is_admin(cluster: Server, tmp_path: Path) -> None:
    rc, code, body = curl(cluster, "/api", "-k", *admin(cluster), tmp=tmp_path)
    assert (rc, code) == (0, 200)
    assert body["kind"] == "APIVersions" and body["versions"] == ["v1"]
    rc, code, body = curl(
        cluster,
        "/api/v1/namespaces/default/services/kubernetes",
        "--cacert",
        str(cluster.ca_cert),
        *admin(cluster),
        tmp=tmp_path,
    )
    assert (rc, code) == (0, 200)
    assert body["metadata"]["name"] == "kubernetes"


def test_key_files_are_private(cluster: Server) -> None:
    for name in ("ca.key", "apiserver.key", "client.key"):
        mode = stat.S_IMODE((cluster.state_dir / name).stat().st_mode)
        assert mode == 0o600, f"{name} has mode {oct(mode)}"
    mode = stat.S_IMODE(cluster.kubeconfig.stat().st_mode)
    assert mode == 0o600, f"the kubeconfig has mode {oct(mode)}"


# ------------------------------------------------------------------------ foreign credentials


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str, org: str | None = None) -> x509.Name:
    parts = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)] if org else []
    return x509.Name([*parts, x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _certificate(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    expired: bool = False,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    start, end = (
        (now - datetime.timedelta(days=10), now - datetime.timedelta(days=1))
        if expired
        else (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1))
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(tmp: Path, stem: str, cert: x509.Certificate, key: Any) -> list[str]:
    cert_path, key_path = tmp / f"{stem}.crt", tmp / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ["--cert", str(cert_path), "--key", str(key_path)]


def _refused(rc: int, code: int, body: Any) -> bool:
    """Upstream answers 401 (TLS accepts any certificate, the authenticator rejects it); a
    server that ends the TLS handshake instead (curl fails, no HTTP status) refuses too."""
    return (rc == 0 and code == 401) or (rc != 0 and code == 0)


def test_certificate_from_another_ca_is_refused(cluster: Server, tmp_path: Path) -> None:
    ca_key = _key()
    ca_name = _name("impostor-ca")
    ca = _certificate(ca_name, ca_key, ca_name, ca_key, ca=True)
    key = _key()
    # The admin's very identity, signed by the wrong CA.
    cert = _certificate(_name("minikube-user", "system:masters"), key, ca_name, ca_key, ca=False)
    flags = _write(tmp_path, "impostor", cert, key)
    with (tmp_path / "impostor.crt").open("ab") as chain:  # offer the whole chain
        chain.write(ca.public_bytes(serialization.Encoding.PEM))
    for path in ("/api", "/api/v1/namespaces/default/configmaps"):
        rc, code, body = curl(cluster, path, "-k", *flags, tmp=tmp_path)
        assert _refused(rc, code, body), (path, rc, code, body)
    # A self-signed certificate is no better.
    self_key = _key()
    self_signed = _certificate(
        _name("minikube-user", "system:masters"), self_key, ca_name, self_key, ca=False
    )
    rc, code, body = curl(
        cluster, "/api", "-k", *_write(tmp_path, "self", self_signed, self_key), tmp=tmp_path
    )
    assert _refused(rc, code, body), (rc, code, body)


def _cluster_ca(cluster: Server) -> tuple[x509.Name, Any]:
    ca = x509.load_pem_x509_certificate((cluster.state_dir / "ca.crt").read_bytes())
    key = serialization.load_pem_private_key(
        (cluster.state_dir / "ca.key").read_bytes(), password=None
    )
    return ca.subject, key


def test_expired_certificate_from_the_cluster_ca_is_refused(
    cluster: Server, tmp_path: Path
) -> None:
    issuer, issuer_key = _cluster_ca(cluster)
    key = _key()
    cert = _certificate(
        _name("minikube-user", "system:masters"), key, issuer, issuer_key, ca=False, expired=True
    )
    rc, code, body = curl(
        cluster, "/api", "-k", *_write(tmp_path, "expired", cert, key), tmp=tmp_path
    )
    assert _refused(rc, code, body), (rc, code, body)


def test_another_user_from_the_cluster_ca_is_accepted(cluster: Server, tmp_path: Path) -> None:
    """CN names the user, O the groups; until RBAC, every authenticated user may do all."""
    issuer, issuer_key = _cluster_ca(cluster)
    key = _key()
    cert = _certificate(_name("jane", "developers"), key, issuer, issuer_key, ca=False)
    rc, code, body = curl(
        cluster, "/api/v1/namespaces", "-k", *_write(tmp_path, "jane", cert, key), tmp=tmp_path
    )
    assert (rc, code) == (0, 200), body
    assert body["kind"] == "NamespaceList"


def test_bad_bearer_token_is_401(cluster: Server, tmp_path: Path) -> None:
    for path in ("/api", "/api/v1/namespaces/default/configmaps", "/version"):
        rc, code, body = curl(
            cluster, path, "-k", "-H", "Authorization: Bearer not-a-real-token", tmp=tmp_path
        )
        # A credential that does not authenticate is a 401 even where anonymous may read.
        assert (rc, code) == (0, 401), (path, body)
        assert body["reason"] == "Unauthorized", body
    # A valid certificate wins over a bad token, as upstream asks the certificate first.
    rc, code, _ = curl(
        cluster,
        "/api",
        "-k",
        *admin(cluster),
        "-H",
        "Authorization: Bearer not-a-real-token",
        tmp=tmp_path,
    )
    assert (rc, code) == (0, 200)


def test_kubectl_without_credentials_is_told_to_log_in(
    kubectl: Kubectl, cluster: Server, tmp_path: Path
) -> None:
    anonymous = tmp_path / "anonymous.kubeconfig"
    anonymous.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "c",
                        "cluster": {
                            "server": cluster.url,
                            "certificate-authority": str(cluster.ca_cert),
                        },
                    }
                ],
                "users": [{"name": "u", "user": {"token": "bogus"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    err = kubectl.fails("--kubeconfig", str(anonymous), "get", "configmaps")
    # kubectl 1.32 words it "(the server has asked for the client to provide credentials)"
    # when discovery fails first, "(Unauthorized)" otherwise; both come from a 401.
    assert "error: You must be logged in to the server (" in err, err
