"""The real ``kubectl`` against the cluster: discovery, CRUD of many kinds, output formats,
watches, selectors, namespaces, scaling and the error messages people grep for.

Every test names its objects uniquely and deletes them again; expected outputs are what
kubectl prints against a real Kubernetes 1.32 API server.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import queue
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import Kubectl, network_plan

NS = "default"
WAIT = 15.0


# ------------------------------------------------------------------------------- manifests


def _labels(name: str) -> dict[str, str]:
    return {"app": name, "e2e": "crud"}


def configmap(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": _labels(name)},
        "data": {"greeting": "hello", "config.yaml": "a: 1\nb: [x, y]\n"},
    }


def secret(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "labels": _labels(name)},
        "type": "Opaque",
        "data": {"password": "czNjcjN0"},  # s3cr3t
        "stringData": {"user": "admin"},
    }


def service(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": _labels(name)},
        "spec": {
            "selector": {"app": name},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
        },
    }


def pod_template(name: str, restart: str = "Always") -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": name}},
        "spec": {
            "restartPolicy": restart,
            "containers": [{"name": "main", "image": "busybox:1.36", "command": ["sleep", "3600"]}],
        },
    }


def deployment(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": _labels(name)},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": pod_template(name),
        },
    }


def namespace(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": _labels(name)},
    }


def role(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": name, "labels": _labels(name)},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}],
    }


def ingress(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "labels": _labels(name)},
        "spec": {
            "rules": [
                {
                    "host": "example.local",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": name, "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ]
        },
    }


def job(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": _labels(name)},
        "spec": {"backoffLimit": 2, "template": pod_template(name, restart="Never")},
    }


def cronjob(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "labels": _labels(name)},
        "spec": {
            "schedule": "*/5 * * * *",
            "jobTemplate": {"spec": {"template": pod_template(name, restart="OnFailure")}},
        },
    }


def pvc(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "labels": _labels(name)},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }


def serviceaccount(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": name, "labels": _labels(name)},
    }


# (resource name for kubectl, the group-qualified name kubectl prints, manifest, namespaced)
KINDS: dict[str, tuple[str, Callable[[str], dict[str, Any]], bool]] = {
    "configmap": ("configmap", configmap, True),
    "secret": ("secret", secret, True),
    "service": ("service", service, True),
    "deployment": ("deployment.apps", deployment, True),
    "namespace": ("namespace", namespace, False),
    "role": ("role.rbac.authorization.k8s.io", role, True),
    "ingress": ("ingress.networking.k8s.io", ingress, True),
    "job": ("job.batch", job, True),
    "cronjob": ("cronjob.batch", cronjob, True),
    "persistentvolumeclaim": ("persistentvolumeclaim", pvc, True),
    "serviceaccount": ("serviceaccount", serviceaccount, True),
}


def dump(obj: dict[str, Any]) -> str:
    return yaml.safe_dump(obj, sort_keys=False)


def plain_cm(name: str, labels: dict[str, str] | None = None, **data: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def create(kubectl: Kubectl, obj: dict[str, Any], *args: str) -> str:
    """``kubectl create -f`` of ``obj`` (a JSON body; imperative ``kubectl create configmap``
    and friends send protobuf, which ``test_imperative_create_*`` cover on their own)."""
    path = kubectl.write(f"{obj['metadata']['name']}-{time.monotonic_ns()}.yaml", dump(obj))
    return kubectl.out("create", "-f", str(path), *args)


# ------------------------------------------------------------------------------- discovery


def test_version_reports_a_1_32_server(kubectl: Kubectl) -> None:
    info = json.loads(kubectl.out("version", "-o", "json"))
    server = info["serverVersion"]
    assert re.fullmatch(r"v1\.32\.\d+", server["gitVersion"]), server
    assert server["major"] == "1"
    assert server["minor"].rstrip("+") == "32"
    for field in ("gitCommit", "gitTreeState", "buildDate", "goVersion", "compiler", "platform"):
        assert server.get(field), f"/version lacks {field}: {server}"
    text = kubectl.out("version")
    assert re.search(r"Server Version: v1\.32\.\d+", text), text
    # No version-skew warning: the client is 1.32 too.
    assert "WARNING" not in kubectl.run("version").stderr


def _api_resources(kubectl: Kubectl, *args: str) -> dict[str, dict[str, str]]:
    lines = kubectl.out("api-resources", *args).splitlines()
    header = lines[0]
    columns = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    starts = [header.index(column) for column in columns]
    rows: dict[str, dict[str, str]] = {}
    for line in lines[1:]:
        cells = [
            line[start : (starts[i + 1] if i + 1 < len(starts) else None)].strip()
            for i, start in enumerate(starts)
        ]
        row = dict(zip(columns, cells, strict=True))
        rows[f"{row['NAME']}.{row['APIVERSION']}"] = row
    return rows


def test_api_resources_lists_every_ga_kind(kubectl: Kubectl) -> None:
    rows = _api_resources(kubectl)
    deploy = rows["deployments.apps/v1"]
    assert deploy == {
        "NAME": "deployments",
        "SHORTNAMES": "deploy",
        "APIVERSION": "apps/v1",
        "NAMESPACED": "true",
        "KIND": "Deployment",
    }
    expected = {
        "pods.v1": ("po", "true", "Pod"),
        "services.v1": ("svc", "true", "Service"),
        "configmaps.v1": ("cm", "true", "ConfigMap"),
        "namespaces.v1": ("ns", "false", "Namespace"),
        "nodes.v1": ("no", "false", "Node"),
        "persistentvolumeclaims.v1": ("pvc", "true", "PersistentVolumeClaim"),
        "replicasets.apps/v1": ("rs", "true", "ReplicaSet"),
        "statefulsets.apps/v1": ("sts", "true", "StatefulSet"),
        "daemonsets.apps/v1": ("ds", "true", "DaemonSet"),
        "cronjobs.batch/v1": ("cj", "true", "CronJob"),
        "jobs.batch/v1": ("", "true", "Job"),
        "ingresses.networking.k8s.io/v1": ("ing", "true", "Ingress"),
        "horizontalpodautoscalers.autoscaling/v2": ("hpa", "true", "HorizontalPodAutoscaler"),
        "clusterroles.rbac.authorization.k8s.io/v1": ("", "false", "ClusterRole"),
        "customresourcedefinitions.apiextensions.k8s.io/v1": (
            "crd,crds",
            "false",
            "CustomResourceDefinition",
        ),
        "priorityclasses.scheduling.k8s.io/v1": ("pc", "false", "PriorityClass"),
        "leases.coordination.k8s.io/v1": ("", "true", "Lease"),
        "endpointslices.discovery.k8s.io/v1": ("", "true", "EndpointSlice"),
        "storageclasses.storage.k8s.io/v1": ("sc", "false", "StorageClass"),
        "poddisruptionbudgets.policy/v1": ("pdb", "true", "PodDisruptionBudget"),
        "certificatesigningrequests.certificates.k8s.io/v1": (
            "csr",
            "false",
            "CertificateSigningRequest",
        ),
        "apiservices.apiregistration.k8s.io/v1": ("", "false", "APIService"),
        "runtimeclasses.node.k8s.io/v1": ("", "false", "RuntimeClass"),
        "events.events.k8s.io/v1": ("ev", "true", "Event"),
        "validatingadmissionpolicies.admissionregistration.k8s.io/v1": (
            "",
            "false",
            "ValidatingAdmissionPolicy",
        ),
    }
    missing = sorted(set(expected) - set(rows))
    assert not missing, f"kubectl api-resources lacks {missing}"
    for key, (short, namespaced, kind) in expected.items():
        row = rows[key]
        assert (row["SHORTNAMES"], row["NAMESPACED"], row["KIND"]) == (short, namespaced, kind)
    # -o wide adds VERBS and CATEGORIES.
    wide = kubectl.out("api-resources", "-o", "wide", "--api-group=apps")
    assert re.search(
        r"deployments\s+deploy\s+apps/v1\s+true\s+Deployment\s+(\[[^]]*list[^]]*\]|\S*list\S*)\s+all",
        wide,
    ), wide


def test_api_versions(kubectl: Kubectl) -> None:
    versions = set(kubectl.out("api-versions").split())
    for expected in (
        "v1",
        "apps/v1",
        "batch/v1",
        "autoscaling/v1",
        "autoscaling/v2",
        "policy/v1",
        "rbac.authorization.k8s.io/v1",
        "networking.k8s.io/v1",
        "storage.k8s.io/v1",
        "scheduling.k8s.io/v1",
        "coordination.k8s.io/v1",
        "discovery.k8s.io/v1",
        "events.k8s.io/v1",
        "node.k8s.io/v1",
        "certificates.k8s.io/v1",
        "admissionregistration.k8s.io/v1",
        "apiregistration.k8s.io/v1",
        "apiextensions.k8s.io/v1",
    ):
        assert expected in versions, f"{expected} not in {sorted(versions)}"


def test_get_all_shows_the_kubernetes_service(kubectl: Kubectl) -> None:
    out = kubectl.out("get", "all", "-A")
    assert re.search(
        r"^default\s+service/kubernetes\s+ClusterIP\s+\S+\s+<none>\s+443/TCP\s+\S+$", out, re.M
    ), out
    assert out.splitlines()[0].split()[:2] == ["NAMESPACE", "NAME"]


def test_get_namespaces_shows_the_bootstrap_ones(kubectl: Kubectl) -> None:
    out = kubectl.out("get", "ns")
    assert out.splitlines()[0].split() == ["NAME", "STATUS", "AGE"]
    for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert re.search(rf"^{name}\s+Active\s+\S+$", out, re.M), out


# -------------------------------------------------------------------------------------- CRUD


@pytest.mark.parametrize("kind", list(KINDS))
def test_create_get_replace_patch_delete(kubectl: Kubectl, unique: Any, kind: str) -> None:
    printed, manifest, namespaced = KINDS[kind]
    name = unique(kind[:10])
    where = ["-n", NS] if namespaced else []
    created_file = kubectl.write(f"{name}.yaml", dump(manifest(name)))
    try:
        assert kubectl.out("create", "-f", str(created_file), *where).strip() == (
            f"{printed}/{name} created"
        )
        if kind == "deployment":  # its controller writes its status until it has rolled out
            kubectl.out("rollout", "status", f"deployment/{name}", *where, "--timeout=90s")
        obj = kubectl.json("get", kind, name, *where)
        metadata = obj["metadata"]
        assert metadata["name"] == name
        expected_labels = _labels(name)
        if kind == "namespace":  # upstream labels every namespace with its own name
            expected_labels["kubernetes.io/metadata.name"] = name
        assert metadata["labels"] == expected_labels
        assert metadata["uid"] and metadata["creationTimestamp"] and metadata["resourceVersion"]
        assert obj["kind"] == manifest(name)["kind"]
        if namespaced:
            assert metadata["namespace"] == NS
        else:
            assert "namespace" not in metadata

        # Replace with the current object plus a label: a PUT with the object's resourceVersion.
        replacement = copy.deepcopy(obj)
        replacement["metadata"]["labels"]["replaced"] = "yes"
        replaced_file = kubectl.write(f"{name}-replace.yaml", dump(replacement))
        assert kubectl.out("replace", "-f", str(replaced_file), *where).strip() == (
            f"{printed}/{name} replaced"
        )
        after_replace = kubectl.json("get", kind, name, *where)
        assert after_replace["metadata"]["labels"]["replaced"] == "yes"
        assert int(after_replace["metadata"]["resourceVersion"]) > int(metadata["resourceVersion"])
        assert after_replace["metadata"]["uid"] == metadata["uid"]

        # The same file again is stale now: 409 Conflict, worded as upstream.
        stale = kubectl.fails("replace", "-f", str(replaced_file), *where)
        plural = obj_plural(printed)
        assert (
            f'Error from server (Conflict): error when replacing "{replaced_file}": '
            f'Operation cannot be fulfilled on {plural} "{name}": the object has been modified; '
            "please apply your changes to the latest version and try again"
        ) in stale, stale

        merge = json.dumps({"metadata": {"labels": {"merged": "yes"}}})
        assert kubectl.out("patch", kind, name, *where, "--type", "merge", "-p", merge).strip() == (
            f"{printed}/{name} patched"
        )
        ops = [
            {"op": "add", "path": "/metadata/annotations", "value": {"e2e/json": "patched"}},
            {"op": "replace", "path": "/metadata/labels/replaced", "value": "twice"},
            {"op": "test", "path": "/metadata/labels/merged", "value": "yes"},
        ]
        assert (
            kubectl.out(
                "patch", kind, name, *where, "--type", "json", "-p", json.dumps(ops)
            ).strip()
            == f"{printed}/{name} patched"
        )
        patched = kubectl.json("get", kind, name, *where)
        assert patched["metadata"]["labels"] == {
            **expected_labels,
            "replaced": "twice",
            "merged": "yes",
        }
        assert patched["metadata"]["annotations"]["e2e/json"] == "patched"
        # A patch that changes nothing is reported as such and writes nothing.
        unchanged = kubectl.out("patch", kind, name, *where, "--type", "merge", "-p", merge)
        assert unchanged.strip() == f"{printed}/{name} patched (no change)"
        again = kubectl.json("get", kind, name, *where)
        assert again["metadata"]["resourceVersion"] == patched["metadata"]["resourceVersion"]

        # A failing JSON-patch test operation changes nothing.
        failing = [{"op": "test", "path": "/metadata/labels/merged", "value": "no"}]
        kubectl.fails("patch", kind, name, *where, "--type", "json", "-p", json.dumps(failing))

        # kubectl deletes and (for a namespace) waits until it is really gone.
        deleted = kubectl.run("delete", kind, name, *where, timeout=60)
        assert deleted.returncode == 0, deleted.stderr
        assert deleted.stdout.strip() == f'{printed} "{name}" deleted'
        gone = kubectl.fails("get", kind, name, *where)
        assert f'Error from server (NotFound): {plural} "{name}" not found' in gone, gone
    finally:
        kubectl.run("delete", kind, name, *where, "--ignore-not-found", "--wait=false", check=False)


def obj_plural(printed: str) -> str:
    """``deployment.apps`` → ``deployments.apps``, as upstream's messages name resources."""
    kind, _, group = printed.partition(".")
    plurals = {"ingress": "ingresses", "persistentvolumeclaim": "persistentvolumeclaims"}
    plural = plurals.get(kind, kind + "s")
    return f"{plural}.{group}" if group else plural


def test_create_defaults_and_allocates(kubectl: Kubectl, unique: Any) -> None:
    """What the server adds at create, visible through kubectl as upstream shows it."""
    name = unique("svc")
    path = kubectl.write(f"{name}.yaml", dump(service(name)))
    kubectl.out("create", "-f", str(path))
    try:
        svc = kubectl.json("get", "svc", name)
        spec = svc["spec"]
        assert spec["type"] == "ClusterIP"
        assert spec["sessionAffinity"] == "None"
        assert spec["ports"][0]["protocol"] == "TCP"
        block = ipaddress.ip_network(network_plan(kubectl).service_block)
        assert ipaddress.ip_address(spec["clusterIP"]) in block, spec
        assert spec["clusterIPs"] == [spec["clusterIP"]]
        wide = kubectl.out("get", "svc", name, "-o", "wide")
        assert wide.splitlines()[0].split() == [
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE",
            "SELECTOR",
        ]
        assert re.search(
            rf"^{name}\s+ClusterIP\s+{re.escape(spec['clusterIP'])}\s+<none>\s+80/TCP\s+\S+\s+app={name}$",
            wide,
            re.M,
        ), wide
    finally:
        kubectl.run("delete", "svc", name, check=False)


# ---------------------------------------------------------------------------- output formats


@pytest.fixture
def deploy(kubectl: Kubectl, unique: Any) -> Iterator[str]:
    name = unique("web")
    path = kubectl.write(f"{name}.yaml", dump(deployment(name)))
    kubectl.out("create", "-f", str(path))
    yield name
    kubectl.run("delete", "deploy", name, "--wait=false", check=False)


def test_get_output_formats(kubectl: Kubectl, deploy: str) -> None:
    kubectl.out("rollout", "status", f"deployment/{deploy}", "--timeout=90s")  # then it is still
    table = kubectl.out("get", "deploy", deploy)
    assert table.splitlines()[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert re.search(rf"^{deploy}\s+2/2\s+2\s+2\s+\S+$", table, re.M), table

    wide = kubectl.out("get", "deploy", deploy, "-o", "wide")
    assert wide.splitlines()[0].split() == [
        "NAME",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "AGE",
        "CONTAINERS",
        "IMAGES",
        "SELECTOR",
    ]
    assert re.search(
        rf"^{deploy}\s+2/2\s+2\s+2\s+\S+\s+main\s+busybox:1\.36\s+app={deploy}$", wide, re.M
    ), wide

    as_yaml = yaml.safe_load(kubectl.out("get", "deploy", deploy, "-o", "yaml"))
    assert as_yaml["kind"] == "Deployment" and as_yaml["apiVersion"] == "apps/v1"
    assert as_yaml["metadata"]["name"] == deploy
    assert as_yaml["metadata"]["generation"] == 1
    spec = as_yaml["spec"]
    # Upstream's defaults for a Deployment.
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    pod_spec = spec["template"]["spec"]
    assert pod_spec["restartPolicy"] == "Always"
    assert pod_spec["dnsPolicy"] == "ClusterFirst"
    assert pod_spec["terminationGracePeriodSeconds"] == 30
    assert pod_spec["schedulerName"] == "default-scheduler"
    container = pod_spec["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "File"

    as_json = kubectl.json("get", "deploy", deploy)
    assert as_json == as_yaml

    listed = kubectl.json("get", "deploy", "-l", f"app={deploy}")
    assert listed["kind"] == "List"
    assert [item["metadata"]["name"] for item in listed["items"]] == [deploy]

    assert kubectl.out("get", "deploy", deploy, "-o", "name").strip() == f"deployment.apps/{deploy}"
    assert (
        kubectl.out(
            "get", "deploy", deploy, "-o", "jsonpath={.spec.template.spec.containers[0].image}"
        )
        == "busybox:1.36"
    )
    names = kubectl.out("get", "ns", "-o", "jsonpath={.items[*].metadata.name}").split()
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= set(names)
    custom = kubectl.out(
        "get", "deploy", deploy, "-o", "custom-columns=N:.metadata.name,R:.spec.replicas"
    )
    assert custom.split() == ["N", "R", deploy, "2"]


def test_scale_deployment(kubectl: Kubectl, deploy: str) -> None:
    out = kubectl.out("scale", "deployment", deploy, "--replicas=3")
    assert out.strip() == f"deployment.apps/{deploy} scaled"
    assert kubectl.out("get", "deploy", deploy, "-o", "jsonpath={.spec.replicas}") == "3"
    kubectl.out("rollout", "status", f"deployment/{deploy}", "--timeout=90s")
    assert re.search(rf"^{deploy}\s+3/3\s+3\s+3\s+", kubectl.out("get", "deploy", deploy), re.M)
    # A scale with a failing precondition is refused and changes nothing.
    refused = kubectl.fails("scale", "deployment", deploy, "--current-replicas=7", "--replicas=1")
    assert "expected replicas to be 7, was 3" in refused.lower(), refused
    assert kubectl.out("get", "deploy", deploy, "-o", "jsonpath={.spec.replicas}") == "3"
    generation = kubectl.out("get", "deploy", deploy, "-o", "jsonpath={.metadata.generation}")
    assert generation == "2"


def test_create_deployment_imperatively(kubectl: Kubectl, unique: Any) -> None:
    name = unique("nginx-depl")
    try:
        out = kubectl.out("create", "deployment", name, "--image=nginx")
        assert out.strip() == f"deployment.apps/{name} created"
        obj = kubectl.json("get", "deploy", name)
        assert obj["spec"]["replicas"] == 1
        assert obj["spec"]["selector"] == {"matchLabels": {"app": name}}
        container = obj["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == "nginx"
        assert container["name"] == "nginx"
        assert container["imagePullPolicy"] == "Always"  # no tag: latest
        kubectl.out("rollout", "status", f"deployment/{name}", "--timeout=90s")
        assert re.search(rf"^{name}\s+1/1\s+1\s+1\s+\S+$", kubectl.out("get", "deploy", name), re.M)
    finally:
        kubectl.run("delete", "deployment", name, "--wait=false", check=False)


def test_apply_creates_then_updates(kubectl: Kubectl, unique: Any) -> None:
    name = unique("applied")
    manifest = configmap(name)
    path = kubectl.write(f"{name}.yaml", dump(manifest))
    try:
        assert kubectl.out("apply", "-f", str(path)).strip() == f"configmap/{name} created"
        manifest["data"]["greeting"] = "bonjour"
        del manifest["data"]["config.yaml"]
        path.write_text(dump(manifest))
        assert kubectl.out("apply", "-f", str(path)).strip() == f"configmap/{name} configured"
        obj = kubectl.json("get", "cm", name)
        assert obj["data"] == {"greeting": "bonjour"}
        assert "kubectl.kubernetes.io/last-applied-configuration" in obj["metadata"]["annotations"]
        assert kubectl.out("apply", "-f", str(path)).strip() == f"configmap/{name} unchanged"
    finally:
        kubectl.run("delete", "cm", name, check=False)


def test_apply_of_a_changed_deployment_merges_containers_by_name(
    kubectl: Kubectl, unique: Any
) -> None:
    """kubectl apply sends a strategic merge patch with $setElementOrder: containers merge by
    name, fields that left the manifest are removed, the rest is kept."""
    name = unique("rollout")

    def manifest(image: str, env: list[dict[str, str]], sidecar: bool) -> str:
        containers: list[dict[str, Any]] = [
            {"name": "web", "image": image, "env": env, "ports": [{"containerPort": 80}]}
        ]
        if sidecar:
            containers.append({"name": "side", "image": "busybox"})
        labels = {"app": name}
        return dump(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name},
                "spec": {
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": containers},
                    },
                },
            }
        )

    path = kubectl.write(
        f"{name}.yaml",
        manifest("nginx:1.25", [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}], True),
    )
    try:
        assert kubectl.out("apply", "-f", str(path)).strip().endswith("created")
        path.write_text(manifest("nginx:1.26", [{"name": "A", "value": "1"}], False))
        assert kubectl.out("apply", "-f", str(path)).strip().endswith("configured")
        containers = kubectl.json("get", "deploy", name)["spec"]["template"]["spec"]["containers"]
        assert [c["name"] for c in containers] == ["web"]
        assert containers[0]["image"] == "nginx:1.26"
        assert containers[0]["env"] == [{"name": "A", "value": "1"}]
        assert containers[0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
        assert kubectl.out("apply", "-f", str(path)).strip().endswith("unchanged")
        kubectl.out("set", "image", f"deploy/{name}", "web=nginx:1.27")
        image = kubectl.json("get", "deploy", name)["spec"]["template"]["spec"]["containers"][0]
        assert image["image"] == "nginx:1.27" and image["env"] == [{"name": "A", "value": "1"}]
    finally:
        kubectl.run("delete", "deploy", name, "--ignore-not-found", check=False)


# ------------------------------------------------------------------------------------ watch


class Lines:
    """The lines a child process prints, readable with a bounded wait."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, pattern: str, seconds: float = WAIT) -> str:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            if re.search(pattern, line):
                return line
        stderr = ""
        if self.process.poll() is not None and self.process.stderr is not None:
            stderr = self.process.stderr.read()
        raise AssertionError(f"no line matching {pattern!r}; saw {self.seen}; stderr: {stderr}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def test_get_watch_sees_added_modified_deleted(kubectl: Kubectl, unique: Any) -> None:
    """``kubectl get -w``: a Table watch, one row per event, with the EVENT column."""
    name = unique("watched")
    manifest = configmap(name)
    manifest["metadata"]["labels"]["watch"] = name
    manifest["data"] = {"k": "v"}
    path = kubectl.write(f"{name}.yaml", dump(manifest))
    watch = Lines(kubectl.popen("get", "cm", "-l", f"watch={name}", "-w", "--output-watch-events"))
    try:
        kubectl.out("create", "-f", str(path))
        watch.wait_for(rf"^ADDED\s+{name}\s+1\s+\S+$")
        kubectl.out("patch", "cm", name, "--type", "merge", "-p", '{"data":{"k2":"v2"}}')
        watch.wait_for(rf"^MODIFIED\s+{name}\s+2\s+\S+$")
        # Leaving the selection is a DELETED for this watcher, as upstream's cacher sends it.
        kubectl.out("label", "cm", name, "watch-")
        watch.wait_for(rf"^DELETED\s+{name}\s+2\s+\S+$")
        kubectl.out("label", "cm", name, f"watch={name}")
        watch.wait_for(rf"^ADDED\s+{name}\s+2\s+\S+$")
        kubectl.out("delete", "cm", name)
        watch.wait_for(rf"^DELETED\s+{name}\s+2\s+\S+$")
        assert watch.seen[0].split() == ["EVENT", "NAME", "DATA", "AGE"], watch.seen
    finally:
        watch.stop()
        kubectl.run("delete", "cm", name, "--ignore-not-found", check=False)


def test_get_watch_json_events(kubectl: Kubectl, unique: Any) -> None:
    """``-o json --output-watch-events``: the raw (non-Table) watch, one WatchEvent each."""
    name = unique("watchjson")
    watch = Lines(
        kubectl.popen(
            "get",
            "cm",
            "--field-selector",
            f"metadata.name={name}",
            "-w",
            "--output-watch-events",
            "-o",
            "json",
        )
    )
    try:
        create(kubectl, plain_cm(name, a="1"))
        watch.wait_for(r'"type": ?"ADDED"')
        kubectl.out("patch", "cm", name, "--type", "merge", "-p", '{"data":{"a":"2"}}')
        watch.wait_for(r'"type": ?"MODIFIED"')
        kubectl.out("delete", "cm", name)
        watch.wait_for(r'"type": ?"DELETED"')
    finally:
        watch.stop()
        kubectl.run("delete", "cm", name, "--ignore-not-found", check=False)


# ---------------------------------------------------------------------------------- selectors


def test_label_selectors(kubectl: Kubectl, unique: Any) -> None:
    app = unique("sel")
    tiers = {"a": f"{app}-a", "b": f"{app}-b", "c": f"{app}-c"}
    try:
        for tier, name in tiers.items():
            create(kubectl, plain_cm(name, {"app": app}))
            kubectl.out("label", "cm", name, f"tier={tier}")
        bare = f"{app}-none"
        create(kubectl, plain_cm(bare, {"app": app}))

        def names(selector: str) -> list[str]:
            out = kubectl.out("get", "cm", "-l", selector, "-o", "name")
            return sorted(line.removeprefix("configmap/") for line in out.split())

        assert names(f"app={app}") == sorted([*tiers.values(), bare])
        assert names(f"app=={app},tier=a") == [tiers["a"]]
        assert names(f"app={app},tier in (a,b)") == [tiers["a"], tiers["b"]]
        assert names(f"app={app},tier notin (a,b)") == sorted([tiers["c"], bare])
        assert names(f"app={app},tier!=a") == sorted([tiers["b"], tiers["c"], bare])
        assert names(f"app={app},tier") == sorted(tiers.values())
        assert names(f"app={app},!tier") == [bare]
        empty = kubectl.run("get", "cm", "-l", f"app={app},tier=zzz")
        assert empty.stdout == ""
        assert "No resources found in default namespace." in empty.stderr
        # All namespaces, with the NAMESPACE column.
        everywhere = kubectl.out("get", "cm", "-A", "-l", f"app={app},tier=c")
        assert re.search(rf"^default\s+{tiers['c']}\s+0\s+\S+$", everywhere, re.M), everywhere
        bad = kubectl.fails("get", "cm", "-l", "tier in (a")
        assert "unable to parse requirement" in bad or "found '', expected" in bad, bad
    finally:
        kubectl.run("delete", "cm", "-l", f"app={app}", check=False)


def test_describe_configmap(kubectl: Kubectl, unique: Any) -> None:
    name = unique("described")
    try:
        create(kubectl, plain_cm(name, colour="blue"))
        kubectl.out("label", "cm", name, "team=e2e")
        text = kubectl.out("describe", "configmap", name)
        assert re.search(rf"^Name:\s+{name}$", text, re.M), text
        assert re.search(r"^Namespace:\s+default$", text, re.M), text
        assert re.search(r"^Labels:\s+team=e2e$", text, re.M), text
        assert "Data\n====\ncolour:\n----\nblue" in text, text
        assert re.search(r"^Events:\s+<none>$", text, re.M), text
    finally:
        kubectl.run("delete", "cm", name, check=False)


# --------------------------------------------------------------------------------- namespaces


def test_create_namespace_imperatively(kubectl: Kubectl, unique: Any) -> None:
    name = unique("ns")
    try:
        assert kubectl.out("create", "namespace", name).strip() == f"namespace/{name} created"
        assert re.search(rf"^{name}\s+Active\s+", kubectl.out("get", "ns", name), re.M)
    finally:
        kubectl.run("delete", "namespace", name, "--ignore-not-found", "--wait=false", check=False)


def test_delete_namespace_empties_and_removes_it(kubectl: Kubectl, unique: Any) -> None:
    name = unique("ns")
    try:
        created = create(
            kubectl, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        )
        assert created.strip() == f"namespace/{name} created"
        assert re.search(rf"^{name}\s+Active\s+", kubectl.out("get", "ns", name), re.M)
        # (not x: y, which kubectl's YAML 1.1 reads as x: true, a bool upstream refuses)
        create(kubectl, plain_cm("inside", x="z"), "-n", name)
        create(
            kubectl,
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}},
            "-n",
            name,
        )
        create(kubectl, deployment("web"), "-n", name)
        assert kubectl.out("get", "cm", "inside", "-n", name, "-o", "name").strip() == (
            "configmap/inside"
        )
        # kubectl waits (watching the namespace) until the server has emptied and removed it.
        started = time.monotonic()
        deleted = kubectl.run("delete", "namespace", name, "--timeout=30s", timeout=45)
        assert deleted.returncode == 0, deleted.stderr
        assert deleted.stdout.strip() == f'namespace "{name}" deleted'
        assert time.monotonic() - started < 30
        gone = kubectl.fails("get", "ns", name)
        assert f'Error from server (NotFound): namespaces "{name}" not found' in gone
        leftover = kubectl.run("get", "cm", "-n", name, "-o", "name")
        assert leftover.stdout == ""
    finally:
        kubectl.run("delete", "namespace", name, "--ignore-not-found", "--wait=false", check=False)


def test_create_in_a_missing_namespace_is_refused(kubectl: Kubectl, unique: Any) -> None:
    missing = unique("nowhere")
    path = kubectl.write(f"{missing}.yaml", dump(plain_cm("x")))
    err = kubectl.fails("create", "-f", str(path), "-n", missing)
    assert (
        f'Error from server (NotFound): error when creating "{path}": '
        f'namespaces "{missing}" not found'
    ) in err, err


# ------------------------------------------------------------------------------------ errors


def test_not_found_message(kubectl: Kubectl, unique: Any) -> None:
    name = unique("nope")
    err = kubectl.fails("get", "configmap", name)
    assert err.strip() == f'Error from server (NotFound): configmaps "{name}" not found'
    err = kubectl.fails("get", "deploy", name)
    assert err.strip() == f'Error from server (NotFound): deployments.apps "{name}" not found'
    err = kubectl.fails("delete", "configmap", name)
    assert err.strip() == f'Error from server (NotFound): configmaps "{name}" not found'


def test_already_exists_message(kubectl: Kubectl, unique: Any) -> None:
    name = unique("twice")
    try:
        path = kubectl.write(f"{name}.yaml", dump(configmap(name)))
        kubectl.out("create", "-f", str(path))
        err = kubectl.fails("create", "-f", str(path))
        assert (
            f'Error from server (AlreadyExists): error when creating "{path}": '
            f'configmaps "{name}" already exists'
        ) in err, err
    finally:
        kubectl.run("delete", "configmap", name, check=False)


def test_invalid_deployment_selector_message(kubectl: Kubectl, unique: Any) -> None:
    name = unique("bad")
    manifest = deployment(name)
    manifest["spec"]["template"]["metadata"]["labels"] = {"app": "something-else"}
    path = kubectl.write(f"{name}.yaml", dump(manifest))
    err = kubectl.fails("create", "-f", str(path))
    assert f'The Deployment "{name}" is invalid' in err, err
    assert "spec.template.metadata.labels: Invalid value: " in err, err
    assert "`selector` does not match template `labels`" in err, err
    assert kubectl.run("get", "deploy", name, check=False).returncode != 0


def test_invalid_name_message(kubectl: Kubectl) -> None:
    path = kubectl.write("bad-name.yaml", dump(plain_cm("Bad_Name")))
    err = kubectl.fails("create", "-f", str(path))
    assert 'The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ' in err
    assert (
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters" in err
    )


def test_invalid_missing_image_message(kubectl: Kubectl, unique: Any) -> None:
    name = unique("noimage")
    manifest = deployment(name)
    del manifest["spec"]["template"]["spec"]["containers"][0]["image"]
    path = kubectl.write(f"{name}.yaml", dump(manifest))
    err = kubectl.fails("create", "-f", str(path))
    assert f'The Deployment "{name}" is invalid' in err, err
    assert "spec.template.spec.containers[0].image: Required value" in err, err


def test_immutable_selector_and_configmap(kubectl: Kubectl, deploy: str, unique: Any) -> None:
    patch = json.dumps(
        {
            "spec": {
                "selector": {"matchLabels": {"app": deploy, "x": "y"}},
                "template": {"metadata": {"labels": {"app": deploy, "x": "y"}}},
            }
        }
    )
    err = kubectl.fails("patch", "deploy", deploy, "--type", "merge", "-p", patch)
    assert f'The Deployment "{deploy}" is invalid' in err, err
    assert "spec.selector: Invalid value: " in err and "field is immutable" in err, err

    name = unique("frozen")
    manifest = configmap(name)
    manifest["immutable"] = True
    path = kubectl.write(f"{name}.yaml", dump(manifest))
    try:
        kubectl.out("create", "-f", str(path))
        err = kubectl.fails(
            "patch", "cm", name, "--type", "merge", "-p", '{"data":{"greeting":"x"}}'
        )
        assert f'The ConfigMap "{name}" is invalid' in err, err
        assert "data: Forbidden: field is immutable when `immutable` is set" in err, err
    finally:
        kubectl.run("delete", "cm", name, check=False)


def test_strict_field_validation(kubectl: Kubectl, unique: Any) -> None:
    """kubectl's default ``--validate=strict`` makes the server refuse unknown fields."""
    name = unique("strict")
    manifest = configmap(name)
    manifest["spec"] = {"oops": True}
    path = kubectl.write(f"{name}.yaml", dump(manifest))
    try:
        err = kubectl.fails("create", "-f", str(path))
        assert 'unknown field "spec"' in err, err
        out = kubectl.out("create", "-f", str(path), "--validate=false")
        assert out.strip() == f"configmap/{name} created"
    finally:
        kubectl.run("delete", "cm", name, check=False)


# ------------------------------------------------------------- imperative (protobuf) creates


def test_create_configmap_imperatively(kubectl: Kubectl, unique: Any) -> None:
    """``kubectl create configmap`` (like ``create namespace|deployment|secret|serviceaccount``)
    sends its body as ``application/vnd.kubernetes.protobuf``, not JSON."""
    name = unique("imperative")
    try:
        out = kubectl.out("create", "configmap", name, "--from-literal=colour=blue")
        assert out.strip() == f"configmap/{name} created"
        assert kubectl.json("get", "cm", name)["data"] == {"colour": "blue"}
        err = kubectl.fails("create", "configmap", name)
        assert err.strip() == (
            f'error: failed to create configmap: configmaps "{name}" already exists'
        ), err
        err = kubectl.fails("create", "configmap", "Bad_Name")
        assert 'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"' in err
    finally:
        kubectl.run("delete", "cm", name, "--ignore-not-found", check=False)


def test_create_secret_and_serviceaccount_imperatively(kubectl: Kubectl, unique: Any) -> None:
    name = unique("imperative")
    try:
        out = kubectl.out("create", "secret", "generic", name, "--from-literal=password=s3cr3t")
        assert out.strip() == f"secret/{name} created"
        assert kubectl.json("get", "secret", name)["data"] == {"password": "czNjcjN0"}
        out = kubectl.out("create", "serviceaccount", name)
        assert out.strip() == f"serviceaccount/{name} created"
    finally:
        kubectl.run("delete", "secret", name, "--ignore-not-found", check=False)
        kubectl.run("delete", "serviceaccount", name, "--ignore-not-found", check=False)
