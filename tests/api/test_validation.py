"""Spec validation reports upstream's field paths and messages for common mistakes."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikube_py.api.defaults import apply_defaults
from minikube_py.api.errors import Cause
from minikube_py.api.resources import ResourceType
from minikube_py.api.validation import decode_base64, merge_string_data, validate


def rt(kind: str, group: str = "") -> ResourceType:
    return ResourceType(group, "v1", kind, kind.lower() + "s", kind.lower(), True)


def container(**fields: Any) -> dict[str, Any]:
    return {"name": "web", "image": "nginx", **fields}


def pod_template(labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"labels": labels or {"app": "web"}},
        "spec": {"containers": [container()], **spec},
    }


def problems(kind: str, obj: dict[str, Any], group: str = "", old: Any = None) -> list[str]:
    """Default like the server, then validate; ``field: message`` as kubectl shows them."""
    resource = rt(kind, group)
    apply_defaults(resource, obj)
    causes = validate(resource, obj, old=old)
    assert all(isinstance(cause, Cause) for cause in causes)
    return [f"{cause.field}: {cause.message}" if cause.field else cause.message for cause in causes]


def pod(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "p"}, "spec": {"containers": [container()], **spec}}


def test_a_plain_pod_is_valid() -> None:
    assert problems("Pod", pod()) == []


def test_pod_common_mistakes() -> None:
    assert problems("Pod", {"spec": {}}) == ["spec.containers: Required value"]
    bad = pod(
        containers=[
            container(image="", ports=[{"containerPort": 70000}]),
            container(name="web", imagePullPolicy="Sometimes"),
        ],
        restartPolicy="Sometimes",
    )
    assert problems("Pod", bad) == [
        "spec.containers[0].image: Required value",
        "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and "
        "65535, inclusive",
        'spec.containers[1].imagePullPolicy: Unsupported value: "Sometimes": supported values: '
        '"Always", "IfNotPresent", "Never"',
        'spec.containers[1].name: Duplicate value: "web"',
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", '
        '"OnFailure", "Never"',
    ]


def test_pod_names_ports_env_and_mounts() -> None:
    bad = pod(
        containers=[
            container(
                name="Web_1",
                ports=[{"containerPort": 80, "name": "http", "protocol": "HTTP"}, {"name": "http"}],
                env=[{"name": ""}, {"name": "A", "value": "x", "valueFrom": {"fieldRef": {
                    "fieldPath": "spec.nodeName"}}}],
                volumeMounts=[{"name": "data", "mountPath": "/data"}],
            )
        ],
    )  # fmt: skip
    found = problems("Pod", bad)
    assert found[0].startswith('spec.containers[0].name: Invalid value: "Web_1": a lowercase RFC')
    assert found[1:] == [
        'spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: '
        '"SCTP", "TCP", "UDP"',
        'spec.containers[0].ports[1].name: Duplicate value: "http"',
        "spec.containers[0].ports[1].containerPort: Required value",
        "spec.containers[0].env[0].name: Required value",
        'spec.containers[0].env[0].name: Invalid value: "": environment variable name must be '
        "non-empty",
        'spec.containers[0].env[1].valueFrom: Invalid value: "": may not be specified when '
        "`value` is not empty",
        'spec.containers[0].volumeMounts[0].name: Not found: "data"',
    ]


def test_pod_volumes() -> None:
    volumes = [
        {"name": "a", "configMap": {"name": "c"}, "secret": {"secretName": "s"}},
        {"name": "b", "persistentVolumeClaim": {}},
        {"name": "b", "emptyDir": {}},
        {"name": "b", "emptyDir": {}},
    ]
    assert problems("Pod", pod(volumes=volumes)) == [
        "spec.volumes[0].configMap: Forbidden: may not specify more than 1 volume type",
        "spec.volumes[1].persistentVolumeClaim.claimName: Required value",
        'spec.volumes[3].name: Duplicate value: "b"',
    ]


def test_pod_updates_may_change_images_only() -> None:
    old = pod()
    apply_defaults(rt("Pod"), old)
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["image"] = "nginx:1.27"
    assert problems("Pod", new, old=old) == []
    moved = copy.deepcopy(old)
    moved["spec"]["nodeName"] = "node-2"
    found = problems("Pod", moved, old=old)
    assert len(found) == 1
    assert found[0].startswith(
        "spec: Forbidden: pod updates may not change fields other than "
        "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
        "`spec.tolerations` (only additions to existing tolerations),"
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "
        "negative)\n  core.PodSpec{"
    )
    grown = copy.deepcopy(old)
    grown["spec"]["containers"].append(container(name="sidecar"))
    assert problems("Pod", grown, old=old) == [
        "spec.containers: Forbidden: pod updates may not add or remove containers"
    ]


def service(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, **spec}}


def test_service_rules() -> None:
    assert problems("Service", service(ports=[{"port": 80}])) == []
    assert problems("Service", service()) == ["spec.ports: Required value"]
    assert problems("Service", service(clusterIP="None")) == []
    assert problems("Service", service(type="ExternalName", externalName="example.com")) == []
    bad = service(type="Balanced", ports=[{"port": 80}, {"port": 80, "protocol": "HTTP"}])
    assert problems("Service", bad) == [
        "spec.ports[0].name: Required value",
        "spec.ports[1].name: Required value",
        'spec.ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
        'spec.type: Unsupported value: "Balanced": supported values: "ClusterIP", '
        '"ExternalName", "LoadBalancer", "NodePort"',
    ]
    duplicate = service(ports=[{"port": 80, "name": "a"}, {"port": 80, "name": "b"}])
    assert problems("Service", duplicate) == [
        'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", '
        "AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, "
        'StrVal:""}, NodePort:0}'
    ]


def test_service_node_ports() -> None:
    low = service(type="NodePort", ports=[{"port": 80, "nodePort": 80}])
    assert problems("Service", low) == [
        "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. "
        "The range of valid ports is 30000-32767"
    ]
    cluster = service(ports=[{"port": 80, "nodePort": 30080}])
    assert problems("Service", cluster) == [
        "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"
    ]


def test_service_cluster_ip_may_not_change() -> None:
    old = service(ports=[{"port": 80}], clusterIP="10.96.0.5")
    apply_defaults(rt("Service"), old)
    moved = copy.deepcopy(old)
    moved["spec"]["clusterIP"] = "10.96.0.9"
    assert problems("Service", moved, old=old) == [
        'spec.clusterIPs[0]: Invalid value: []string{"10.96.0.9"}: may not change once set'
    ]
    kept = copy.deepcopy(old)
    del kept["spec"]["clusterIP"], kept["spec"]["clusterIPs"]
    assert problems("Service", kept, old=old) == []


def test_config_maps() -> None:
    assert problems("ConfigMap", {"data": {"a.conf": "x"}}) == []
    found = problems("ConfigMap", {"data": {"bad key": "x", "..a": "y"}})
    assert found[0] == (
        'data[bad key]: Invalid value: "bad key": a valid config key must consist of '
        "alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
        "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
    )
    assert found[1] == "data[..a]: Invalid value: \"..a\": must not start with '..'"
    frozen = {"immutable": True, "data": {"a": "1"}}
    changed = {"immutable": True, "data": {"a": "2"}}
    assert problems("ConfigMap", changed, old=frozen) == [
        "data: Forbidden: field is immutable when `immutable` is set"
    ]
    thawed = {"data": {"a": "1"}}
    assert problems("ConfigMap", thawed, old=frozen) == [
        "immutable: Forbidden: field is immutable when `immutable` is set"
    ]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_secrets() -> None:
    assert problems("Secret", {"data": {"password": b64("s3cret")}}) == []
    assert problems("Secret", {"data": {"password": "not base64!"}}) == [
        'data[password]: Invalid value: "<secret contents redacted>": illegal base64 data at '
        "input byte 3"
    ]
    assert problems("Secret", {"type": "kubernetes.io/tls", "data": {"tls.crt": b64("c")}}) == [
        "data[tls.key]: Required value"
    ]
    assert problems("Secret", {"type": "kubernetes.io/dockerconfigjson", "data": {}}) == [
        "data[.dockerconfigjson]: Required value"
    ]
    docker = {"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": b64("[]")}}
    assert problems("Secret", docker) == [
        'data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": json: cannot '
        "unmarshal array into Go value of type map[string]interface {}"
    ]
    assert problems("Secret", {"type": "kubernetes.io/basic-auth"}) == [
        "data[username]: Required value",
        "data[password]: Required value",
    ]
    assert problems("Secret", {"type": "kubernetes.io/ssh-auth", "data": {}}) == [
        "data[ssh-privatekey]: Required value"
    ]
    assert problems("Secret", {"type": "kubernetes.io/service-account-token"}) == [
        "metadata.annotations[kubernetes.io/service-account.name]: Required value"
    ]
    old = {"type": "Opaque", "data": {}}
    tls = {"type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}}
    assert problems("Secret", tls, old=old) == [
        'type: Invalid value: "kubernetes.io/tls": field is immutable'
    ]


def test_merge_string_data() -> None:
    secret = {"data": {"a": b64("old"), "b": b64("kept")}, "stringData": {"a": "new", "c": 5}}
    causes = merge_string_data(secret)
    assert secret == {"data": {"a": b64("new"), "b": b64("kept")}}
    assert [(c.field, c.message) for c in causes] == [
        ("stringData[c]", "Invalid value: 5: must be a string")
    ]
    only_strings: dict[str, Any] = {"stringData": {"x": "é"}}
    assert merge_string_data(only_strings) == []
    assert only_strings == {"data": {"x": b64("é")}}


@pytest.mark.parametrize(
    ("text", "error"),
    [("aGk=", None), ("aGk", 0), ("a===", 1), ("ab=", 3), ("ab=c", 2), ("aGk=\n", None), ("!", 0)],
)
def test_base64_errors_point_where_go_points(text: str, error: int | None) -> None:
    decoded, problem = decode_base64(text)
    assert problem == (None if error is None else f"illegal base64 data at input byte {error}")
    assert (decoded == b"hi") == (error is None and text.startswith("aGk"))


def test_namespaces_and_unknown_kinds() -> None:
    assert problems("Namespace", {"spec": {"finalizers": ["kubernetes"]}}) == []
    assert problems("Namespace", {"spec": {"finalizers": ["custom"]}}) == [
        'spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name '
        "nor is it fully qualified"
    ]
    assert problems("Namespace", {"spec": {"finalizers": ["a/b/c"]}})[0].startswith(
        'spec.finalizers: Invalid value: "a/b/c": a qualified name must consist of'
    )
    assert problems("Widget", {"spec": "anything"}, "example.com") == []


json_values: Any = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(
        st.sampled_from(["spec", "template", "containers", "ports", "metadata", "labels",
                         "selector", "matchLabels", "matchExpressions", "volumes", "data",
                         "type", "immutable", "image", "name", "port", "clusterIP",
                         "strategy", "rollingUpdate", "schedule", "jobTemplate", "x"])
        | st.text(max_size=6),
        inner,
        max_size=5,
    ),
    max_leaves=30,
)  # fmt: skip
KINDS = [
    ("Pod", ""), ("Service", ""), ("Secret", ""), ("ConfigMap", ""), ("Namespace", ""),
    ("ReplicationController", ""), ("PodTemplate", ""), ("Deployment", "apps"),
    ("ReplicaSet", "apps"), ("StatefulSet", "apps"), ("DaemonSet", "apps"), ("Job", "batch"),
    ("CronJob", "batch"),
]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(json_values, json_values)
def test_validation_never_raises(obj: Any, old: Any) -> None:
    for kind, group in KINDS:
        resource = rt(kind, group)
        for before in (None, old):
            causes = validate(resource, copy.deepcopy(obj), old=before)
            assert all(isinstance(cause, Cause) for cause in causes)
        defaulted = copy.deepcopy(obj)
        apply_defaults(resource, defaulted)
        validate(resource, defaulted, old=defaulted)
    if isinstance(obj, dict):
        merge_string_data(obj)
