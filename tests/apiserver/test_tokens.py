"""Service-account tokens: issued through serviceaccounts/token, accepted as bearer tokens."""

from __future__ import annotations

import ssl
from pathlib import Path

import aiohttp
import pytest

from minikube_py.apiserver.pki import Pki
from minikube_py.apiserver.tokens import TokenIssuer
from minikube_py.client import ApiError, HttpClient
from minikube_py.client.protocol import GVR
from minikube_py.cluster import running_cluster
from minikube_py.store import load_or_create_key
from tests.clusters import API_CONTROLLERS, ephemeral_config

SERVICEACCOUNTS = GVR("", "v1", "serviceaccounts")
CONFIGMAPS = GVR("", "v1", "configmaps")


def test_tokens_name_their_account_and_expire() -> None:
    now = [1_000_000.0]
    issuer = TokenIssuer(b"k" * 32, clock=lambda: now[0])
    token, expires = issuer.issue(
        namespace="ns", name="robot", uid="u1", seconds=None, audiences=[]
    )
    user = issuer.review(token)
    assert user is not None and user.name == "system:serviceaccount:ns:robot"
    assert set(user.groups) == {"system:serviceaccounts", "system:serviceaccounts:ns"}
    assert TokenIssuer(b"x" * 32).review(token) is None  # another cluster's key
    assert issuer.review(token[:-2] + "AA") is None  # tampered
    now[0] = expires + 1
    assert issuer.review(token) is None  # expired


def test_the_signing_key_is_kept_with_mode_0600(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path / "sa.key")
    assert load_or_create_key(tmp_path / "sa.key") == key
    assert (tmp_path / "sa.key").stat().st_mode & 0o777 == 0o600


async def test_token_request_then_bearer_access(tmp_path: Path) -> None:
    config = ephemeral_config(tmp_path, API_CONTROLLERS)
    async with running_cluster(config) as cluster:
        admin = HttpClient.from_kubeconfig(tmp_path / "kubeconfig")
        try:
            await admin.create(SERVICEACCOUNTS, "default", {"metadata": {"name": "robot"}})
            request = {"metadata": {"name": "robot"}, "spec": {"expirationSeconds": 3600}}
            answer = await admin.create(SERVICEACCOUNTS, "default", request, subresource="token")
            with pytest.raises(ApiError) as missing:
                ghost = {"metadata": {"name": "ghost"}, "spec": {}}
                await admin.create(SERVICEACCOUNTS, "default", ghost, subresource="token")
            assert missing.value.code == 404
        finally:
            await admin.close()
        token = answer["status"]["token"]
        ca = Pki.at(tmp_path).ca_cert
        async with aiohttp.ClientSession() as session:
            context = ssl.create_default_context(cafile=str(ca))
            url = f"{cluster.url}/api/v1/namespaces/default/configmaps"
            good = await session.get(url, ssl=context, headers={"Authorization": f"Bearer {token}"})
            bad = await session.get(url, ssl=context, headers={"Authorization": "Bearer nope"})
            assert (good.status, bad.status) == (200, 401)
