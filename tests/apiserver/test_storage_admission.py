"""Storage admission: DefaultStorageClass for new claims, StorageObjectInUseProtection."""

from __future__ import annotations

from typing import Any

from minikube_py.api.catalog import builtin_registry
from minikube_py.api.volumematching import default_class
from minikube_py.apiserver import admission
from minikube_py.apiserver.storageadmission import admit_claim
from tests.clusters import bootstrapped_storage

Object = dict[str, Any]


def storage_class(name: str, *, default: bool, created: str = "") -> Object:
    marks = {"storageclass.kubernetes.io/is-default-class": "true"} if default else {}
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name, "annotations": marks, "creationTimestamp": created},
        "provisioner": "k8s.io/minikube-hostpath",
    }


def claim(**spec: Any) -> Object:
    body: Object = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    return {"metadata": {"name": "data"}, "spec": {**body, **spec}}


async def test_a_claim_without_a_class_gets_the_default_one() -> None:
    registry = builtin_registry()
    classes = registry.get("storage.k8s.io", "v1", "storageclasses")
    assert classes is not None
    async with bootstrapped_storage(registry) as storage:
        body = claim()
        await admit_claim(storage, body)
        assert "storageClassName" not in body["spec"]  # no default class yet: unchanged
        await storage.create(classes, None, storage_class("slow", default=False))
        await storage.create(classes, None, storage_class("standard", default=True))
        await admit_claim(storage, body)
        assert body["spec"]["storageClassName"] == "standard"
        explicit_none = claim(storageClassName="")
        await admit_claim(storage, explicit_none)
        assert explicit_none["spec"]["storageClassName"] == ""  # "" means no class, on purpose
        chosen = claim(storageClassName="slow")
        await admit_claim(storage, chosen)
        assert chosen["spec"]["storageClassName"] == "slow"
        beta = claim()
        beta["metadata"]["annotations"] = {"volume.beta.kubernetes.io/storage-class": "slow"}
        await admit_claim(storage, beta)
        assert "storageClassName" not in beta["spec"]


def test_of_several_defaults_the_newest_wins() -> None:
    older = storage_class("a", default=True, created="2026-01-01T00:00:00Z")
    newer = storage_class("b", default=True, created="2026-02-01T00:00:00Z")
    plain = storage_class("c", default=False, created="2026-03-01T00:00:00Z")
    assert default_class([newer, older, plain]) is newer
    assert default_class([plain]) is None


def test_new_claims_and_volumes_get_their_protection_finalizer() -> None:
    registry = builtin_registry()
    claims = registry.get("", "v1", "persistentvolumeclaims")
    volumes = registry.get("", "v1", "persistentvolumes")
    assert claims is not None and volumes is not None
    made = admission.prepare_create(claims, claim(), namespace="default")
    assert made["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    volume = {
        "metadata": {"name": "pv", "finalizers": ["example.com/keep"]},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/srv/pv"},
        },
    }
    made = admission.prepare_create(volumes, volume, namespace=None)
    assert made["metadata"]["finalizers"] == ["example.com/keep", "kubernetes.io/pv-protection"]
