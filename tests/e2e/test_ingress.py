"""The Ingress addon through the real kubectl and curl: the docs' minikube flow, TLS, errors.

This module starts its own cluster with ``serve --addons ingress`` (what ``minikube addons
enable ingress`` gives), so the controller's listeners on the control-plane node's address,
ports 80 and 443 (or their fallbacks, ``listen_port``), belong to it alone. The first test
follows "Set up Ingress on Minikube with the NGINX Ingress Controller" from the Kubernetes
docs command by command, with the docs' ``example-ingress.yaml``.
"""

from __future__ import annotations

import datetime
import json
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from minikube_py.config import listen_port
from tests.e2e.conftest import Kubectl, Server, make_kubectl, serving
from tests.e2e.test_pods import WAIT, eventually

EXAMPLE = Path(__file__).parent / "corpus" / "website-examples" / "service" / "networking"
HOST = "hello-world.example"


@pytest.fixture(scope="module")
def with_ingress(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    state = tmp_path_factory.mktemp("ingress")
    with serving(state, extra=("--addons", "ingress", "--crash-backoff", "1")) as server:
        yield server
    assert server.exit_code == 0 and not server.killed, server.output_text()[-2000:]


@pytest.fixture(scope="module")
def kubectl_i(with_ingress: Server, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    return make_kubectl(with_ingress.kubeconfig, tmp_path_factory.mktemp("kubectl-ingress"))


def node_ip(kubectl: Kubectl) -> str:
    node = kubectl.json("get", "node", "minikube")
    return str(node["status"]["addresses"][0]["address"])


def curl(*args: str) -> str:
    """curl as the docs run it; its output with the response headers (``-i``)."""
    binary = shutil.which("curl")
    if binary is None:
        pytest.skip("curl is not on PATH: the docs' Ingress flow checks with curl")
    done = subprocess.run(
        [binary, "-s", "-i", "--max-time", "10", *args],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    return done.stdout


def test_the_docs_minikube_ingress_flow(kubectl_i: Kubectl) -> None:
    k = kubectl_i
    k.out("create", "deployment", "web", "--image=gcr.io/google-samples/hello-app:1.0")
    k.out("expose", "deployment", "web", "--type=NodePort", "--port=8080")
    k.out("rollout", "status", "deployment/web", WAIT)
    k.out("apply", "-f", str(EXAMPLE / "example-ingress.yaml"))
    ip, port = node_ip(k), listen_port(80)
    eventually(lambda: ip in k.out("get", "ingress", "example-ingress"))  # ADDRESS column
    resolve = f"{HOST}:{port}:{ip}"
    page = eventually(
        lambda: (
            (out := curl("--resolve", resolve, f"http://{HOST}:{port}")) and "200 OK" in out and out
        )
    )
    assert "Hello, world!" in page and "Version: 1.0.0" in page
    k.out("create", "deployment", "web2", "--image=gcr.io/google-samples/hello-app:2.0")
    k.out("expose", "deployment", "web2", "--port=8080", "--type=NodePort")
    k.out("rollout", "status", "deployment/web2", WAIT)
    ingress = k.json("get", "ingress", "example-ingress")
    ingress["spec"]["rules"][0]["http"]["paths"].append(
        {
            "path": "/v2",
            "pathType": "Prefix",
            "backend": {"service": {"name": "web2", "port": {"number": 8080}}},
        }
    )
    k.out("apply", "-f", "-", stdin=json.dumps(ingress))
    v2 = eventually(
        lambda: (
            (out := curl("--resolve", resolve, f"http://{HOST}:{port}/v2"))
            and "Version: 2.0.0" in out
            and out
        )
    )
    assert "Hello, world!" in v2
    assert "Version: 1.0.0" in curl("--resolve", resolve, f"http://{HOST}:{port}/")
    assert " 404 " in curl(
        "--resolve", f"other.example:{port}:{ip}", f"http://other.example:{port}"
    )


def _certificate(host: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def _served_certificate(ip: str, port: int, host: str) -> str:
    """The common name of the certificate the Ingress shows for ``host`` (SNI)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((ip, port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    cert = x509.load_der_x509_certificate(der)
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def test_tls_from_a_secret_is_chosen_by_sni(kubectl_i: Kubectl, tmp_path: Path) -> None:
    k = kubectl_i
    host = "secure.example"
    cert, key = _certificate(host)
    (tmp_path / "tls.crt").write_text(cert)
    (tmp_path / "tls.key").write_text(key)
    k.out(
        "create", "secret", "tls", "secure-tls",
        f"--cert={tmp_path / 'tls.crt'}", f"--key={tmp_path / 'tls.key'}",
    )  # fmt: skip
    k.out("create", "deployment", "secure", "--image=gcr.io/google-samples/hello-app:1.0")
    k.out("expose", "deployment", "secure", "--port=8080")
    rule = f"{host}/*=secure:8080,tls=secure-tls"
    k.out("create", "ingress", "secure", "--class=nginx", f"--rule={rule}")
    k.out("rollout", "status", "deployment/secure", WAIT)
    ip, port = node_ip(k), listen_port(443)
    eventually(lambda: _served_certificate(ip, port, host) == host)
    assert _served_certificate(ip, port, "unknown.example") == (
        "Kubernetes Ingress Controller Fake Certificate"
    )
    page = eventually(
        lambda: (
            (out := curl("-k", "--resolve", f"{host}:{port}:{ip}", f"https://{host}:{port}/"))
            and "200 OK" in out
            and out
        )
    )
    assert "Hello, world!" in page


def test_a_rule_for_a_missing_service_answers_503(kubectl_i: Kubectl) -> None:
    k = kubectl_i
    k.out("create", "ingress", "nowhere", "--class=nginx", "--rule=nowhere.example/*=missing:80")
    ip, port = node_ip(k), listen_port(80)
    answer = eventually(
        lambda: (
            (
                out := curl(
                    "--resolve", f"nowhere.example:{port}:{ip}", f"http://nowhere.example:{port}/"
                )
            )
            and " 503 " in out.split("\n", 1)[0]
            and out
        )
    )
    assert answer


@pytest.mark.parametrize(
    ("rule", "complaint"),
    [
        ({"host": "Bad_Host.example"}, "spec.rules[0].host"),
        ({"host": "ok.example", "path": "no-slash"}, "spec.rules[0].http.paths[0].path"),
    ],
)
def test_invalid_hosts_and_paths_are_refused(
    kubectl_i: Kubectl, rule: dict[str, Any], complaint: str
) -> None:
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "bad"},
        "spec": {
            "rules": [
                {
                    "host": rule["host"],
                    "http": {
                        "paths": [
                            {
                                "path": rule.get("path", "/"),
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ]
        },
    }
    error = kubectl_i.fails("apply", "-f", "-", stdin=json.dumps(ingress))
    assert "is invalid" in error and complaint in error
