"""Defaulting fills in what upstream 1.32 fills in, and nothing when a value is given."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikube_py.api.defaults import apply_defaults
from minikube_py.api.defaults_workloads import generate_job_selector, pull_policy
from minikube_py.api.resources import ResourceType


def rt(kind: str, group: str = "", *, namespaced: bool = True) -> ResourceType:
    return ResourceType(group, "v1", kind, kind.lower() + "s", kind.lower(), namespaced)


POD_TEMPLATE_SPEC = {
    "containers": [
        {
            "name": "web",
            "image": "nginx",
            "imagePullPolicy": "Always",
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "resources": {},
            "ports": [{"containerPort": 80, "protocol": "TCP"}],
        }
    ],
    "dnsPolicy": "ClusterFirst",
    "restartPolicy": "Always",
    "securityContext": {},
    "terminationGracePeriodSeconds": 30,
    "schedulerName": "default-scheduler",
}


def template() -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "web"}},
        "spec": {
            "containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]
        },
    }


def defaulted(kind: str, obj: dict[str, Any], group: str = "") -> dict[str, Any]:
    apply_defaults(rt(kind, group), obj)
    return obj


def test_pod_defaults() -> None:
    pod = defaulted("Pod", {"spec": template()["spec"]})
    assert pod["spec"] == {**POD_TEMPLATE_SPEC, "enableServiceLinks": True}


def test_pod_only_defaults_stay_out_of_templates() -> None:
    deployment = defaulted("Deployment", {"spec": {"template": template()}}, "apps")
    assert deployment["spec"]["template"]["spec"] == POD_TEMPLATE_SPEC


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        ("registry.local:5000/team/app", "Always"),
        ("registry.local:5000/team/app:v2", "IfNotPresent"),
        ("nginx@sha256:" + "a" * 64, "IfNotPresent"),
        ("Nginx", "IfNotPresent"),  # does not parse: no tag, so not "latest"
        ("", "IfNotPresent"),
    ],
)
def test_pull_policy_follows_the_tag(image: str, policy: str) -> None:
    assert pull_policy(image) == policy


def test_given_values_are_kept() -> None:
    pod = {
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "a", "image": "x", "imagePullPolicy": "Never"}],
        }
    }
    defaulted("Pod", pod)
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["spec"]["terminationGracePeriodSeconds"] == 0
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == "Never"


def test_pod_requests_default_to_limits_and_host_network_ports() -> None:
    pod = defaulted(
        "Pod",
        {
            "spec": {
                "hostNetwork": True,
                "containers": [
                    {
                        "name": "a",
                        "image": "x",
                        "resources": {
                            "limits": {"cpu": "1", "memory": "1Gi"},
                            "requests": {"cpu": "500m"},
                        },
                        "ports": [{"containerPort": 8080}],
                    }
                ],
            }
        },
    )
    container = pod["spec"]["containers"][0]
    assert container["resources"]["requests"] == {"cpu": "500m", "memory": "1Gi"}
    assert container["ports"][0]["hostPort"] == 8080


def test_probes_volumes_and_env_defaults() -> None:
    spec = {
        "containers": [
            {
                "name": "a",
                "image": "x",
                "livenessProbe": {"httpGet": {"port": 80}},
                "env": [
                    {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}
                ],
            }
        ],
        "volumes": [
            {"name": "scratch"},
            {"name": "config", "configMap": {"name": "c"}},
            {"name": "secret", "secret": {"secretName": "s", "defaultMode": 256}},
            {"name": "host", "hostPath": {"path": "/tmp"}},
            {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
        ],
    }
    pod = defaulted("Pod", {"spec": spec})
    probe = pod["spec"]["containers"][0]["livenessProbe"]
    assert probe == {
        "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    env = pod["spec"]["containers"][0]["env"][0]
    assert env["valueFrom"]["fieldRef"] == {"fieldPath": "spec.nodeName", "apiVersion": "v1"}
    volumes = pod["spec"]["volumes"]
    assert volumes[0] == {"name": "scratch", "emptyDir": {}}
    assert volumes[1]["configMap"]["defaultMode"] == 420
    assert volumes[2]["secret"]["defaultMode"] == 256
    assert volumes[3]["hostPath"]["type"] == ""
    assert volumes[4]["projected"]["defaultMode"] == 420
    assert volumes[4]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"] == 3600


def test_deployment_defaults() -> None:
    spec = defaulted("Deployment", {"spec": {"template": template()}}, "apps")["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    recreate = defaulted("Deployment", {"spec": {"strategy": {"type": "Recreate"}}}, "apps")
    assert recreate["spec"]["strategy"] == {"type": "Recreate"}


def test_replica_set_stateful_set_and_daemon_set_defaults() -> None:
    assert defaulted("ReplicaSet", {}, "apps")["spec"]["replicas"] == 1
    claim = {"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}
    sts = defaulted("StatefulSet", {"spec": {"volumeClaimTemplates": [claim]}}, "apps")["spec"]
    assert sts["podManagementPolicy"] == "OrderedReady"
    assert sts["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}
    assert sts["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    assert (sts["replicas"], sts["revisionHistoryLimit"]) == (1, 10)
    assert sts["volumeClaimTemplates"][0]["spec"]["volumeMode"] == "Filesystem"
    assert sts["volumeClaimTemplates"][0]["status"] == {"phase": "Pending"}
    ds = defaulted("DaemonSet", {}, "apps")["spec"]
    assert ds["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
    }
    assert ds["revisionHistoryLimit"] == 10


def test_job_and_cron_job_defaults() -> None:
    job = defaulted("Job", {"spec": {"template": template()}}, "batch")
    spec = job["spec"]
    assert (spec["completions"], spec["parallelism"], spec["backoffLimit"]) == (1, 1, 6)
    assert spec["completionMode"] == "NonIndexed"
    assert spec["suspend"] is False
    assert spec["podReplacementPolicy"] == "TerminatingOrFailed"
    assert job["metadata"]["labels"] == {"app": "web"}  # copied from the template
    assert spec["template"]["spec"]["restartPolicy"] == "Always"  # validation refuses it
    parallel = defaulted("Job", {"spec": {"parallelism": 3}}, "batch")["spec"]
    assert "completions" not in parallel
    cron = defaulted(
        "CronJob", {"spec": {"jobTemplate": {"spec": {"template": template()}}}}, "batch"
    )
    assert cron["spec"]["concurrencyPolicy"] == "Allow"
    assert cron["spec"]["suspend"] is False
    assert cron["spec"]["successfulJobsHistoryLimit"] == 3
    assert cron["spec"]["failedJobsHistoryLimit"] == 1
    job_template = cron["spec"]["jobTemplate"]["spec"]
    assert "backoffLimit" not in job_template  # job defaults do not apply to a template
    assert job_template["template"]["spec"]["dnsPolicy"] == "ClusterFirst"


def test_generate_job_selector() -> None:
    job = {"metadata": {"name": "pi", "uid": "u-1"}, "spec": {"template": template()}}
    generate_job_selector(job)
    labels = job["spec"]["template"]["metadata"]["labels"]
    assert labels == {
        "app": "web",
        "batch.kubernetes.io/controller-uid": "u-1",
        "batch.kubernetes.io/job-name": "pi",
        "controller-uid": "u-1",
        "job-name": "pi",
    }
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}}
    manual = {"metadata": {"name": "pi"}, "spec": {"manualSelector": True}}
    generate_job_selector(manual)
    assert manual == {"metadata": {"name": "pi"}, "spec": {"manualSelector": True}}


def test_service_defaults() -> None:
    service = defaulted("Service", {"spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    assert service["spec"] == {
        "selector": {"app": "web"},
        "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
        "type": "ClusterIP",
        "sessionAffinity": "None",
        "internalTrafficPolicy": "Cluster",
        "ipFamilyPolicy": "SingleStack",
        "ipFamilies": ["IPv4"],
    }
    node_port = defaulted("Service", {"spec": {"type": "NodePort", "ports": [{"port": 80}]}})
    assert node_port["spec"]["externalTrafficPolicy"] == "Cluster"
    balancer = defaulted("Service", {"spec": {"type": "LoadBalancer"}})
    assert balancer["spec"]["allocateLoadBalancerNodePorts"] is True
    headless = defaulted("Service", {"spec": {"clusterIP": "None"}})
    assert headless["spec"]["ipFamilyPolicy"] == "RequireDualStack"
    assert headless["spec"]["clusterIPs"] == ["None"]
    external = defaulted("Service", {"spec": {"type": "ExternalName", "externalName": "a.b"}})
    assert "ipFamilies" not in external["spec"]
    assert "internalTrafficPolicy" not in external["spec"]
    sticky = defaulted("Service", {"spec": {"sessionAffinity": "ClientIP"}})
    assert sticky["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    named = defaulted("Service", {"spec": {"ports": [{"port": 80, "targetPort": "http"}]}})
    assert named["spec"]["ports"][0]["targetPort"] == "http"


def test_core_kinds() -> None:
    assert defaulted("Secret", {})["type"] == "Opaque"
    namespace = defaulted("Namespace", {"metadata": {"name": "team"}})
    assert namespace["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team"}
    assert namespace["spec"] == {"finalizers": ["kubernetes"]}
    assert namespace["status"] == {"phase": "Active"}
    pvc = defaulted("PersistentVolumeClaim", {"spec": {}})
    assert pvc == {"spec": {"volumeMode": "Filesystem"}, "status": {"phase": "Pending"}}
    pv = defaulted("PersistentVolume", {"spec": {"hostPath": {"path": "/data"}}})
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert pv["spec"]["volumeMode"] == "Filesystem"
    assert pv["status"] == {"phase": "Pending"}
    rc = defaulted("ReplicationController", {"spec": {"template": template()}})
    assert rc["spec"]["selector"] == {"app": "web"}
    assert rc["metadata"]["labels"] == {"app": "web"}
    assert rc["spec"]["replicas"] == 1
    node = defaulted("Node", {"status": {"capacity": {"cpu": "4"}}})
    assert node["status"]["allocatable"] == {"cpu": "4"}
    assert defaulted("ConfigMap", {"data": {}}) == {"data": {}}


def test_defaulting_twice_changes_nothing() -> None:
    for kind, group in (("Deployment", "apps"), ("Job", "batch"), ("Service", ""), ("Pod", "")):
        obj = {"spec": {"template": template(), **template()["spec"]}}
        apply_defaults(rt(kind, group), obj)
        again = copy.deepcopy(obj)
        apply_defaults(rt(kind, group), again)
        assert again == obj


json_values: Any = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(
        st.sampled_from(["spec", "template", "containers", "ports", "metadata", "labels",
                         "volumes", "strategy", "status", "type", "selector", "x"]) | st.text(),
        inner,
        max_size=5,
    ),
    max_leaves=30,
)  # fmt: skip
KINDS = [
    ("Pod", ""), ("Service", ""), ("Secret", ""), ("Namespace", ""), ("Node", ""),
    ("PersistentVolume", ""), ("PersistentVolumeClaim", ""), ("ReplicationController", ""),
    ("PodTemplate", ""), ("Endpoints", ""), ("Deployment", "apps"), ("ReplicaSet", "apps"),
    ("StatefulSet", "apps"), ("DaemonSet", "apps"), ("Job", "batch"), ("CronJob", "batch"),
]  # fmt: skip


@settings(deadline=None)
@given(json_values)
def test_defaulting_never_raises(obj: Any) -> None:
    for kind, group in KINDS:
        apply_defaults(rt(kind, group), copy.deepcopy(obj))
    if isinstance(obj, dict):
        generate_job_selector(obj)
