"""``kubectl apply --server-side`` against the real server: ownership, conflicts, force, pruning.

The messages checked here are the ones a 1.32 API server sends (apiserver's
``fieldmanager/internal/conflict.go``); kubectl prints them after ``error:`` and adds its own
advice. Every website example is applied server-side by ``test_conformance_corpus.py``.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import yaml

from tests.e2e.conftest import Kubectl


def deployment(name: str, *, replicas: int | None = 2, image: str = "nginx:1.25") -> str:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": "web", "image": image}]},
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name, "tier": "front"}},
        "spec": spec,
    }
    return yaml.safe_dump(manifest)


def managers(kubectl: Kubectl, name: str) -> dict[str, dict[str, Any]]:
    obj = kubectl.json("get", "deploy", name, "--show-managed-fields")
    return {
        f"{entry['manager']}/{entry['operation']}/{entry.get('subresource', '')}": entry
        for entry in obj["metadata"]["managedFields"]
    }


def test_apply_twice_creates_then_changes_nothing(kubectl: Kubectl, unique: Any) -> None:
    name = unique("ssa")
    path = kubectl.write(f"{name}.yaml", deployment(name))
    try:
        first = kubectl.out("apply", "--server-side", "-f", str(path))
        assert first.strip() == f"deployment.apps/{name} serverside-applied"
        # once rolled out, only a change of the manifest would write the Deployment again
        kubectl.out("rollout", "status", f"deployment/{name}", "--timeout=90s")
        version = kubectl.out("get", "deploy", name, "-o", "jsonpath={.metadata.resourceVersion}")
        again = kubectl.out("apply", "--server-side", "-f", str(path))
        assert again.strip() == f"deployment.apps/{name} serverside-applied"
        after = kubectl.out("get", "deploy", name, "-o", "jsonpath={.metadata.resourceVersion}")
        assert after == version
        entry = managers(kubectl, name)["kubectl/Apply/"]
        assert entry["apiVersion"] == "apps/v1" and entry["fieldsType"] == "FieldsV1"
        spec = entry["fieldsV1"]["f:spec"]
        assert "f:replicas" in spec and "f:selector" in spec
        container = spec["f:template"]["f:spec"]["f:containers"]['k:{"name":"web"}']
        assert container == {".": {}, "f:image": {}, "f:name": {}}
    finally:
        kubectl.run("delete", "deploy", name, "--wait=false", check=False)


def test_conflict_after_scale_then_force(kubectl: Kubectl, unique: Any) -> None:
    name = unique("ssa-scale")
    path = kubectl.write(f"{name}.yaml", deployment(name))
    try:
        kubectl.out("apply", "--server-side", "-f", str(path))
        kubectl.out("scale", "deploy", name, "--replicas=4")
        scaled = managers(kubectl, name)["kubectl/Update/scale"]
        assert scaled["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
        refused = kubectl.fails("apply", "--server-side", "-f", str(path))
        assert refused.startswith(
            'error: Apply failed with 1 conflict: conflict with "kubectl" with subresource '
            '"scale" using apps/v1: .spec.replicas\n'
        ), refused
        assert kubectl.out("get", "deploy", name, "-o", "jsonpath={.spec.replicas}") == "4"
        forced = kubectl.out("apply", "--server-side", "--force-conflicts", "-f", str(path))
        assert forced.strip() == f"deployment.apps/{name} serverside-applied"
        assert kubectl.out("get", "deploy", name, "-o", "jsonpath={.spec.replicas}") == "2"
        assert "kubectl/Update/scale" not in managers(kubectl, name)  # it lost its only field
    finally:
        kubectl.run("delete", "deploy", name, "--wait=false", check=False)


def test_conflict_between_two_appliers(kubectl: Kubectl, unique: Any) -> None:
    name = unique("ssa-two")
    path = kubectl.write(f"{name}.yaml", deployment(name))
    other = kubectl.write(f"{name}-other.yaml", deployment(name, image="nginx:1.26"))
    try:
        kubectl.out("apply", "--server-side", "-f", str(path))
        refused = kubectl.fails(
            "apply", "--server-side", "--field-manager=deployer", "-f", str(other)
        )
        assert refused.startswith(
            'error: Apply failed with 1 conflict: conflict with "kubectl": '
            '.spec.template.spec.containers[name="web"].image\n'
        ), refused
        # The same values are shared, not a conflict; then each owns them.
        kubectl.out("apply", "--server-side", "--field-manager=deployer", "-f", str(path))
        assert {"kubectl/Apply/", "deployer/Apply/"} <= set(managers(kubectl, name))
    finally:
        kubectl.run("delete", "deploy", name, "--wait=false", check=False)


def test_a_field_left_out_is_removed_unless_shared(kubectl: Kubectl, unique: Any) -> None:
    name = unique("ssa-prune")
    path = kubectl.write(f"{name}.yaml", deployment(name))
    try:
        kubectl.out("apply", "--server-side", "-f", str(path))
        manifest = yaml.safe_load(path.read_text())
        del manifest["metadata"]["labels"]["tier"]
        path.write_text(yaml.safe_dump(manifest))
        kubectl.out("apply", "--server-side", "-f", str(path))
        labels = kubectl.json("get", "deploy", name)["metadata"]["labels"]
        assert labels == {"app": name}
        # A label another manager set stays when the applier leaves it out.
        kubectl.out("label", "deploy", name, "owner=ops")
        kubectl.out("apply", "--server-side", "-f", str(path))
        labels = kubectl.json("get", "deploy", name)["metadata"]["labels"]
        assert labels == {"app": name, "owner": "ops"}
        entry = managers(kubectl, name)["kubectl-label/Update/"]
        assert entry["fieldsV1"] == {"f:metadata": {"f:labels": {"f:owner": {}}}}
    finally:
        kubectl.run("delete", "deploy", name, "--wait=false", check=False)


def test_server_side_apply_after_client_side_apply(kubectl: Kubectl, unique: Any) -> None:
    """kubectl's move from client-side apply: no conflicts on what it applied before."""
    name = unique("ssa-csa")
    path = kubectl.write(f"{name}.yaml", deployment(name))
    try:
        kubectl.out("apply", "-f", str(path))
        path.write_text(deployment(name, replicas=5))
        applied = kubectl.out("apply", "--server-side", "-f", str(path))
        assert applied.strip() == f"deployment.apps/{name} serverside-applied"
        assert kubectl.out("get", "deploy", name, "-o", "jsonpath={.spec.replicas}") == "5"
        assert "kubectl-client-side-apply/Update/" not in managers(kubectl, name)
    finally:
        kubectl.run("delete", "deploy", name, "--wait=false", check=False)


def test_managed_fields_of_kubectl_commands(kubectl: Kubectl, unique: Any) -> None:
    """Each kubectl command writes as its own manager (create, apply, patch, label, scale)."""
    name = unique("mf")
    path = kubectl.write(f"{name}.yaml", deployment(name))
    try:
        kubectl.out("create", "-f", str(path))
        kubectl.out("apply", "-f", str(path))  # client-side: a last-applied annotation
        kubectl.out("patch", "deploy", name, "-p", '{"spec":{"minReadySeconds":5}}')
        kubectl.out("label", "deploy", name, "x=y")
        kubectl.out("scale", "deploy", name, "--replicas=3")
        found = managers(kubectl, name)
        # beside kubectl's, the Deployment controller's status writes (as upstream)
        assert set(found) - {"kube-controller-manager/Update/status"} == {
            "kubectl-create/Update/",
            "kubectl-client-side-apply/Update/",
            "kubectl-patch/Update/",
            "kubectl-label/Update/",
            "kubectl/Update/scale",
        }
        created = found["kubectl-create/Update/"]["fieldsV1"]
        assert "f:progressDeadlineSeconds" in created["f:spec"]  # defaults count as set
        assert "f:replicas" not in created["f:spec"]  # scale took it
        annotations = found["kubectl-client-side-apply/Update/"]["fieldsV1"]["f:metadata"]
        assert "f:kubectl.kubernetes.io/last-applied-configuration" in annotations["f:annotations"]
        assert found["kubectl-patch/Update/"]["fieldsV1"] == {"f:spec": {"f:minReadySeconds": {}}}
        shown = kubectl.out("get", "deploy", name, "-o", "yaml", "--show-managed-fields")
        assert "manager: kubectl-create" in shown and "operation: Update" in shown
        assert "managedFields" not in kubectl.out("get", "deploy", name, "-o", "yaml")
    finally:
        kubectl.run("delete", "deploy", name, "--wait=false", check=False)


def test_apply_through_the_python_client(api_client: Any, unique: Any) -> None:
    """The official client: fieldManager is required; with it, apply creates (201)."""
    from kubernetes.client.rest import ApiException

    name = unique("ssa-py")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"a": "1"}}

    def apply(**query: str) -> tuple[Any, int]:
        data, code, _headers = api_client.call_api(
            f"/api/v1/namespaces/default/configmaps/{name}",
            "PATCH",
            query_params=list(query.items()),
            header_params={"Content-Type": "application/apply-patch+yaml"},
            body=body,
            response_type="object",
            auth_settings=["BearerToken"],
            _preload_content=True,
        )
        return data, code

    try:
        try:
            apply()
            raise AssertionError("an apply without fieldManager was accepted")
        except ApiException as error:
            assert error.status == 422
            assert json.loads(error.body)["message"] == (
                'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                "is required for apply patch"
            )
        assert apply(fieldManager="py")[1] == 201
        body["data"] = {"b": "2"}
        applied, code = apply(fieldManager="py")
        assert code == 200
        assert applied["data"] == {"b": "2"}  # "a" left the configuration: removed
        (entry,) = applied["metadata"]["managedFields"]
        assert (entry["manager"], entry["operation"]) == ("py", "Apply")
        assert entry["fieldsV1"] == {"f:data": {"f:b": {}}}
    finally:
        with contextlib.suppress(ApiException):  # not there if the test failed early
            api_client.call_api(
                f"/api/v1/namespaces/default/configmaps/{name}",
                "DELETE",
                auth_settings=["BearerToken"],
                _preload_content=False,
            )


def test_undeclared_field_is_refused_as_upstream(kubectl: Kubectl, unique: Any) -> None:
    name = unique("ssa-unknown")
    manifest = yaml.safe_load(deployment(name))
    manifest["spec"]["template"]["spec"]["containers"][0]["colour"] = "red"
    path = kubectl.write(f"{name}.yaml", yaml.safe_dump(manifest))
    refused = kubectl.fails("apply", "--server-side", "-f", str(path))
    assert refused.strip() == (
        "Error from server (BadRequest): failed to create typed patch object "
        f"(default/{name}; apps/v1, Kind=Deployment): "
        '.spec.template.spec.containers[name="web"].colour: field not declared in schema'
    ), refused
    kubectl.fails("get", "deploy", name)  # nothing was created
