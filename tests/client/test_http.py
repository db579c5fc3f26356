"""What only the HTTP client has: kubeconfig credentials, tokens, and errors from the wire."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from minikube_py.client import (
    CONFIGMAPS,
    GVR,
    ApiError,
    HttpClient,
    KubeconfigError,
    load_kubeconfig,
)

if TYPE_CHECKING:
    from minikube_py.cluster import RunningCluster


def _inline(path: str) -> str:
    return base64.b64encode(Path(path).read_bytes()).decode()


def write_config(path: Path, cluster: dict[str, Any], user: dict[str, Any]) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u", "namespace": "dev"}}],
        "current-context": "ctx",
    }
    path.write_text(yaml.safe_dump(config))
    return path


def original(cluster: RunningCluster) -> dict[str, Any]:
    assert cluster.kubeconfig is not None
    config: dict[str, Any] = yaml.safe_load(cluster.kubeconfig.read_text())
    return config


async def test_kubeconfig_with_inline_certificates(cluster: RunningCluster, tmp_path: Path) -> None:
    config = original(cluster)
    server = config["clusters"][0]["cluster"]
    user = config["users"][0]["user"]
    path = write_config(
        tmp_path / "inline.yaml",
        {
            "server": server["server"],
            "certificate-authority-data": _inline(server["certificate-authority"]),
        },
        {
            "client-certificate-data": _inline(user["client-certificate"]),
            "client-key-data": _inline(user["client-key"]),
        },
    )
    async with HttpClient.from_kubeconfig(path) as client:
        assert client.namespace == "dev"
        listed = await client.list(CONFIGMAPS, "default")
        assert listed["kind"] == "ConfigMapList"


async def test_kubeconfig_paths_relative_to_the_file(cluster: RunningCluster) -> None:
    config = original(cluster)
    assert cluster.kubeconfig is not None
    base = cluster.kubeconfig.parent
    server = config["clusters"][0]["cluster"]
    user = config["users"][0]["user"]
    path = write_config(
        base / "relative.yaml",
        {
            "server": server["server"],
            "certificate-authority": str(Path(server["certificate-authority"]).relative_to(base)),
        },
        {
            "client-certificate": str(Path(user["client-certificate"]).relative_to(base)),
            "client-key": str(Path(user["client-key"]).relative_to(base)),
        },
    )
    async with HttpClient.from_kubeconfig(path, context="ctx") as client:
        assert (await client.get(GVR.parse("v1/namespaces"), None, "default"))[
            "kind"
        ] == "Namespace"


async def test_bearer_tokens(cluster: RunningCluster, tmp_path: Path) -> None:
    from minikube_py.apiserver.authn import UserInfo

    cluster.api_server.authenticator.add_token("s3cret", UserInfo("robot", ("system:masters",)))
    server = original(cluster)["clusters"][0]["cluster"]
    (tmp_path / "token").write_text("s3cret\n")
    path = write_config(tmp_path / "token.yaml", server, {"tokenFile": "token"})
    async with HttpClient.from_kubeconfig(path) as client:
        await client.create(CONFIGMAPS, "default", {"metadata": {"name": "by-token"}})

    wrong = write_config(tmp_path / "wrong.yaml", server, {"token": "guess"})
    async with HttpClient.from_kubeconfig(wrong) as client:
        with pytest.raises(ApiError) as caught:
            await client.get(CONFIGMAPS, "default", "by-token")
    assert (caught.value.code, caught.value.reason) == (401, "Unauthorized")


def test_kubeconfig_errors(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match="cannot read"):
        load_kubeconfig(tmp_path / "absent")
    path = write_config(tmp_path / "k.yaml", {"server": "http://127.0.0.1:1"}, {})
    with pytest.raises(KubeconfigError, match="no context named 'other'"):
        load_kubeconfig(path, "other")
    connection = load_kubeconfig(path)
    assert (connection.server, connection.ssl_context, connection.namespace) == (
        "http://127.0.0.1:1",
        None,
        "dev",
    )


def test_gvr_names_and_paths() -> None:
    deployments = GVR.parse("apps/v1/deployments")
    assert deployments == GVR("apps", "v1", "deployments")
    assert deployments.api_version == "apps/v1"
    assert (
        deployments.path("ns", "web", "scale")
        == "/apis/apps/v1/namespaces/ns/deployments/web/scale"
    )
    pods = GVR.parse("v1/pods")
    assert pods.path() == "/api/v1/pods"
    assert pods.path("default", "p") == "/api/v1/namespaces/default/pods/p"
    assert str(pods) == "v1/pods"
    with pytest.raises(ValueError):
        GVR.parse("pods")
