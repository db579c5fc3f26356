"""Storage keys follow Kubernetes' etcd layout and refuse segments that could alias."""

from __future__ import annotations

import pytest

from minikube_py.store.keys import object_key, resource_prefix


def test_namespaced_cluster_scoped_and_core_keys() -> None:
    assert object_key("apps", "deployments", "default", "web") == (
        "/registry/apps/deployments/default/web"
    )
    assert object_key("", "pods", "kube-system", "dns") == "/registry/pods/kube-system/dns"
    assert object_key("", "nodes", None, "minikube") == "/registry/nodes/minikube"
    assert object_key("storage.k8s.io", "storageclasses", None, "standard") == (
        "/registry/storage.k8s.io/storageclasses/standard"
    )


def test_prefixes_do_not_match_longer_namespaces() -> None:
    prefix = resource_prefix("", "pods", "default")
    assert prefix == "/registry/pods/default/"
    assert object_key("", "pods", "default", "a").startswith(prefix)
    assert not object_key("", "pods", "default-2", "a").startswith(prefix)
    assert resource_prefix("apps", "deployments") == "/registry/apps/deployments/"


@pytest.mark.parametrize("bad", ["", "a/b", "/"])
def test_segments_that_could_alias_another_key_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid key segment"):
        object_key("", "pods", "default", bad)
    with pytest.raises(ValueError, match="invalid key segment"):
        resource_prefix("", "pods", bad)
