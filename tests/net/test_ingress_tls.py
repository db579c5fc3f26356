"""HTTPS through the Ingress: certificates from TLS Secrets chosen by SNI, the fake default
certificate for everything else, and the redirect from HTTP."""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from minikube_py.client.protocol import SECRETS
from minikube_py.net.ingress_tls import FAKE_CERTIFICATE_NAME
from tests.controllers.stepping import eventually
from tests.net.ingress_helpers import Setup, backends, ingress_cluster, make_ingress, make_service
from tests.net.ingress_helpers import path as ingress_path


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    async with ingress_cluster(tmp_path) as made:
        yield made


def certificate(*names: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def tls_secret(name: str, cert_pem: bytes, key_pem: bytes) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "type": "kubernetes.io/tls",
        "data": {
            "tls.crt": base64.b64encode(cert_pem).decode(),
            "tls.key": base64.b64encode(key_pem).decode(),
        },
    }


async def https_get(setup: Setup, server_name: str, host: str) -> tuple[str, str, bytes]:
    """The certificate's common name, the status line and the body of GET / over TLS."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # self-signed: the test reads the certificate itself
    reader, writer = await asyncio.open_connection(
        setup.address, setup.controller.https_port, ssl=context, server_hostname=server_name
    )
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True)
        name = (
            x509.load_der_x509_certificate(der)
            .subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0]
            .value
        )
        writer.write(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        async with asyncio.timeout(5):
            answer = await reader.read()
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return str(name), head.split(b"\r\n")[0].decode(), body


async def test_certificates_by_sni_and_the_default_for_the_rest(setup: Setup) -> None:
    cert_pem, key_pem = certificate("secure.example", "*.wild.example")
    other_pem, _ = certificate("someone-else.example")
    await setup.client.create(SECRETS, "default", tls_secret("secure", cert_pem, key_pem))
    await setup.client.create(SECRETS, "default", tls_secret("mismatch", other_pem, key_pem))
    broken = tls_secret("broken", b"not a certificate", b"nor a key")
    await setup.client.create(SECRETS, "default", broken)
    hosts = ["secure.example", "a.wild.example", "broken.example", "missing.example"]
    async with backends(setup, "site") as (site,):
        await make_service(setup.client, "site", [(site.address, site.port, True)])
        await make_ingress(
            setup.client,
            "secure",
            [{"host": host, "http": {"paths": [ingress_path("/", "site")]}} for host in hosts],
            tls=[
                {"hosts": ["secure.example", "*.wild.example"], "secretName": "secure"},
                {"hosts": ["broken.example"], "secretName": "broken"},
                {"hosts": ["missing.example"], "secretName": "no-such-secret"},
            ],
        )

        async def secure() -> bool:
            name, status, _ = await https_get(setup, "secure.example", "secure.example")
            return name == "secure.example" and status == "HTTP/1.1 200 OK"

        await eventually(secure, "the certificate of secure.example")
        name, _, body = await https_get(setup, "secure.example", "secure.example")
        headers = json.loads(body)["headers"]
        assert headers["X-Forwarded-Proto"] == "https"
        assert headers["X-Forwarded-Port"] == str(setup.controller.https_port)
        name, status, _ = await https_get(setup, "x.wild.example", "x.wild.example")
        assert (name, status) == ("secure.example", "HTTP/1.1 404 Not Found")  # no rule: 404
        for server_name in ("broken.example", "missing.example", "unknown.example"):
            name, _, _ = await https_get(setup, server_name, server_name)
            assert name == FAKE_CERTIFICATE_NAME, server_name
        # a certificate that does not name the host is not used for it (ingress-nginx)
        await make_ingress(
            setup.client,
            "mismatch",
            [{"host": "m.example", "http": {"paths": [ingress_path("/", "site")]}}],
            tls=[{"hosts": ["m.example"], "secretName": "mismatch"}],
        )

        async def redirected() -> bool:  # the new Ingress is in the table
            reader, writer = await asyncio.open_connection(
                setup.address, setup.controller.http_port
            )
            writer.write(b"GET /a?b=c HTTP/1.1\r\nHost: m.example\r\nConnection: close\r\n\r\n")
            answer = await reader.read()
            writer.close()
            location = f"Location: https://m.example:{setup.controller.https_port}/a?b=c"
            return answer.startswith(b"HTTP/1.1 308") and location.encode() in answer

        await eventually(redirected, "HTTP redirected to HTTPS")
        name, status, _ = await https_get(setup, "m.example", "m.example")
        assert (name, status) == (FAKE_CERTIFICATE_NAME, "HTTP/1.1 200 OK")


async def test_a_renewed_secret_is_served(setup: Setup) -> None:
    cert_pem, key_pem = certificate("renew.example")
    await setup.client.create(SECRETS, "default", tls_secret("renew", cert_pem, key_pem))
    await make_ingress(
        setup.client,
        "renew",
        [{"host": "renew.example", "http": {"paths": [ingress_path("/", "none")]}}],
        tls=[{"hosts": ["renew.example"], "secretName": "renew"}],
    )

    async def serial() -> int:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        _, writer = await asyncio.open_connection(
            setup.address,
            setup.controller.https_port,
            ssl=context,
            server_hostname="renew.example",
        )
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        writer.close()
        return x509.load_der_x509_certificate(der).serial_number

    first = x509.load_pem_x509_certificate(cert_pem).serial_number
    await eventually(lambda: _is(serial(), first), "the first certificate")
    cert_pem, key_pem = certificate("renew.example")
    await setup.client.update(SECRETS, "default", tls_secret("renew", cert_pem, key_pem))
    second = x509.load_pem_x509_certificate(cert_pem).serial_number
    await eventually(lambda: _is(serial(), second), "the renewed certificate")


async def _is(value: Any, wanted: Any) -> bool:
    return bool(await value == wanted)
