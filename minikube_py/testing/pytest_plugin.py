"""The pytest plugin: a cluster for the test session and a namespace for each test.

``minikube_cluster`` (session scope) is one embedded ``Cluster`` started on first use and
stopped when the session ends, every pod process with it. Starting it once keeps a suite
fast; ``k8s_namespace`` keeps its tests apart: each test that asks for it gets a fresh
namespace ``test-<random>`` (ready for pods: its ``default`` ServiceAccount exists) that is
deleted after the test, pass or fail, with everything in it.

The cluster is shaped by ini options (``pytest.ini`` / ``[tool.pytest.ini_options]``):
``minikube_nodes`` (default 1) and ``minikube_addons`` (e.g. ``ingress``). pytest imports this
module in every session of every project that has minikube_py installed, so it imports the
cluster only when a fixture is used.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from minikube_py.embedded import Cluster

NAMESPACE_READY_SECONDS = 60.0


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("minikube_nodes", "nodes of the minikube_cluster fixture's cluster", default="1")
    parser.addini(
        "minikube_addons", "addons of the minikube_cluster fixture's cluster", type="args"
    )


@pytest.fixture(scope="session")
def minikube_cluster(pytestconfig: pytest.Config) -> Iterator[Cluster]:
    """A running cluster for the whole test session (``minikube_py.Cluster``)."""
    from minikube_py.embedded import Cluster

    nodes = int(str(pytestconfig.getini("minikube_nodes")))
    addons = tuple(str(a) for a in pytestconfig.getini("minikube_addons") or ())
    with Cluster(nodes=nodes, addons=addons) as cluster:
        yield cluster


@pytest.fixture
def k8s_namespace(minikube_cluster: Cluster) -> Iterator[str]:
    """The name of a new namespace for this test, deleted after it."""
    name = f"test-{secrets.token_hex(4)}"
    minikube_cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    try:
        # the serviceaccount controller adds it; until then the API server refuses pods
        minikube_cluster.wait_for(
            "serviceaccount/default",
            lambda account: True,
            namespace=name,
            timeout=NAMESPACE_READY_SECONDS,
        )
        yield name
    finally:
        minikube_cluster.delete("namespace", name)
