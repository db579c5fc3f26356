"""kubectl create / get / replace / patch (merge and JSON) / delete of every served kind.

One minimal manifest per resource type of ``builtin_registry()``, valid as upstream's
validation would accept it. Resources are named fully qualified (``plural.group``, or
``plural.version.group`` where a kind is served in two versions) so kubectl picks exactly
the version under test. Namespaced kinds live in one namespace made for this module.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from minikube_py.api.catalog import builtin_registry
from tests.e2e.conftest import Kubectl

Manifest = Callable[[str, str], dict[str, Any]]  # (name, namespace) -> the object's body


def _csr_request() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "e2e-user")]))
        .sign(key, hashes.SHA256())
    )
    return base64.b64encode(csr.public_bytes(serialization.Encoding.PEM)).decode()


CSR_REQUEST = _csr_request()


def _pod_spec(restart: str = "Always") -> dict[str, Any]:
    return {"restartPolicy": restart, "containers": [{"name": "c", "image": "busybox"}]}


def _template(app: str, restart: str = "Always") -> dict[str, Any]:
    return {"metadata": {"labels": {"app": app}}, "spec": _pod_spec(restart)}


def _workload(app: str) -> dict[str, Any]:
    # no replicas: the controllers have nothing to run (a DaemonSet's pods, which have no
    # count, are kept off every node by their selector)
    template = _template(app)
    template["spec"]["nodeSelector"] = {"e2e": "no-such-node"}
    return {"replicas": 0, "selector": {"matchLabels": {"app": app}}, "template": template}


def _hpa_spec() -> dict[str, Any]:
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 1,
        "maxReplicas": 3,
    }


# A webhook whose rules match a resource nobody serves, so it is never called.
_WEBHOOK = {
    "name": "never.e2e.example.com",
    "clientConfig": {"url": "https://127.0.0.1:1/never"},
    "rules": [
        {
            "apiGroups": ["e2e.example.com"],
            "apiVersions": ["v1"],
            "operations": ["CREATE"],
            "resources": ["nothings"],
        }
    ],
    "sideEffects": "None",
    "admissionReviewVersions": ["v1"],
    "failurePolicy": "Ignore",
}

# kind key ("apiVersion Kind") -> (the spec-ish fields of a minimal valid object)
BODIES: dict[str, Manifest] = {
    "v1 ConfigMap": lambda n, ns: {"data": {"a": "b"}},
    "v1 Endpoints": lambda n, ns: {
        "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]
    },
    "v1 Event": lambda n, ns: {
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": ns, "apiVersion": "v1"},
        "reason": "Tested",
        "message": "e2e",
        "type": "Normal",
        "source": {"component": "e2e"},
    },
    "v1 LimitRange": lambda n, ns: {
        "spec": {"limits": [{"type": "Container", "default": {"cpu": "100m"}}]}
    },
    "v1 Namespace": lambda n, ns: {},
    "v1 Node": lambda n, ns: {},
    "v1 PersistentVolumeClaim": lambda n, ns: {
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    },
    "v1 PersistentVolume": lambda n, ns: {
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/tmp/e2e"},
        }
    },
    # For a scheduler that does not exist: the pod stays Pending and unbound, so no kubelet
    # writes its status between the test's get and its replace (a 409, rightly).
    "v1 Pod": lambda n, ns: {"spec": {**_pod_spec(), "schedulerName": "e2e-no-such-scheduler"}},
    "v1 PodTemplate": lambda n, ns: {"template": _template(n)},
    "v1 ReplicationController": lambda n, ns: {
        "spec": {"replicas": 0, "selector": {"app": n}, "template": _template(n)}
    },
    "v1 ResourceQuota": lambda n, ns: {"spec": {"hard": {"pods": "10"}}},
    "v1 Secret": lambda n, ns: {"type": "Opaque", "data": {"a": "YmFy"}},
    "v1 ServiceAccount": lambda n, ns: {},
    "v1 Service": lambda n, ns: {"spec": {"selector": {"app": n}, "ports": [{"port": 80}]}},
    # A local APIService (no service): name is <version>.<group>.
    "apiregistration.k8s.io/v1 APIService": lambda n, ns: {
        "spec": {
            "group": n.split(".", 1)[1],
            "version": "v1",
            "groupPriorityMinimum": 1000,
            "versionPriority": 15,
        }
    },
    "apps/v1 ControllerRevision": lambda n, ns: {"revision": 1, "data": {"a": "b"}},
    "apps/v1 DaemonSet": lambda n, ns: {
        "spec": {k: v for k, v in _workload(n).items() if k != "replicas"}
    },
    "apps/v1 Deployment": lambda n, ns: {"spec": _workload(n)},
    "apps/v1 ReplicaSet": lambda n, ns: {"spec": _workload(n)},
    "apps/v1 StatefulSet": lambda n, ns: {"spec": {**_workload(n), "serviceName": n}},
    "events.k8s.io/v1 Event": lambda n, ns: {
        "eventTime": "2025-01-01T00:00:00.000000Z",
        "reportingController": "e2e.example.com/tester",
        "reportingInstance": "tester-1",
        "action": "Testing",
        "reason": "Tested",
        "type": "Normal",
        "note": "e2e",
        "regarding": {"kind": "Pod", "name": "p", "namespace": ns, "apiVersion": "v1"},
    },
    "autoscaling/v2 HorizontalPodAutoscaler": lambda n, ns: {"spec": _hpa_spec()},
    "autoscaling/v1 HorizontalPodAutoscaler": lambda n, ns: {
        "spec": {**_hpa_spec(), "targetCPUUtilizationPercentage": 80}
    },
    "batch/v1 CronJob": lambda n, ns: {
        "spec": {
            "schedule": "*/5 * * * *",
            "jobTemplate": {"spec": {"template": {"spec": _pod_spec("OnFailure")}}},
        }
    },
    "batch/v1 Job": lambda n, ns: {"spec": {"template": {"spec": _pod_spec("Never")}}},
    "certificates.k8s.io/v1 CertificateSigningRequest": lambda n, ns: {
        "spec": {
            "request": CSR_REQUEST,
            "signerName": "kubernetes.io/kube-apiserver-client",
            "usages": ["client auth"],
        }
    },
    "networking.k8s.io/v1 IngressClass": lambda n, ns: {
        "spec": {"controller": "e2e.example.com/ingress"}
    },
    "networking.k8s.io/v1 Ingress": lambda n, ns: {
        "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}}
    },
    "networking.k8s.io/v1 NetworkPolicy": lambda n, ns: {"spec": {"podSelector": {}}},
    "policy/v1 PodDisruptionBudget": lambda n, ns: {
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": n}}}
    },
    "rbac.authorization.k8s.io/v1 ClusterRoleBinding": lambda n, ns: {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}],
    },
    "rbac.authorization.k8s.io/v1 ClusterRole": lambda n, ns: {
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]
    },
    "rbac.authorization.k8s.io/v1 RoleBinding": lambda n, ns: {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": ns}],
    },
    "rbac.authorization.k8s.io/v1 Role": lambda n, ns: {
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]
    },
    "storage.k8s.io/v1 CSIDriver": lambda n, ns: {"spec": {}},
    "storage.k8s.io/v1 CSINode": lambda n, ns: {"spec": {"drivers": []}},
    "storage.k8s.io/v1 StorageClass": lambda n, ns: {"provisioner": "e2e.example.com/disk"},
    "storage.k8s.io/v1 VolumeAttachment": lambda n, ns: {
        "spec": {
            "attacher": "csi.e2e.example.com",
            "nodeName": "node-1",
            "source": {"persistentVolumeName": "pv-1"},
        }
    },
    "admissionregistration.k8s.io/v1 MutatingWebhookConfiguration": lambda n, ns: {
        "webhooks": [{**_WEBHOOK, "reinvocationPolicy": "Never"}]
    },
    "admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy": lambda n, ns: {
        "spec": {
            "failurePolicy": "Ignore",
            "matchConstraints": {"resourceRules": _WEBHOOK["rules"]},
            "validations": [{"expression": "true"}],
        }
    },
    "admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding": lambda n, ns: {
        "spec": {"policyName": "e2e-no-such-policy", "validationActions": ["Deny"]}
    },
    "admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration": lambda n, ns: {
        "webhooks": [_WEBHOOK]
    },
    # The name must be <plural>.<group>.
    "apiextensions.k8s.io/v1 CustomResourceDefinition": lambda n, ns: {
        "spec": {
            "group": n.split(".", 1)[1],
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object"}},
                }
            ],
        }
    },
    "scheduling.k8s.io/v1 PriorityClass": lambda n, ns: {"value": 1000},
    "coordination.k8s.io/v1 Lease": lambda n, ns: {
        "spec": {"holderIdentity": "e2e", "leaseDurationSeconds": 15}
    },
    "node.k8s.io/v1 RuntimeClass": lambda n, ns: {"handler": "runc"},
    "discovery.k8s.io/v1 EndpointSlice": lambda n, ns: {
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.0.0.1"]}],
        "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
    },
}

# Kinds whose name is dictated by their content: (prefix, suffix) around a unique token.
NAMES = {
    "apiregistration.k8s.io/v1 APIService": ("v1.", ".e2e.example.com"),
    "apiextensions.k8s.io/v1 CustomResourceDefinition": ("widgets.", ".e2e.example.com"),
    "storage.k8s.io/v1 CSIDriver": ("", ".csi.example.com"),
}

# Known server bugs: kind key -> reason (xfail, strict).
BUGS: dict[str, str] = {}


def _cases() -> list[Any]:
    types = list(builtin_registry())
    seen: set[str] = set()
    cases = []
    for rt in types:
        group, _, version = rt.api_version.rpartition("/")
        key = f"{rt.api_version} {rt.kind}"
        # A kind served twice (autoscaling v1/v2 HorizontalPodAutoscaler, core and
        # events.k8s.io Event): the second one by plural.version.group, so kubectl picks it.
        if rt.kind in seen:
            resource = f"{rt.plural}.{version}.{group}"
        elif group:
            resource = f"{rt.plural}.{group}"
        else:
            resource = rt.plural
        seen.add(rt.kind)
        marks = [pytest.mark.xfail(strict=True, reason=BUGS[key])] if key in BUGS else []
        cases.append(pytest.param(key, resource, rt.namespaced, marks=marks, id=key))
    return cases


CASES = _cases()


def test_every_served_kind_has_a_manifest() -> None:
    assert sorted(case.values[0] for case in CASES) == sorted(BODIES)
    assert len(CASES) == 48


def _dump(obj: dict[str, Any]) -> str:
    return yaml.safe_dump(obj, sort_keys=False)


@pytest.fixture(scope="module")
def namespace(kubectl: Kubectl) -> Iterator[str]:
    name = f"every-kind-{uuid.uuid4().hex[:8]}"
    manifest = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    path = kubectl.write(f"{name}.yaml", _dump(manifest))
    kubectl.run("create", "-f", str(path))
    try:
        yield name
    finally:
        kubectl.run("delete", "namespace", name, "--ignore-not-found", "--wait=false", check=False)


@pytest.mark.parametrize(("key", "resource", "namespaced"), CASES)
def test_create_get_replace_patch_delete(
    kubectl: Kubectl, namespace: str, unique: Any, key: str, resource: str, namespaced: bool
) -> None:
    api_version, kind = key.split(" ")
    token = unique(kind.lower()[:12])
    prefix, suffix = NAMES.get(key, ("", ""))
    name = f"{prefix}{token}{suffix}"
    where = ["-n", namespace] if namespaced else []
    metadata: dict[str, Any] = {"name": name, "labels": {"e2e": "every-kind"}}
    if namespaced:
        metadata["namespace"] = namespace
    manifest = {"apiVersion": api_version, "kind": kind, "metadata": metadata}
    manifest.update(BODIES[key](name, namespace))
    created_file = kubectl.write(f"{token}.yaml", _dump(manifest))
    try:
        kubectl.run("create", "-f", str(created_file))
        # Replace from the fetched object, so the PUT carries its resourceVersion. A
        # controller may write the object's status between the get and the replace: that
        # replace is rightly a 409, and like any client the test gets it again and retries.
        for attempt in range(5):
            obj = kubectl.json("get", resource, name, *where)
            assert (obj["apiVersion"], obj["kind"]) == (api_version, kind)
            assert obj["metadata"]["name"] == name
            assert obj["metadata"]["labels"]["e2e"] == "every-kind"
            assert obj["metadata"].get("namespace") == (namespace if namespaced else None)
            obj["metadata"]["labels"]["e2e"] = "replaced"
            replaced_file = kubectl.write(f"{token}-replace.yaml", _dump(obj))
            done = kubectl.run("replace", "-f", str(replaced_file), "-o", "json", check=False)
            if done.returncode == 0 or "(Conflict)" not in done.stderr or attempt == 4:
                break
        assert done.returncode == 0, done.stderr
        replaced = json.loads(done.stdout)
        assert replaced["metadata"]["labels"]["e2e"] == "replaced"
        assert replaced["metadata"]["resourceVersion"] != obj["metadata"]["resourceVersion"]

        merge = json.dumps({"metadata": {"labels": {"x": "y"}}})
        kubectl.run("patch", resource, name, *where, "--type", "merge", "-p", merge)
        ops = [{"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}}]
        kubectl.run("patch", resource, name, *where, "--type", "json", "-p", json.dumps(ops))
        patched = kubectl.json("get", resource, name, *where)
        assert (patched["apiVersion"], patched["kind"]) == (api_version, kind)
        assert patched["metadata"]["labels"]["e2e"] == "replaced"
        assert patched["metadata"]["labels"]["x"] == "y"
        assert patched["metadata"]["annotations"]["a"] == "b"

        kubectl.run("delete", resource, name, *where, timeout=60)
        gone = kubectl.fails("get", resource, name, *where)
        assert "(NotFound)" in gone and name in gone, gone
    finally:
        kubectl.run(
            "delete", resource, name, *where, "--ignore-not-found", "--wait=false", check=False
        )
