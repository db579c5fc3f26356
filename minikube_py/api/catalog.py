"""The catalog: every built-in resource the cluster serves, as Kubernetes 1.32 names it.

Each entry is what ``kubectl api-resources -o wide`` prints for one resource — group, version,
kind, plural and singular names, whether it lives in a namespace, short names (``po``,
``deploy``), categories (``all`` is what ``kubectl get all`` expands to; there is no fallback
list in kubectl, so a kind without it is simply left out), subresources and verbs — plus the
printer columns of ``kubectl get``. The values are upstream's, taken from its discovery
documents (``api/discovery/*.json``) and printers, so clients resolve names exactly as they
would against a real cluster.

Entries are ordered as upstream's discovery lists them: the core group, then the named groups
in upstream's priority order, resources alphabetically within a version, preferred version
first (``autoscaling/v2`` before ``autoscaling/v1``).
"""

from __future__ import annotations

import attrs

from minikube_py.api import printers_autoscaling as scaling
from minikube_py.api import printers_cluster as adm
from minikube_py.api import printers_config as cfg
from minikube_py.api import printers_core as core
from minikube_py.api import printers_events as events
from minikube_py.api import printers_network as net
from minikube_py.api import printers_storage as sto
from minikube_py.api import printers_workloads as wl
from minikube_py.api.printers import DEFAULT_COLUMNS
from minikube_py.api.registry import Registry
from minikube_py.api.resources import Column, ResourceType

ALL = ("all",)
EXTENSIONS = ("api-extensions",)
STATUS = "status"
SCALABLE = "scale status"
RBAC = "rbac.authorization.k8s.io/v1"
ADMISSION = "admissionregistration.k8s.io/v1"
VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
# Namespaces are deleted one at a time, through their finalizers: no deletecollection.
NAMESPACE_VERBS = ("create", "delete", "get", "list", "patch", "update", "watch")
# What upstream's discovery lists under pods/ (pods/resize is feature-gated off in 1.32).
POD_SUBRESOURCES = "attach binding ephemeralcontainers eviction exec log portforward proxy status"


def _rt(
    gvk: str,
    plural: str,
    columns: tuple[Column, ...] = DEFAULT_COLUMNS,
    *,
    ns: bool = True,
    short: str = "",
    cat: tuple[str, ...] = (),
    sub: str = "",
    verbs: tuple[str, ...] = VERBS,
) -> ResourceType:
    """One entry: ``gvk`` is ``group/version/Kind`` (``v1/Kind`` for the core group); ``short``
    and ``sub`` list short names and subresources separated by spaces; ``ns=False`` for
    cluster-scoped kinds."""
    group_version, _, kind = gvk.rpartition("/")
    group, _, version = group_version.rpartition("/")
    return ResourceType(
        group=group,
        version=version,
        kind=kind,
        plural=plural,
        singular=kind.lower(),
        namespaced=ns,
        short_names=tuple(short.split()),
        categories=cat,
        subresources=tuple(sub.split()),
        columns=columns,
        verbs=verbs,
    )


def builtin_types() -> list[ResourceType]:
    """Every GA resource of Kubernetes 1.32 that the cluster serves, in discovery order."""
    # One resource to a line or two, read as a table: the formatter is told to leave it be.
    return [
        # core/v1
        _rt("v1/ConfigMap", "configmaps", cfg.CONFIGMAP_COLUMNS, short="cm"),
        _rt("v1/Endpoints", "endpoints", net.ENDPOINTS_COLUMNS, short="ep"),
        _rt("v1/Event", "events", events.EVENT_COLUMNS, short="ev"),
        _rt("v1/LimitRange", "limitranges", cfg.LIMITRANGE_COLUMNS, short="limits"),
        _rt("v1/Namespace", "namespaces", cfg.NAMESPACE_COLUMNS, ns=False, short="ns",
            sub="finalize status", verbs=NAMESPACE_VERBS),
        _rt("v1/Node", "nodes", core.NODE_COLUMNS, ns=False, short="no", sub="proxy status"),
        _rt("v1/PersistentVolumeClaim", "persistentvolumeclaims", sto.PVC_COLUMNS, short="pvc",
            sub=STATUS),
        _rt("v1/PersistentVolume", "persistentvolumes", sto.PV_COLUMNS, ns=False, short="pv",
            sub=STATUS),
        _rt("v1/Pod", "pods", core.POD_COLUMNS, short="po", cat=ALL, sub=POD_SUBRESOURCES),
        _rt("v1/PodTemplate", "podtemplates", cfg.PODTEMPLATE_COLUMNS),
        _rt("v1/ReplicationController", "replicationcontrollers", wl.RC_COLUMNS, short="rc",
            cat=ALL, sub=SCALABLE),
        _rt("v1/ResourceQuota", "resourcequotas", cfg.RESOURCEQUOTA_COLUMNS, short="quota",
            sub=STATUS),
        _rt("v1/Secret", "secrets", cfg.SECRET_COLUMNS),
        _rt("v1/ServiceAccount", "serviceaccounts", cfg.SERVICEACCOUNT_COLUMNS, short="sa",
            sub="token"),
        _rt("v1/Service", "services", net.SERVICE_COLUMNS, short="svc", cat=ALL,
            sub="proxy status"),
        # apiregistration.k8s.io
        _rt("apiregistration.k8s.io/v1/APIService", "apiservices", adm.APISERVICE_COLUMNS,
            ns=False, cat=EXTENSIONS, sub=STATUS),
        # apps
        _rt("apps/v1/ControllerRevision", "controllerrevisions", wl.CONTROLLERREVISION_COLUMNS),
        _rt("apps/v1/DaemonSet", "daemonsets", wl.DAEMONSET_COLUMNS, short="ds", cat=ALL,
            sub=STATUS),
        _rt("apps/v1/Deployment", "deployments", wl.DEPLOYMENT_COLUMNS, short="deploy", cat=ALL,
            sub=SCALABLE),
        _rt("apps/v1/ReplicaSet", "replicasets", wl.REPLICASET_COLUMNS, short="rs", cat=ALL,
            sub=SCALABLE),
        _rt("apps/v1/StatefulSet", "statefulsets", wl.STATEFULSET_COLUMNS, short="sts", cat=ALL,
            sub=SCALABLE),
        # events.k8s.io: the same events as core/v1, in the newer shape
        _rt("events.k8s.io/v1/Event", "events", events.EVENTS_V1_COLUMNS, short="ev"),
        # autoscaling: v2 is preferred, v1 serves the same objects
        _rt("autoscaling/v2/HorizontalPodAutoscaler", "horizontalpodautoscalers",
            scaling.HPA_COLUMNS, short="hpa", cat=ALL, sub=STATUS),
        _rt("autoscaling/v1/HorizontalPodAutoscaler", "horizontalpodautoscalers",
            scaling.HPA_COLUMNS, short="hpa", cat=ALL, sub=STATUS),
        # batch
        _rt("batch/v1/CronJob", "cronjobs", wl.CRONJOB_COLUMNS, short="cj", cat=ALL, sub=STATUS),
        _rt("batch/v1/Job", "jobs", wl.JOB_COLUMNS, cat=ALL, sub=STATUS),
        # certificates.k8s.io
        _rt("certificates.k8s.io/v1/CertificateSigningRequest", "certificatesigningrequests",
            adm.CSR_COLUMNS, ns=False, short="csr", sub="approval status"),
        # networking.k8s.io
        _rt("networking.k8s.io/v1/IngressClass", "ingressclasses", net.INGRESSCLASS_COLUMNS,
            ns=False),
        _rt("networking.k8s.io/v1/Ingress", "ingresses", net.INGRESS_COLUMNS, short="ing",
            sub=STATUS),
        _rt("networking.k8s.io/v1/NetworkPolicy", "networkpolicies", net.NETWORKPOLICY_COLUMNS,
            short="netpol"),
        # policy
        _rt("policy/v1/PodDisruptionBudget", "poddisruptionbudgets", scaling.PDB_COLUMNS,
            short="pdb", sub=STATUS),
        # rbac.authorization.k8s.io: roles have no upstream printer, bindings do
        _rt(f"{RBAC}/ClusterRoleBinding", "clusterrolebindings", adm.BINDING_COLUMNS, ns=False),
        _rt(f"{RBAC}/ClusterRole", "clusterroles", ns=False),
        _rt(f"{RBAC}/RoleBinding", "rolebindings", adm.BINDING_COLUMNS),
        _rt(f"{RBAC}/Role", "roles"),
        # storage.k8s.io
        _rt("storage.k8s.io/v1/CSIDriver", "csidrivers", sto.CSIDRIVER_COLUMNS, ns=False),
        _rt("storage.k8s.io/v1/CSINode", "csinodes", sto.CSINODE_COLUMNS, ns=False),
        _rt("storage.k8s.io/v1/StorageClass", "storageclasses", sto.STORAGECLASS_COLUMNS,
            ns=False, short="sc"),
        _rt("storage.k8s.io/v1/VolumeAttachment", "volumeattachments",
            sto.VOLUMEATTACHMENT_COLUMNS, ns=False, sub=STATUS),
        # admissionregistration.k8s.io
        _rt(f"{ADMISSION}/MutatingWebhookConfiguration", "mutatingwebhookconfigurations",
            adm.WEBHOOK_COLUMNS, ns=False, cat=EXTENSIONS),
        _rt(f"{ADMISSION}/ValidatingAdmissionPolicy", "validatingadmissionpolicies",
            adm.POLICY_COLUMNS, ns=False, cat=EXTENSIONS, sub=STATUS),
        _rt(f"{ADMISSION}/ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings",
            adm.POLICY_BINDING_COLUMNS, ns=False, cat=EXTENSIONS),
        _rt(f"{ADMISSION}/ValidatingWebhookConfiguration", "validatingwebhookconfigurations",
            adm.WEBHOOK_COLUMNS, ns=False, cat=EXTENSIONS),
        # apiextensions.k8s.io
        _rt("apiextensions.k8s.io/v1/CustomResourceDefinition", "customresourcedefinitions",
            ns=False, short="crd crds", cat=EXTENSIONS, sub=STATUS),
        # scheduling, coordination, node, discovery
        _rt("scheduling.k8s.io/v1/PriorityClass", "priorityclasses", adm.PRIORITYCLASS_COLUMNS,
            ns=False, short="pc"),
        _rt("coordination.k8s.io/v1/Lease", "leases", adm.LEASE_COLUMNS),
        _rt("node.k8s.io/v1/RuntimeClass", "runtimeclasses", adm.RUNTIMECLASS_COLUMNS,
            ns=False),
        _rt("discovery.k8s.io/v1/EndpointSlice", "endpointslices", net.ENDPOINTSLICE_COLUMNS),
    ]  # fmt: skip


def builtin_registry() -> Registry:
    """A fresh registry of the built-in types (callers may add custom resources to it)."""
    return Registry(builtin_types())


@attrs.frozen
class Subresource:
    """How discovery describes ``<plural>/<name>``: its kind and the verbs it takes."""

    name: str
    group: str
    version: str
    kind: str
    verbs: tuple[str, ...]


_STATUS_VERBS = ("get", "patch", "update")
_PROXY_VERBS = ("create", "delete", "get", "patch", "update")
# name -> (group, version, kind, verbs); None for the group/version/kind of the parent.
_SUBRESOURCES: dict[str, tuple[tuple[str, str, str] | None, tuple[str, ...]]] = {
    "status": (None, _STATUS_VERBS),
    "approval": (None, _STATUS_VERBS),
    "ephemeralcontainers": (None, _STATUS_VERBS),
    "finalize": (None, ("update",)),
    "log": (None, ("get",)),
    "scale": (("autoscaling", "v1", "Scale"), _STATUS_VERBS),
    "binding": (("", "v1", "Binding"), ("create",)),
    "eviction": (("policy", "v1", "Eviction"), ("create",)),
    "token": (("authentication.k8s.io", "v1", "TokenRequest"), ("create",)),
    "attach": (("", "v1", "PodAttachOptions"), ("create", "get")),
    "exec": (("", "v1", "PodExecOptions"), ("create", "get")),
    "portforward": (("", "v1", "PodPortForwardOptions"), ("create", "get")),
}


def subresource(rt: ResourceType, name: str) -> Subresource:
    """The discovery entry of one of ``rt.subresources`` (a KeyError for unknown names)."""
    if name == "proxy":  # PodProxyOptions, NodeProxyOptions, ServiceProxyOptions
        return Subresource(name, rt.group, rt.version, f"{rt.kind}ProxyOptions", _PROXY_VERBS)
    gvk, verbs = _SUBRESOURCES[name]
    group, version, kind = gvk if gvk is not None else (rt.group, rt.version, rt.kind)
    return Subresource(name, group, version, kind, verbs)
