"""The built-in catalog against upstream's discovery: names, scopes, short names, categories."""

from __future__ import annotations

import pytest

from minikube_py.api.catalog import VERBS, builtin_registry, builtin_types, subresource
from minikube_py.api.registry import Registry

# Every GA resource of Kubernetes 1.32 the catalog must serve: (group, version, plural).
EXPECTED = {
    ("", "v1", plural)
    for plural in [
        "namespaces",
        "nodes",
        "pods",
        "podtemplates",
        "replicationcontrollers",
        "services",
        "endpoints",
        "configmaps",
        "secrets",
        "serviceaccounts",
        "events",
        "persistentvolumes",
        "persistentvolumeclaims",
        "resourcequotas",
        "limitranges",
    ]
} | {
    ("apps", "v1", "deployments"),
    ("apps", "v1", "replicasets"),
    ("apps", "v1", "statefulsets"),
    ("apps", "v1", "daemonsets"),
    ("apps", "v1", "controllerrevisions"),
    ("batch", "v1", "jobs"),
    ("batch", "v1", "cronjobs"),
    ("autoscaling", "v1", "horizontalpodautoscalers"),
    ("autoscaling", "v2", "horizontalpodautoscalers"),
    ("policy", "v1", "poddisruptionbudgets"),
    ("rbac.authorization.k8s.io", "v1", "roles"),
    ("rbac.authorization.k8s.io", "v1", "rolebindings"),
    ("rbac.authorization.k8s.io", "v1", "clusterroles"),
    ("rbac.authorization.k8s.io", "v1", "clusterrolebindings"),
    ("networking.k8s.io", "v1", "ingresses"),
    ("networking.k8s.io", "v1", "ingressclasses"),
    ("networking.k8s.io", "v1", "networkpolicies"),
    ("storage.k8s.io", "v1", "storageclasses"),
    ("storage.k8s.io", "v1", "csidrivers"),
    ("storage.k8s.io", "v1", "csinodes"),
    ("storage.k8s.io", "v1", "volumeattachments"),
    ("scheduling.k8s.io", "v1", "priorityclasses"),
    ("coordination.k8s.io", "v1", "leases"),
    ("discovery.k8s.io", "v1", "endpointslices"),
    ("events.k8s.io", "v1", "events"),
    ("node.k8s.io", "v1", "runtimeclasses"),
    ("certificates.k8s.io", "v1", "certificatesigningrequests"),
    ("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations"),
    ("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations"),
    ("admissionregistration.k8s.io", "v1", "validatingadmissionpolicies"),
    ("admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings"),
    ("apiregistration.k8s.io", "v1", "apiservices"),
    ("apiextensions.k8s.io", "v1", "customresourcedefinitions"),
}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return builtin_registry()


def test_every_listed_resource_is_served_exactly_once() -> None:
    gvrs = [(rt.group, rt.version, rt.plural) for rt in builtin_types()]
    assert len(gvrs) == len(set(gvrs))
    assert set(gvrs) == EXPECTED


def test_kinds_and_singulars_follow_upstream(registry: Registry) -> None:
    deploy = registry.get("apps", "v1", "deployments")
    assert deploy is not None
    assert (deploy.kind, deploy.singular, deploy.namespaced) == ("Deployment", "deployment", True)
    endpoints = registry.get("", "v1", "endpoints")
    assert endpoints is not None and endpoints.singular == "endpoints"
    assert registry.by_api_version("v1", "Pod") is registry.get("", "v1", "pods")
    apiservice = registry.by_api_version("apiregistration.k8s.io/v1", "APIService")
    assert apiservice is not None and apiservice.plural == "apiservices"
    hpa = registry.by_kind("autoscaling", "v2", "HorizontalPodAutoscaler")
    assert hpa is not None and hpa.plural == "horizontalpodautoscalers"


@pytest.mark.parametrize(
    ("short", "group", "plural"),
    [
        ("po", "", "pods"),
        ("svc", "", "services"),
        ("deploy", "apps", "deployments"),
        ("rs", "apps", "replicasets"),
        ("sts", "apps", "statefulsets"),
        ("ds", "apps", "daemonsets"),
        ("cm", "", "configmaps"),
        ("ns", "", "namespaces"),
        ("no", "", "nodes"),
        ("pv", "", "persistentvolumes"),
        ("pvc", "", "persistentvolumeclaims"),
        ("ing", "networking.k8s.io", "ingresses"),
        ("ev", "", "events"),
        ("ev", "events.k8s.io", "events"),
        ("ep", "", "endpoints"),
        ("sa", "", "serviceaccounts"),
        ("cj", "batch", "cronjobs"),
        ("hpa", "autoscaling", "horizontalpodautoscalers"),
        ("pdb", "policy", "poddisruptionbudgets"),
        ("netpol", "networking.k8s.io", "networkpolicies"),
        ("sc", "storage.k8s.io", "storageclasses"),
        ("crd", "apiextensions.k8s.io", "customresourcedefinitions"),
        ("crds", "apiextensions.k8s.io", "customresourcedefinitions"),
        ("pc", "scheduling.k8s.io", "priorityclasses"),
        ("csr", "certificates.k8s.io", "certificatesigningrequests"),
        ("quota", "", "resourcequotas"),
        ("limits", "", "limitranges"),
        ("rc", "", "replicationcontrollers"),
    ],
)
def test_short_names(registry: Registry, short: str, group: str, plural: str) -> None:
    owners = {(rt.group, rt.plural) for rt in registry if short in rt.short_names}
    assert (group, plural) in owners


def test_kinds_without_short_names(registry: Registry) -> None:
    for plural in ("secrets", "jobs", "leases", "endpointslices", "roles", "podtemplates"):
        assert all(rt.short_names == () for rt in registry if rt.plural == plural), plural


def test_get_all_expands_to_upstreams_kinds(registry: Registry) -> None:
    in_all = {rt.plural for rt in registry if "all" in rt.categories}
    assert in_all == {
        "pods",
        "replicationcontrollers",
        "services",
        "daemonsets",
        "deployments",
        "replicasets",
        "statefulsets",
        "horizontalpodautoscalers",
        "cronjobs",
        "jobs",
    }
    extensions = {rt.plural for rt in registry if "api-extensions" in rt.categories}
    assert extensions == {
        "apiservices",
        "customresourcedefinitions",
        "mutatingwebhookconfigurations",
        "validatingwebhookconfigurations",
        "validatingadmissionpolicies",
        "validatingadmissionpolicybindings",
    }


@pytest.mark.parametrize(
    ("group", "plural", "namespaced"),
    [
        ("", "pods", True),
        ("", "nodes", False),
        ("", "namespaces", False),
        ("", "persistentvolumes", False),
        ("", "persistentvolumeclaims", True),
        ("", "events", True),
        ("rbac.authorization.k8s.io", "clusterroles", False),
        ("rbac.authorization.k8s.io", "roles", True),
        ("storage.k8s.io", "storageclasses", False),
        ("networking.k8s.io", "ingressclasses", False),
        ("coordination.k8s.io", "leases", True),
        ("certificates.k8s.io", "certificatesigningrequests", False),
        ("apiextensions.k8s.io", "customresourcedefinitions", False),
    ],
)
def test_scope(registry: Registry, group: str, plural: str, namespaced: bool) -> None:
    assert all(
        rt.namespaced is namespaced for rt in registry if (rt.group, rt.plural) == (group, plural)
    )


def test_subresources(registry: Registry) -> None:
    def subs(group: str, version: str, plural: str) -> tuple[str, ...]:
        rt = registry.get(group, version, plural)
        assert rt is not None
        return rt.subresources

    assert {"binding", "eviction", "log", "exec", "status", "attach", "portforward"} <= set(
        subs("", "v1", "pods")
    )
    for group, plural in [
        ("apps", "deployments"),
        ("apps", "replicasets"),
        ("apps", "statefulsets"),
        ("", "replicationcontrollers"),
    ]:
        assert subs(group, "v1", plural) == ("scale", "status"), plural
    assert subs("apps", "v1", "daemonsets") == ("status",)
    assert subs("", "v1", "configmaps") == ()
    assert subs("", "v1", "namespaces") == ("finalize", "status")
    assert subs("", "v1", "serviceaccounts") == ("token",)
    assert subs("networking.k8s.io", "v1", "networkpolicies") == ()


def test_verbs(registry: Registry) -> None:
    namespaces = registry.get("", "v1", "namespaces")
    assert namespaces is not None and "deletecollection" not in namespaces.verbs
    assert all(rt.verbs == VERBS for rt in registry if rt.plural != "namespaces")


def test_subresource_discovery_entries(registry: Registry) -> None:
    deployments, pods = registry.get("apps", "v1", "deployments"), registry.get("", "v1", "pods")
    assert deployments is not None and pods is not None
    scale = subresource(deployments, "scale")
    assert (scale.group, scale.version, scale.kind) == ("autoscaling", "v1", "Scale")
    assert scale.verbs == ("get", "patch", "update")
    status = subresource(deployments, "status")
    assert (status.group, status.kind) == ("apps", "Deployment")
    eviction = subresource(pods, "eviction")
    assert (eviction.group, eviction.version, eviction.kind, eviction.verbs) == (
        "policy",
        "v1",
        "Eviction",
        ("create",),
    )
    assert subresource(pods, "proxy").kind == "PodProxyOptions"
    assert subresource(pods, "log").verbs == ("get",)
    for rt in registry:
        for name in rt.subresources:
            assert subresource(rt, name).verbs


def test_every_kind_has_a_name_column_and_unique_column_names(registry: Registry) -> None:
    for rt in registry:
        names = [column.name for column in rt.columns]
        assert len(names) == len(set(names)), rt
        assert any(column.format == "name" for column in rt.columns), rt
        assert all(column.priority in (0, 1) for column in rt.columns), rt


def test_registry_is_fresh_each_time() -> None:
    assert builtin_registry() is not builtin_registry()
    assert len(builtin_registry()) == len(EXPECTED)
