"""Custom resources with the real kubectl and the official client: the docs' CronTab and more."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

from tests.e2e.conftest import Kubectl

# The CronTab example of "Extend the Kubernetes API with CustomResourceDefinitions".
CRD_YAML = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                cronSpec:
                  type: string
                image:
                  type: string
                replicas:
                  type: integer
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames:
    - ct
"""
CRONTAB_YAML = """\
apiVersion: "stable.example.com/v1"
kind: CronTab
metadata:
  name: my-new-cron-object
spec:
  cronSpec: "* * * * */5"
  image: my-awesome-cron-image
"""


def crd(group: str, plural: str, kind: str, *, scope: str = "Namespaced", extra: str = "") -> str:
    """A CRD with a small schema; ``extra`` is YAML added to its one version."""
    version = textwrap.indent(textwrap.dedent(extra), " " * 6) if extra else ""
    return f"""\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.{group}
spec:
  group: {group}
  scope: {scope}
  names: {{plural: {plural}, singular: {kind.lower()}, kind: {kind}}}
  versions:
    - name: v1
      served: true
      storage: true
{version}      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {{type: integer, default: 1}}
                color: {{type: string}}
                replicas: {{type: integer}}
            status:
              type: object
              properties:
                replicas: {{type: integer}}
                selector: {{type: string}}
"""


def install(kubectl: Kubectl, text: str, name: str) -> None:
    kubectl.run("apply", "-f", str(kubectl.write(f"{name}.yaml", text)))
    kubectl.run("wait", "--for=condition=Established", f"crd/{name}", "--timeout=10s")


@pytest.fixture(scope="module")
def crontabs(kubectl: Kubectl) -> Kubectl:
    """The docs' CronTab CRD, installed once for this module."""
    install(kubectl, CRD_YAML, "crontabs.stable.example.com")
    return kubectl


def test_the_crontab_example_end_to_end(crontabs: Kubectl) -> None:
    kubectl = crontabs
    out = kubectl.out("apply", "-f", str(kubectl.write("my-crontab.yaml", CRONTAB_YAML)))
    assert out.strip() == "crontab.stable.example.com/my-new-cron-object created"
    listed = kubectl.out("get", "crontabs").splitlines()
    assert listed[0].split() == ["NAME", "AGE"]
    assert listed[1].split()[0] == "my-new-cron-object"
    assert (
        kubectl.out("get", "ct", "-o", "name") == "crontab.stable.example.com/my-new-cron-object\n"
    )
    obj = kubectl.json("get", "crontab", "my-new-cron-object")
    assert obj["apiVersion"] == "stable.example.com/v1"
    assert obj["spec"] == {"cronSpec": "* * * * */5", "image": "my-awesome-cron-image"}
    as_yaml = kubectl.out("get", "crontab", "my-new-cron-object", "-o", "yaml")
    assert "cronSpec: '* * * * */5'" in as_yaml and "kind: CronTab" in as_yaml
    # applied again with a change: kubectl patches (a merge patch for a custom resource)
    changed = CRONTAB_YAML.replace("my-awesome-cron-image", "another-image")
    out = kubectl.out("apply", "-f", str(kubectl.write("my-crontab.yaml", changed)))
    assert out.strip() == "crontab.stable.example.com/my-new-cron-object configured"
    assert kubectl.json("get", "ct", "my-new-cron-object")["spec"]["image"] == "another-image"
    error = kubectl.fails("patch", "ct", "my-new-cron-object", "-p", '{"spec": {"image": "x"}}')
    assert "the body of the request was in an unknown format - accepted media types include: " \
        "application/json-patch+json, application/merge-patch+json, " \
        "application/apply-patch+yaml" in error  # fmt: skip
    kubectl.run("patch", "ct", "my-new-cron-object", "--type=merge", "-p",
                '{"spec": {"image": "merged"}}')  # fmt: skip
    assert kubectl.json("get", "ct", "my-new-cron-object")["spec"]["image"] == "merged"
    described = kubectl.out("describe", "crontab", "my-new-cron-object")
    assert "Kind:         CronTab" in described and "Image:" in described
    resources = kubectl.out("api-resources", "--api-group=stable.example.com")
    assert resources.splitlines()[1].split() == ["crontabs", "ct", "stable.example.com/v1",
                                                 "true", "CronTab"]  # fmt: skip


def test_wrong_types_and_unknown_fields(crontabs: Kubectl) -> None:
    kubectl = crontabs
    bad = CRONTAB_YAML.replace("my-new-cron-object", "bad-type") + "  replicas: three\n"
    error = kubectl.fails("apply", "-f", str(kubectl.write("bad.yaml", bad)))
    assert (
        'The CronTab "bad-type" is invalid: spec.replicas: Invalid value: "string": '
        'spec.replicas in body must be of type integer: "string"'
    ) in error
    unknown = CRONTAB_YAML.replace("my-new-cron-object", "pruned") + "  someRandomField: 42\n"
    path = str(kubectl.write("unknown.yaml", unknown))
    error = kubectl.fails("create", "-f", path)
    assert 'strict decoding error: unknown field "spec.someRandomField"' in error
    warned = kubectl.run("create", "--validate=warn", "-f", path)
    assert 'Warning: unknown field "spec.someRandomField"' in warned.stderr
    assert "someRandomField" not in kubectl.json("get", "ct", "pruned")["spec"]
    ignored = kubectl.run("replace", "--validate=false", "-f", path)
    assert "Warning" not in ignored.stderr
    assert "someRandomField" not in kubectl.json("get", "ct", "pruned")["spec"]


def test_explain_shows_the_schema(crontabs: Kubectl) -> None:
    out = crontabs.out("explain", "crontab.spec")
    assert "KIND:       CronTab" in out
    assert "cronSpec" in out and "image" in out and "replicas" in out


def test_printer_columns_defaults_and_cluster_scope(kubectl: Kubectl, unique: Any) -> None:
    group = f"{unique('cols')}.example.com"
    columns = """\
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Color, type: string, jsonPath: .spec.color}
    - {name: Wide, type: string, jsonPath: .spec.color, priority: 1}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    """
    install(kubectl, crd(group, "paints", "Paint", scope="Cluster", extra=columns),
            f"paints.{group}")  # fmt: skip
    obj = {"apiVersion": f"{group}/v1", "kind": "Paint", "metadata": {"name": "red"},
           "spec": {"color": "red"}}  # fmt: skip
    kubectl.run("create", "-f", "-", stdin=json.dumps(obj))
    table = kubectl.out("get", f"paints.{group}").splitlines()
    assert table[0].split() == ["NAME", "SIZE", "COLOR", "AGE"]
    assert table[1].split()[:3] == ["red", "1", "red"]  # size from the schema's default
    wide = kubectl.out("get", f"paints.{group}", "-o", "wide").splitlines()
    assert wide[0].split() == ["NAME", "SIZE", "COLOR", "WIDE", "AGE"]  # the server's order
    got = kubectl.json("get", f"paints.{group}", "red")
    assert "namespace" not in got["metadata"]
    assert got["spec"]["size"] == 1


def test_two_versions(kubectl: Kubectl, unique: Any) -> None:
    group = f"{unique('two')}.example.com"
    text = crd(group, "things", "Thing")
    v2 = text[text.index("    - name: v1"):].replace("name: v1", "name: v2").replace(
        "storage: true", "storage: false")  # fmt: skip
    install(kubectl, text + v2, f"things.{group}")
    obj = {"apiVersion": f"{group}/v2", "kind": "Thing", "metadata": {"name": "t"}, "spec": {}}
    kubectl.run("create", "-f", "-", stdin=json.dumps(obj))
    assert kubectl.json("get", f"things.v1.{group}", "t")["apiVersion"] == f"{group}/v1"
    assert kubectl.json("get", f"things.v2.{group}", "t")["apiVersion"] == f"{group}/v2"


def test_scale_and_status_subresources(kubectl: Kubectl, unique: Any) -> None:
    group = f"{unique('scale')}.example.com"
    subresources = """\
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.selector
    """
    install(kubectl, crd(group, "pools", "Pool", extra=subresources), f"pools.{group}")
    obj = {"apiVersion": f"{group}/v1", "kind": "Pool", "metadata": {"name": "p"},
           "spec": {"replicas": 1}, "status": {"replicas": 7}}  # fmt: skip
    kubectl.run("create", "-f", "-", stdin=json.dumps(obj))
    created = kubectl.json("get", f"pools.{group}", "p")
    assert "status" not in created and created["metadata"]["generation"] == 1
    out = kubectl.out("scale", f"pools.{group}/p", "--replicas=3")
    assert out.strip() == f"pool.{group}/p scaled"
    scaled = kubectl.json("get", f"pools.{group}", "p")
    assert scaled["spec"]["replicas"] == 3 and scaled["metadata"]["generation"] == 2
    kubectl.run("patch", f"pools.{group}", "p", "--subresource=status", "--type=merge",
                "-p", '{"status": {"replicas": 3}, "spec": {"replicas": 9}}')  # fmt: skip
    patched = kubectl.json("get", f"pools.{group}", "p")
    assert patched["status"] == {"replicas": 3} and patched["spec"]["replicas"] == 3


def test_deleting_the_crd_deletes_its_objects(kubectl: Kubectl, unique: Any) -> None:
    group = f"{unique('del')}.example.com"
    # no wait between creating the CRD and using it: kubectl refetches discovery by itself
    kubectl.run("create", "-f", str(kubectl.write("ghosts.yaml", crd(group, "ghosts", "Ghost"))))
    assert "No resources found" in kubectl.run("get", f"ghosts.{group}").stderr
    for name in ("a", "b"):
        obj = {"apiVersion": f"{group}/v1", "kind": "Ghost", "metadata": {"name": name}}
        kubectl.run("create", "-f", "-", stdin=json.dumps(obj))
    kubectl.run("delete", "crd", f"ghosts.{group}", "--timeout=20s")  # waits until it is gone
    error = kubectl.fails("get", f"ghosts.{group}")
    assert "the server doesn't have a resource type" in error


def test_the_python_client_custom_objects_api(kubectl: Kubectl, api_client: Any,
                                              unique: Any) -> None:  # fmt: skip
    from kubernetes import client, watch

    group = f"{unique('py')}.example.com"
    install(kubectl, crd(group, "widgets", "Widget"), f"widgets.{group}")
    api = client.CustomObjectsApi(api_client)
    body = {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "w"},
            "spec": {"color": "blue"}}  # fmt: skip
    created = api.create_namespaced_custom_object(group, "v1", "default", "widgets", body)
    assert created["spec"] == {"color": "blue", "size": 1}
    listed = api.list_namespaced_custom_object(group, "v1", "default", "widgets")
    assert [item["metadata"]["name"] for item in listed["items"]] == ["w"]
    events = watch.Watch().stream(
        api.list_namespaced_custom_object, group, "v1", "default", "widgets",
        resource_version=listed["metadata"]["resourceVersion"], timeout_seconds=10,
    )  # fmt: skip
    api.patch_namespaced_custom_object(group, "v1", "default", "widgets", "w",
                                       {"spec": {"color": "green"}})  # fmt: skip
    for event in events:
        assert event["type"] == "MODIFIED"
        assert event["object"]["spec"]["color"] == "green"
        break
    api.delete_namespaced_custom_object(group, "v1", "default", "widgets", "w")
