"""Throwaway clusters and storages for tests that run the API server in-process.

``ephemeral_config`` is a cluster on a free loopback port with an in-memory SQLite store and
its state (PKI, kubeconfig) in the test's temporary directory; ``bootstrapped_storage`` is
the API server's ``Storage`` alone, over an in-memory store, with the bootstrap objects;
``in_process_client`` is that storage and its watch cache behind an in-process client, with
nothing else running (no scheduler, kubelet or controller: a test brings its own).

Both seed, in every bootstrap namespace, what two controllers of a whole cluster would have
made by the time a test creates a pod (``seed_service_accounts``): the ``default``
ServiceAccount, without which the API server's admission refuses pods as upstream's does, and
(for the client, whose pods a test's kubelet may run) the ``kube-root-ca.crt`` ConfigMap the
pods' service-account volume reads.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from minikube_py.api.catalog import builtin_registry
from minikube_py.api.registry import Registry
from minikube_py.apiserver.bootstrap import NAMESPACES, bootstrap
from minikube_py.apiserver.local import LocalBackend
from minikube_py.apiserver.storage import Storage
from minikube_py.apiserver.watchcache import WatchCache
from minikube_py.client import Client
from minikube_py.cluster import ClusterConfig
from minikube_py.config import ControllerSettings
from minikube_py.store import open_store

# Stands for the cluster's CA where no PKI was made; a real cluster publishes its ca.crt.
TEST_CA_PEM = "-----BEGIN CERTIFICATE-----\nbWluaWt1YmUtcHkgdGVzdA==\n-----END CERTIFICATE-----\n"


# The controllers an API test wants (accounts for its pods, namespaces and claims that can be
# deleted — the protection controllers lift the finalizers admission puts on claims and
# volumes) and none that would act on its Deployments and ReplicaSets behind its back.
API_CONTROLLERS = ControllerSettings(
    ("serviceaccount", "root-ca-cert-publisher", "namespace", "pvc-protection", "pv-protection")
)


def ephemeral_config(
    tmp_path: Path, controllers: ControllerSettings | None = None
) -> ClusterConfig:
    return ClusterConfig(
        state_dir=tmp_path,
        port=0,
        address="127.0.0.1",
        store_url="sqlite://",
        kubeconfig=tmp_path / "kubeconfig",
        controllers=controllers or ControllerSettings(),
    )


@contextlib.asynccontextmanager
async def bootstrapped_storage(registry: Registry) -> AsyncIterator[Storage]:
    store = await open_store("sqlite://")
    try:
        storage = Storage(store, registry)
        await bootstrap(storage, host="127.0.0.1", port=8443)
        await seed_service_accounts(storage, root_ca=False)  # no kubelet reads it here
        yield storage
    finally:
        await store.close()


@contextlib.asynccontextmanager
async def in_process_client() -> AsyncIterator[Client]:
    store = await open_store("sqlite://")
    cache = WatchCache(store)
    try:
        storage = Storage(store, builtin_registry())
        storage.track_namespaces(cache)
        await cache.start()
        await bootstrap(storage, host="127.0.0.1", port=8443)
        await seed_service_accounts(storage)
        made = LocalBackend(storage, cache).client()
        try:
            yield made
        finally:
            await made.close()
    finally:
        await cache.stop()
        await store.close()


async def seed_service_accounts(
    storage: Storage,
    namespaces: tuple[str, ...] = NAMESPACES,
    *,
    ca_pem: str = TEST_CA_PEM,
    root_ca: bool = True,
) -> None:
    """What the ``serviceaccount`` and ``root-ca-cert-publisher`` controllers keep in every
    namespace: the ``default`` ServiceAccount and (``root_ca``) the ``kube-root-ca.crt``
    ConfigMap."""
    accounts = storage.registry.get("", "v1", "serviceaccounts")
    config_maps = storage.registry.get("", "v1", "configmaps")
    assert accounts is not None and config_maps is not None
    for namespace in namespaces:
        await storage.create(accounts, namespace, {"metadata": {"name": "default"}})
        if root_ca:
            await storage.create(
                config_maps,
                namespace,
                {"metadata": {"name": "kube-root-ca.crt"}, "data": {"ca.crt": ca_pem}},
            )
