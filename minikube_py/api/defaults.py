"""Defaulting: the values the API server fills in before it validates and stores an object.

Kubernetes lets a manifest leave most fields out and writes upstream's defaults into the
stored object, so what ``kubectl get -o yaml`` shows is always complete: a Service gets
``type: ClusterIP`` and ``sessionAffinity: None``, each port ``protocol: TCP`` and a
``targetPort`` equal to its ``port``; a Secret is ``Opaque``; a Namespace is ``Active``; every
pod spec gets a restart policy, a DNS policy, a grace period, pull policies and more.
``apply_defaults`` does this for every served kind in place, running on create and on update,
as upstream does when it decodes a request. It never raises: odd input is left for
validation, which reports it with a proper field path.

Pod specs and workloads live in ``defaults_workloads.py``. A few values that upstream sets
outside of defaulting belong to the server: the Job selector (``generate_job_selector``), a
Service's ClusterIP and node ports, a Pod's ``status`` and the service account and priority
admission plugins' fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minikube_py.api.defaults_workloads import (
    JSON,
    child,
    copy_template_labels,
    default,
    default_claim,
    default_cron_job,
    default_daemon_set,
    default_deployment,
    default_job,
    default_pod_spec,
    default_pod_template,
    default_replica_set,
    default_stateful_set,
    default_text,
    dicts,
)
from minikube_py.api.resources import ResourceType


def apply_defaults(rt: ResourceType, obj: Any) -> None:
    """Fill in upstream's defaults for an object of type ``rt``, in place."""
    action = _ACTIONS.get((rt.group, rt.kind))
    if action is not None and isinstance(obj, dict):
        action(obj)


def _default_pod(pod: JSON) -> None:
    spec = child(pod, "spec")
    default_pod_spec(spec)
    # The rest is SetDefaults_Pod: it applies to pods only, never to pod templates.
    for container in dicts(spec, "containers") + dicts(spec, "initContainers"):
        resources = child(container, "resources")
        limits = resources.get("limits")
        if isinstance(limits, dict):
            requests = child(resources, "requests")
            for name, quantity in limits.items():
                requests.setdefault(name, quantity)
    default(spec, "enableServiceLinks", True)
    if spec.get("hostNetwork") is True:
        for container in dicts(spec, "containers") + dicts(spec, "initContainers"):
            for port in dicts(container, "ports"):
                if port.get("hostPort") in (None, 0):
                    port["hostPort"] = port.get("containerPort")


def _externally_accessible(spec: JSON) -> bool:
    kind = spec.get("type")
    external_ips = spec.get("externalIPs")
    return kind in ("NodePort", "LoadBalancer") or (
        kind == "ClusterIP" and isinstance(external_ips, list) and len(external_ips) > 0
    )


def _default_service(service: JSON) -> None:
    spec = child(service, "spec")
    default_text(spec, "sessionAffinity", "None")
    if spec.get("sessionAffinity") == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec.get("sessionAffinity") == "ClientIP":
        client_ip = child(child(spec, "sessionAffinityConfig"), "clientIP")
        default(client_ip, "timeoutSeconds", 10800)
    default_text(spec, "type", "ClusterIP")
    for port in dicts(spec, "ports"):
        default_text(port, "protocol", "TCP")
        if port.get("targetPort") in (None, 0, "") and port.get("targetPort") is not False:
            port["targetPort"] = port.get("port")
    if _externally_accessible(spec):
        default_text(spec, "externalTrafficPolicy", "Cluster")
    if spec.get("type") in ("ClusterIP", "NodePort", "LoadBalancer"):
        default(spec, "internalTrafficPolicy", "Cluster")
    if spec.get("type") == "LoadBalancer":
        default(spec, "allocateLoadBalancerNodePorts", True)
    if spec.get("type") != "ExternalName":
        _default_ip_families(spec)


def _default_ip_families(spec: JSON) -> None:
    """What the Service registry decides on a single-stack IPv4 cluster.

    Upstream does this while allocating the ClusterIP, not in defaulting; it is here because
    the answer depends on nothing but the spec.
    """
    cluster_ip = spec.get("clusterIP")
    if isinstance(cluster_ip, str) and cluster_ip and spec.get("clusterIPs") is None:
        spec["clusterIPs"] = [cluster_ip]
    headless_without_selector = cluster_ip == "None" and not spec.get("selector")
    default(
        spec, "ipFamilyPolicy", "RequireDualStack" if headless_without_selector else "SingleStack"
    )
    default(spec, "ipFamilies", ["IPv4"])


def _default_secret(secret: JSON) -> None:
    default_text(secret, "type", "Opaque")


def _default_namespace(namespace: JSON) -> None:
    """The name label and ``Active`` phase are defaults; the ``kubernetes`` finalizer is what
    upstream's create strategy adds, so it is only added when ``spec.finalizers`` is absent
    (an update keeps the stored spec, as upstream's update strategy does).
    """
    name = child(namespace, "metadata").get("name")
    if isinstance(name, str) and name:
        child(child(namespace, "metadata"), "labels")["kubernetes.io/metadata.name"] = name
    default(child(namespace, "spec"), "finalizers", ["kubernetes"])
    default_text(child(namespace, "status"), "phase", "Active")


def _default_persistent_volume(volume: JSON) -> None:
    default_text(child(volume, "status"), "phase", "Pending")
    spec = child(volume, "spec")
    default_text(spec, "persistentVolumeReclaimPolicy", "Retain")
    default(spec, "volumeMode", "Filesystem")
    if isinstance(spec.get("hostPath"), dict):
        default(spec["hostPath"], "type", "")


def _default_endpoints(endpoints: JSON) -> None:
    for subset in dicts(endpoints, "subsets"):
        for port in dicts(subset, "ports"):
            default_text(port, "protocol", "TCP")


def _default_node(node: JSON) -> None:
    status = node.get("status")
    if not isinstance(status, dict) or status.get("allocatable") is not None:
        return
    if isinstance(status.get("capacity"), dict):
        status["allocatable"] = dict(status["capacity"])


def _default_replication_controller(controller: JSON) -> None:
    spec = child(controller, "spec")
    template = spec.get("template")
    meta = template.get("metadata") if isinstance(template, dict) else None
    labels = meta.get("labels") if isinstance(meta, dict) else None
    if isinstance(labels, dict) and labels and not spec.get("selector"):
        spec["selector"] = dict(labels)
    copy_template_labels(controller, spec)
    default(spec, "replicas", 1)
    if isinstance(template, dict):  # an RC's template is a pointer: absent stays absent
        default_pod_template(spec)


def _default_network_policy(policy: JSON) -> None:
    """Every port ``TCP``; no ``policyTypes``: ``Ingress``, plus ``Egress`` with egress rules."""
    spec = child(policy, "spec")
    for direction in ("ingress", "egress"):
        for rule in dicts(spec, direction):
            for port in dicts(rule, "ports"):
                default(port, "protocol", "TCP")
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress", *(["Egress"] if spec.get("egress") else [])]


def _default_ingress_class(ingress_class: JSON) -> None:
    parameters = child(ingress_class, "spec").get("parameters")
    if isinstance(parameters, dict):
        default(parameters, "scope", "Cluster")


_ACTIONS: dict[tuple[str, str], Callable[[JSON], None]] = {
    ("", "Pod"): _default_pod,
    ("", "PodTemplate"): default_pod_template,
    ("", "ReplicationController"): _default_replication_controller,
    ("", "Service"): _default_service,
    ("", "Secret"): _default_secret,
    ("", "Namespace"): _default_namespace,
    ("", "PersistentVolume"): _default_persistent_volume,
    ("", "PersistentVolumeClaim"): default_claim,
    ("", "Endpoints"): _default_endpoints,
    ("", "Node"): _default_node,
    ("apps", "Deployment"): default_deployment,
    ("apps", "ReplicaSet"): default_replica_set,
    ("apps", "StatefulSet"): default_stateful_set,
    ("apps", "DaemonSet"): default_daemon_set,
    ("batch", "Job"): default_job,
    ("batch", "CronJob"): default_cron_job,
    ("networking.k8s.io", "NetworkPolicy"): _default_network_policy,
    ("networking.k8s.io", "IngressClass"): _default_ingress_class,
}
