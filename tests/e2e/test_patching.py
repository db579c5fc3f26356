"""kubectl's patching commands against the real server: ``patch --type json|merge|strategic``,
``label``, ``annotate``, ``set image``, ``edit`` (with a script as EDITOR), and what kubectl
prints when a manifest repeats a field or carries one of the wrong type."""

from __future__ import annotations

import json
import stat
from typing import Any

from tests.e2e.conftest import Kubectl


def deployment_yaml(name: str, replicas: str = "1") -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
      - name: web
        image: nginx:1.0
      - name: side
        image: busybox
"""


def create_deployment(kubectl: Kubectl, name: str) -> dict[str, Any]:
    kubectl.out("create", "-f", "-", stdin=deployment_yaml(name))
    obj: dict[str, Any] = kubectl.json("get", "deployment", name)
    return obj


def test_patch_types(kubectl: Kubectl, unique: Any) -> None:
    name = unique("patch")
    create_deployment(kubectl, name)
    kubectl.out(
        "patch", "deployment", name, "--type", "json",
        "-p", '[{"op":"test","path":"/spec/replicas","value":1},'
        '{"op":"replace","path":"/spec/replicas","value":2},'
        '{"op":"add","path":"/metadata/labels","value":{"tier":"web"}},'
        '{"op":"copy","from":"/metadata/labels/tier","path":"/metadata/labels/copied"},'
        '{"op":"move","from":"/metadata/labels/copied","path":"/metadata/labels/moved"},'
        '{"op":"remove","path":"/metadata/labels/tier"}]',
    )  # fmt: skip
    obj = kubectl.json("get", "deployment", name)
    assert obj["spec"]["replicas"] == 2 and obj["metadata"]["labels"] == {"moved": "web"}
    kubectl.out("patch", "deployment", name, "--type", "merge", "-p", '{"spec":{"paused":true}}')
    assert kubectl.json("get", "deployment", name)["spec"]["paused"] is True
    # strategic (kubectl's default): containers merge by name, the other one stays
    kubectl.out(
        "patch", "deployment", name,
        "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:2.0"}]}}}}',
    )  # fmt: skip
    containers = kubectl.json("get", "deployment", name)["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [
        ("web", "nginx:2.0"),
        ("side", "busybox"),
    ]
    # a merge patch replaces the list whole
    kubectl.out(
        "patch", "deployment", name, "--type", "merge",
        "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"nginx"}]}}}}',
    )  # fmt: skip
    containers = kubectl.json("get", "deployment", name)["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["only"]
    kubectl.out("patch", "deployment", name, "--subresource", "scale", "--type", "merge",
                "-p", '{"spec":{"replicas":4}}')  # fmt: skip
    assert kubectl.json("get", "deployment", name)["spec"]["replicas"] == 4


def written(deployment: dict[str, Any]) -> tuple[Any, ...]:
    """What clients wrote of a Deployment (not its status, which its controller writes)."""
    metadata = deployment["metadata"]
    return metadata["generation"], metadata.get("labels"), deployment["spec"]


def test_bad_patches_are_refused_and_change_nothing(kubectl: Kubectl, unique: Any) -> None:
    name = unique("badpatch")
    create_deployment(kubectl, name)
    before = kubectl.json("get", "deployment", name)
    error = kubectl.fails(
        "patch", "deployment", name, "--type", "json",
        "-p", '[{"op":"test","path":"/spec/replicas","value":9}]',
    )  # fmt: skip
    assert "The request is invalid: the server rejected our request due to an error in our " \
        "request" in error, error  # fmt: skip
    error = kubectl.fails("patch", "deployment", name, "--type", "merge", "-p", '{"spec":')
    assert "error" in error.lower(), error
    error = kubectl.fails(
        "patch", "deployment", name, "--type", "merge", "-p", '{"spec":{"replicas":"two"}}'
    )
    assert (
        "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of "
        "type int32" in error
    ), error
    error = kubectl.fails(
        "patch", "deployment", name, "--type", "merge", "-p", '{"spec":{"replicas":-2}}'
    )
    assert f'The Deployment "{name}" is invalid' in error and "spec.replicas" in error, error
    # kubectl patch leaves fieldValidation to the server's default (Warn): dropped, warned
    done = kubectl.run("patch", "deployment", name, "--type", "merge", "-p", '{"spec":{"bogus":1}}')
    assert "patched (no change)" in done.stdout, done
    assert done.stderr == 'Warning: unknown field "spec.bogus"\n', done.stderr
    error = kubectl.fails(
        "patch", "deployment", name, "-p", '{"spec":{"selector":{"matchLabels":{"app":"x"}}}}'
    )
    assert "field is immutable" in error, error
    assert written(kubectl.json("get", "deployment", name)) == written(before)


def test_label_and_annotate(kubectl: Kubectl, unique: Any) -> None:
    name = unique("labels")
    kubectl.out("create", "configmap", name, "--from-literal=k=v")
    kubectl.out("label", "configmap", name, "tier=web", "team=a")
    kubectl.out("annotate", "configmap", name, "note=first")
    error = kubectl.fails("label", "configmap", name, "tier=db")
    assert "'tier' already has a value (web), and --overwrite is false" in error, error
    error = kubectl.fails("annotate", "configmap", name, "note=second")
    assert (
        "--overwrite is false but found the following declared annotation(s): "
        "'note' already has a value (first)" in error
    ), error
    kubectl.out("label", "configmap", name, "tier=db", "--overwrite")
    kubectl.out("annotate", "configmap", name, "note=second", "--overwrite")
    kubectl.out("label", "configmap", name, "team-")
    kubectl.out("annotate", "configmap", name, "note-")
    metadata = kubectl.json("get", "configmap", name)["metadata"]
    assert metadata["labels"] == {"tier": "db"}
    assert "note" not in (metadata.get("annotations") or {})


def test_set_image(kubectl: Kubectl, unique: Any) -> None:
    name = unique("setimage")
    create_deployment(kubectl, name)
    kubectl.out("set", "image", f"deployment/{name}", "web=nginx:3.0")
    containers = kubectl.json("get", "deployment", name)["spec"]["template"]["spec"]["containers"]
    assert {c["name"]: c["image"] for c in containers} == {"web": "nginx:3.0", "side": "busybox"}
    error = kubectl.fails("set", "image", f"deployment/{name}", "nope=nginx")
    assert 'unable to find container named "nope"' in error, error


def _editor(kubectl: Kubectl, name: str, old: str, new: str) -> str:
    """A script kubectl runs as EDITOR: it replaces ``old`` with ``new`` in the file it gets."""
    script = kubectl.write(
        name,
        "#!/usr/bin/env python3\n"
        "import sys\n"
        "path = sys.argv[-1]\n"
        "text = open(path).read()\n"
        f"assert {old!r} in text, text\n"
        f"open(path, 'w').write(text.replace({old!r}, {new!r}, 1))\n",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_edit(kubectl: Kubectl, unique: Any) -> None:
    name = unique("edit")
    create_deployment(kubectl, name)
    env = dict(kubectl.env)
    try:
        kubectl.env["KUBE_EDITOR"] = _editor(kubectl, "grow.py", "replicas: 1", "replicas: 3")
        done = kubectl.run("edit", "deployment", name)
        assert f"deployment.apps/{name} edited" in done.stdout, done
        assert kubectl.json("get", "deployment", name)["spec"]["replicas"] == 3
        before = kubectl.json("get", "deployment", name)
        kubectl.env["KUBE_EDITOR"] = _editor(kubectl, "break.py", "replicas: 3", "replicas: -3")
        done = kubectl.run("edit", "deployment", name, check=False)
        assert done.returncode != 0, done
        assert f'deployments.apps "{name}" is invalid' in done.stderr, done.stderr
        assert "spec.replicas" in done.stderr, done.stderr
        assert written(kubectl.json("get", "deployment", name)) == written(before)
    finally:
        kubectl.env.clear()
        kubectl.env.update(env)


def test_manifest_with_a_duplicate_field(kubectl: Kubectl, unique: Any) -> None:
    name = unique("dupe")
    manifest = deployment_yaml(name).replace("  replicas: 1\n", "  replicas: 1\n  replicas: 2\n")
    # kubectl 1.32 turns the YAML into JSON itself, the last value winning, so the server
    # never sees the repeated key and the object is created with the second value.
    assert f"deployment.apps/{name} created" in kubectl.out("apply", "-f", "-", stdin=manifest)
    assert kubectl.json("get", "deployment", name)["spec"]["replicas"] == 2


def test_create_with_a_wrong_type(kubectl: Kubectl, unique: Any) -> None:
    name = unique("wrongtype")
    error = kubectl.fails("create", "-f", "-", stdin=deployment_yaml(name, replicas='"two"'))
    assert error.strip().endswith(
        'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal '
        "string into Go struct field DeploymentSpec.spec.replicas of type int32"
    ), error
    assert "Error from server (BadRequest)" in error, error
    patch = json.dumps({"metadata": {"labels": {"a": 1}}})
    create_deployment(kubectl, name)
    error = kubectl.fails("patch", "deployment", name, "--type", "merge", "-p", patch)
    assert "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels" in error


def test_raw_body_with_duplicate_fields(kubectl: Kubectl, unique: Any) -> None:
    """A body sent as is (``create --raw``) reaches the server with its repeated keys."""
    name = unique("rawdupe")
    body = (
        '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "NAME"},'
        ' "data": {"k": "first", "k": "second"}}'
    ).replace("NAME", name)
    path = kubectl.write(f"{name}.json", body)
    collection = "/api/v1/namespaces/default/configmaps"
    done = kubectl.run("create", "--raw", f"{collection}?fieldValidation=Strict", "-f", str(path),
                       check=False)  # fmt: skip
    assert done.returncode != 0
    assert (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: '
        'duplicate field "data.k"' in done.stderr
    ), done.stderr
    done = kubectl.run("create", "--raw", collection, "-f", str(path))  # Warn, the default
    assert 'Warning: duplicate field "data.k"' in done.stderr, done.stderr
    assert kubectl.json("get", "configmap", name)["data"] == {"k": "second"}
