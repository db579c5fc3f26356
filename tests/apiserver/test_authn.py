"""Authentication: certificates, bearer tokens and anonymous requests, over real TLS too."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import ssl
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from minikube_py.apiserver.authn import (
    ANONYMOUS,
    Authenticator,
    UserInfo,
    is_allowed,
    is_public,
)
from minikube_py.apiserver.pki import (
    Pki,
    client_ssl_context,
    ensure_pki,
    issue_client_certificate,
    server_ssl_context,
)

ADMIN_CERT = {
    "subject": ((("organizationName", "system:masters"),), (("commonName", "minikube-user"),)),
    "issuer": ((("commonName", "minikubeCA"),),),
}
ALICE = UserInfo(name="alice", groups=("dev",), uid="u-1")


# -- the rules, without sockets -----------------------------------------------------------------


def test_a_certificate_names_the_user_and_groups() -> None:
    user = Authenticator().authenticate(ADMIN_CERT, None)
    assert user == UserInfo("minikube-user", ("system:masters", "system:authenticated"))


def test_every_organization_is_a_group() -> None:
    cert = {
        "subject": (
            (("organizationName", "a"),),
            (("organizationName", "b"),),
            (("commonName", "u"),),
        )
    }
    assert Authenticator().authenticate(cert, None) == UserInfo(
        "u", ("a", "b", "system:authenticated")
    )


def test_no_credentials_is_anonymous() -> None:
    authenticator = Authenticator()
    no_certificates: list[dict[str, Any] | None] = [None, {}]
    for cert in no_certificates:
        for header in (None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer  x"):
            assert authenticator.authenticate(cert, header) == ANONYMOUS
    assert UserInfo("system:anonymous", ("system:unauthenticated",)) == ANONYMOUS


def test_a_known_bearer_token_is_its_user() -> None:
    authenticator = Authenticator()
    authenticator.add_token("s3cret", ALICE)
    expected = UserInfo("alice", ("dev", "system:authenticated"), uid="u-1")
    assert authenticator.authenticate(None, "Bearer s3cret") == expected
    assert authenticator.authenticate(None, "bearer s3cret") == expected  # scheme is caseless
    authenticator.remove_token("s3cret")
    assert authenticator.authenticate(None, "Bearer s3cret") is None


def test_an_unknown_bearer_token_fails_rather_than_being_anonymous() -> None:
    authenticator = Authenticator()
    authenticator.add_token("s3cret", ALICE)
    assert authenticator.authenticate(None, "Bearer wrong") is None


def test_the_token_reviewer_sees_tokens_the_table_does_not_know() -> None:
    seen: list[str] = []

    def review(token: str) -> UserInfo | None:
        seen.append(token)
        if token == "sa-token":
            return UserInfo("system:serviceaccount:default:builder", ("system:serviceaccounts",))
        return None

    authenticator = Authenticator(token_reviewer=review)
    authenticator.add_token("static", ALICE)
    user = authenticator.authenticate(None, "Bearer sa-token")
    assert user is not None and user.name == "system:serviceaccount:default:builder"
    assert user.groups == ("system:serviceaccounts", "system:authenticated")
    assert authenticator.authenticate(None, "Bearer forged") is None
    assert authenticator.authenticate(None, "Bearer static") is not None
    assert seen == ["sa-token", "forged"]


def test_a_verified_certificate_wins_over_a_token() -> None:
    user = Authenticator().authenticate(ADMIN_CERT, "Bearer unknown")
    assert user is not None and user.name == "minikube-user"


def test_tokens_must_be_usable_in_a_header() -> None:
    for bad in ("", "two words"):
        with pytest.raises(ValueError):
            Authenticator().add_token(bad, ALICE)


def test_public_paths() -> None:
    for path in ("/version", "/version/", "/healthz", "/healthz/etcd", "/livez?verbose", "/readyz"):
        assert is_public(path), path
    for path in ("/", "/api", "/versions", "/healthzz", "/api/v1/version", "/openapi/v3"):
        assert not is_public(path), path


def test_anonymous_may_only_read_public_paths_everyone_else_anything() -> None:
    assert is_allowed(ANONYMOUS, "/version")
    assert not is_allowed(ANONYMOUS, "/api/v1/namespaces")
    assert is_allowed(UserInfo("alice", ("system:authenticated",)), "/api/v1/secrets")


# -- over a real TLS connection -----------------------------------------------------------------


@asynccontextmanager
async def whoami_server(pki: Pki, authenticator: Authenticator) -> AsyncIterator[str]:
    """An HTTPS server on 127.0.0.1 answering any path with the requester's identity."""

    async def whoami(request: web.Request) -> web.Response:
        user = authenticator.authenticate_request(request)
        if user is None:
            return web.json_response({"reason": "Unauthorized"}, status=401)
        if not is_allowed(user, request.path):
            return web.json_response({"reason": "Forbidden", "user": user.name}, status=403)
        return web.json_response({"user": user.name, "groups": list(user.groups)})

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", whoami)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ssl_context(pki))
    await site.start()
    try:
        yield f"https://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def fetch(url: str, context: ssl.SSLContext, **headers: str) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, ssl=context, headers=headers) as response,
    ):
        return response.status, await response.json()


def trusting(pki: Pki) -> ssl.SSLContext:
    """A client that checks the server against ``pki``'s CA but has no certificate of its own."""
    return ssl.create_default_context(cafile=str(pki.ca_cert))


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return ensure_pki(tmp_path / "pki", addresses=["127.0.0.1"])


async def test_admin_certificate_over_tls(pki: Pki) -> None:
    async with whoami_server(pki, Authenticator()) as url:
        status, body = await fetch(f"{url}/api", client_ssl_context(pki))
    assert status == 200
    assert body == {"user": "minikube-user", "groups": ["system:masters", "system:authenticated"]}


async def test_no_certificate_is_anonymous_and_limited_to_public_paths(pki: Pki) -> None:
    async with whoami_server(pki, Authenticator()) as url:
        assert await fetch(f"{url}/version", trusting(pki)) == (
            200,
            {"user": "system:anonymous", "groups": ["system:unauthenticated"]},
        )
        status, _ = await fetch(f"{url}/api", trusting(pki))
    assert status == 403


async def test_bearer_token_over_tls(pki: Pki) -> None:
    authenticator = Authenticator()
    authenticator.add_token("s3cret", ALICE)
    async with whoami_server(pki, authenticator) as url:
        status, body = await fetch(f"{url}/api", trusting(pki), Authorization="Bearer s3cret")
        assert (status, body["user"]) == (200, "alice")
        status, _ = await fetch(f"{url}/api", trusting(pki), Authorization="Bearer wrong")
    assert status == 401


async def test_an_issued_certificate_is_its_user(pki: Pki, tmp_path: Path) -> None:
    cert, key = issue_client_certificate(
        pki, user="bob", groups=["dev"], path_prefix=tmp_path / "bob"
    )
    context = trusting(pki)
    context.load_cert_chain(cert, key)
    async with whoami_server(pki, Authenticator()) as url:
        status, body = await fetch(f"{url}/api", context)
    assert (status, body) == (200, {"user": "bob", "groups": ["dev", "system:authenticated"]})


async def test_a_certificate_from_another_ca_is_not_an_identity(pki: Pki, tmp_path: Path) -> None:
    # Same user name and group, signed by a CA the server does not trust.
    impostor = ensure_pki(tmp_path / "impostor", addresses=[])
    context = trusting(pki)
    context.load_cert_chain(impostor.client_cert, impostor.client_key)
    async with whoami_server(pki, Authenticator()) as url:
        # With CERT_OPTIONAL, OpenSSL verifies any certificate that is offered and ends the
        # handshake when it does not chain to the CA (TLS 1.3 reports it on the first read).
        with pytest.raises((aiohttp.ClientError, ssl.SSLError)):
            await fetch(f"{url}/api", context)
        # The server carries on serving others.
        status, body = await fetch(f"{url}/api", client_ssl_context(pki))
    assert (status, body["user"]) == (200, "minikube-user")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
async def test_curl_with_the_profile_files(pki: Pki) -> None:
    """The minikube habit: ``curl --cert <profile>/client.crt --key <profile>/client.key``."""
    async with whoami_server(pki, Authenticator()) as url:
        process = await asyncio.create_subprocess_exec(
            *["curl", "-sS", "--cacert", str(pki.ca_cert), f"{url}/api"],
            *["--cert", str(pki.client_cert), "--key", str(pki.client_key)],
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert json.loads(stdout)["user"] == "minikube-user"


async def test_a_server_certificate_cannot_be_used_as_a_client_one(pki: Pki) -> None:
    context = trusting(pki)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    async with whoami_server(pki, Authenticator()) as url:
        with pytest.raises((aiohttp.ClientError, ssl.SSLError)):
            await fetch(f"{url}/api", context)


async def test_clients_refuse_a_server_from_another_ca(pki: Pki, tmp_path: Path) -> None:
    other = ensure_pki(tmp_path / "other", addresses=[])
    async with whoami_server(other, Authenticator()) as url:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await fetch(f"{url}/version", client_ssl_context(pki))


async def test_plain_http_has_no_peer_certificate(pki: Pki) -> None:
    authenticator = Authenticator()

    async def whoami(request: web.Request) -> web.Response:
        user = authenticator.authenticate_request(request)
        return web.json_response({"user": user.name if user else None})

    app = web.Application()
    app.router.add_get("/version", whoami)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/version"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert await response.json() == {"user": "system:anonymous"}
    finally:
        await runner.cleanup()


def server_side_handshake(pki: Pki, cert: Path, key: Path) -> str:
    """Offer ``cert`` to a server using ``server_ssl_context``; what the server concluded."""
    outcome: list[str] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def serve() -> None:
            connection, _ = listener.accept()
            try:
                with server_ssl_context(pki).wrap_socket(connection, server_side=True) as tls:
                    outcome.append(f"accepted {tls.getpeercert()}")
            except ssl.SSLCertVerificationError as error:
                outcome.append(f"refused: {error.verify_message}")

        thread = threading.Thread(target=serve)
        thread.start()
        context = trusting(pki)
        context.load_cert_chain(cert, key)
        try:
            with context.wrap_socket(
                socket.create_connection(listener.getsockname()), server_hostname="127.0.0.1"
            ) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError):
            pass  # the client learns little; the server's verdict is what matters
        thread.join(timeout=10)
    return outcome[0]


def test_the_handshake_fails_for_the_right_reasons(pki: Pki, tmp_path: Path) -> None:
    impostor = ensure_pki(tmp_path / "impostor", addresses=[])
    assert server_side_handshake(pki, impostor.client_cert, impostor.client_key) == (
        "refused: unable to get local issuer certificate"
    )
    assert server_side_handshake(pki, pki.server_cert, pki.server_key) == (
        "refused: unsuitable certificate purpose"
    )
    assert "minikube-user" in server_side_handshake(pki, pki.client_cert, pki.client_key)
