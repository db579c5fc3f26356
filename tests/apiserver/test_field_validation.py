"""fieldValidation: unknown fields refused (Strict), dropped with a warning (Warn), dropped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from minikube_py.api.schema import unknown_fields
from minikube_py.apiserver.pki import Pki, client_ssl_context
from minikube_py.cluster import ClusterConfig, running_cluster

CMS = "/api/v1/namespaces/default/configmaps"


def test_unknown_fields_are_found_along_the_schema() -> None:
    deployment: dict[str, Any] = {
        "metadata": {"name": "x", "labels": {"any": "label"}, "bogus": 1},
        "spec": {"foo": 1, "template": {"spec": {"containers": [{"name": "c", "colour": 1}]}}},
    }
    found = unknown_fields("apps", "v1", "Deployment", deployment, drop=True)
    assert found == ["metadata.bogus", "spec.foo", "spec.template.spec.containers[0].colour"]
    assert "bogus" not in deployment["metadata"] and "foo" not in deployment["spec"]
    assert deployment["metadata"]["labels"] == {"any": "label"}  # maps take any key


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[aiohttp.ClientSession, str, Any]]:
    config = ClusterConfig(
        state_dir=tmp_path,
        port=0,
        address="127.0.0.1",
        store_url="sqlite://",
        kubeconfig=tmp_path / "kubeconfig",
    )
    async with running_cluster(config) as cluster, aiohttp.ClientSession() as session:
        yield session, cluster.url, client_ssl_context(Pki.at(tmp_path))


async def test_strict_warn_and_ignore(api: tuple[aiohttp.ClientSession, str, Any]) -> None:
    session, url, ssl = api

    def body(name: str) -> dict[str, Any]:
        return {"metadata": {"name": name}, "data": {"a": "b"}, "spec": {"oops": True}}

    strict = await session.post(f"{url}{CMS}?fieldValidation=Strict", json=body("s"), ssl=ssl)
    assert strict.status == 400
    assert (await strict.json())["message"] == 'strict decoding error: unknown field "spec"'
    warn = await session.post(f"{url}{CMS}", json=body("w"), ssl=ssl)  # Warn is the default
    assert warn.status == 201 and "spec" not in await warn.json()
    assert warn.headers.getall("Warning") == ['299 - "unknown field \\"spec\\""']
    ignore = await session.post(f"{url}{CMS}?fieldValidation=Ignore", json=body("i"), ssl=ssl)
    assert ignore.status == 201 and "Warning" not in ignore.headers
    before = await (await session.get(f"{url}{CMS}/w", ssl=ssl)).json()
    patch = await session.patch(
        f"{url}{CMS}/w?fieldValidation=Strict",
        json={"spec": {"x": 1}},
        ssl=ssl,
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patch.status == 400
    after = await (await session.get(f"{url}{CMS}/w", ssl=ssl)).json()
    assert after == before
    bad = await session.post(f"{url}{CMS}?fieldValidation=Loose", json=body("b"), ssl=ssl)
    assert bad.status == 400
