"""Golden tests of the built-in ``kubectl apply``: the real kubectl and the built-in one apply
the same manifests (under two names, since an object can be created only once) and must print
the same and leave the same objects behind.

The three-way patch is checked by its effects, as a user sees them: a second apply is
``unchanged``, a changed field ``configured`` and changed in the cluster, a field dropped from
the manifest removed from the object, a field someone else set (``kubectl scale``) kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Kubectl
from tests.e2e.kubectl.golden import Result, builtin, mask, real, same

_VOLATILE = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation")


def stored(kubectl: Kubectl, kind: str, name: str, namespace: str = "default") -> Any:
    """The object as the server keeps it, without what differs between any two objects
    (uid, times, status, allocated addresses) and with its name replaced by ``NAME``."""
    obj = kubectl.json("get", kind, name, "-n", namespace)
    for key in _VOLATILE:
        obj["metadata"].pop(key, None)
    obj.pop("status", None)
    spec = obj.get("spec") or {}
    for key in ("clusterIP", "clusterIPs"):
        spec.pop(key, None)
    for port in spec.get("ports") or []:
        port.pop("nodePort", None) if isinstance(port, dict) else None
    if obj["kind"] == "Pod":
        spec.pop("nodeName", None)
        spec.pop("volumes", None)
        for container in spec.get("containers") or []:
            container.pop("volumeMounts", None)
    return json.loads(json.dumps(obj).replace(name, "NAME"))


def twice(
    kubectl: Kubectl, names: tuple[str, str], *args: str, stdin: str | None = None
) -> tuple[Result, Result]:
    """Run ``args`` (``{name}`` standing for the object's name) through the real kubectl
    with the first name and the built-in one with the second; assert they printed the same
    with the names swapped for ``NAME``; both results."""
    first, second = names
    expected = real(kubectl, *(a.format(name=first) for a in args), stdin=_named(stdin, first))
    got = builtin(kubectl, *(a.format(name=second) for a in args), stdin=_named(stdin, second))
    for field in ("out", "err"):
        want = mask(getattr(expected, field).replace(first, "NAME"))
        have = mask(getattr(got, field).replace(second, "NAME"))
        assert have == want, f"kubectl {' '.join(args)}: {field} differs"
    assert got.code == expected.code
    return expected, got


def _named(stdin: str | None, name: str) -> str | None:
    return stdin.replace("{name}", name) if stdin is not None else None


def manifest(kubectl: Kubectl, file: str, text: str, name: str) -> str:
    return str(kubectl.write(file.format(name=name), text.replace("{name}", name)))


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {app: {name}, tier: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: {name}}
  template:
    metadata:
      labels: {app: {name}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        args: ["--first"]
        ports:
        - containerPort: 80
      - name: side
        image: busybox
"""


def apply_both(kubectl: Kubectl, names: tuple[str, str], text: str) -> tuple[Result, Result]:
    for name in names:
        manifest(kubectl, "{name}.yaml", text, name)
    return twice(kubectl, names, "apply", "-f", f"{kubectl.workdir}/{{name}}.yaml")


def test_apply_creates_then_is_unchanged(kubectl: Kubectl, unique: Any) -> None:
    names = (unique("ap"), unique("ap"))
    created, _ = apply_both(kubectl, names, DEPLOYMENT)
    assert created.out == f"deployment.apps/{names[0]} created\n"
    assert stored(kubectl, "deploy", names[1]) == stored(kubectl, "deploy", names[0])
    again, _ = apply_both(kubectl, names, DEPLOYMENT)
    assert again.out == f"deployment.apps/{names[0]} unchanged\n"


def test_apply_changed_and_removed_fields(kubectl: Kubectl, unique: Any) -> None:
    names = (unique("ap"), unique("ap"))
    apply_both(kubectl, names, DEPLOYMENT)
    changed = (
        DEPLOYMENT.replace("replicas: 2", "replicas: 1")
        .replace("nginx:1.27", "nginx:1.28")
        .replace(", tier: web", "")  # a label that was applied: removed
        .replace('        args: ["--first"]\n', "")
        .replace("      - name: side\n        image: busybox\n", "")  # a whole container
    )
    result, _ = apply_both(kubectl, names, changed)
    assert result.out == f"deployment.apps/{names[0]} configured\n"
    for name in names:
        live = kubectl.json("get", "deploy", name)
        assert live["spec"]["replicas"] == 1
        assert "tier" not in live["metadata"]["labels"]
        containers = live["spec"]["template"]["spec"]["containers"]
        assert [c["name"] for c in containers] == ["web"]
        assert containers[0]["image"] == "nginx:1.28" and "args" not in containers[0]
    assert stored(kubectl, "deploy", names[1]) == stored(kubectl, "deploy", names[0])


def test_apply_keeps_what_others_set(kubectl: Kubectl, unique: Any) -> None:
    names = (unique("ap"), unique("ap"))
    without_replicas = DEPLOYMENT.replace("  replicas: 2\n", "")
    apply_both(kubectl, names, without_replicas)
    for name in names:
        kubectl.run("scale", "deploy", name, "--replicas=3")
        kubectl.run("annotate", "deploy", name, "team=blue")
    result, _ = apply_both(kubectl, names, without_replicas.replace("tier: web", "tier: api"))
    assert result.out == f"deployment.apps/{names[0]} configured\n"
    for name in names:
        live = kubectl.json("get", "deploy", name)
        assert live["spec"]["replicas"] == 3
        assert live["metadata"]["annotations"]["team"] == "blue"
        assert live["metadata"]["labels"]["tier"] == "api"


def test_apply_object_made_without_apply_warns_and_configures(
    kubectl: Kubectl, unique: Any
) -> None:
    names = (unique("cm"), unique("cm"))
    for name in names:
        kubectl.run("create", "configmap", name, "--from-literal=a=1")
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: '2'\n"
    result, _ = twice(kubectl, names, "apply", "-f", "-", stdin=text)
    assert result.out.endswith(" configured\n") and "Warning: resource configmaps/" in result.err
    assert stored(kubectl, "cm", names[1]) == stored(kubectl, "cm", names[0])


def test_apply_reads_directories_lists_and_stdin(kubectl: Kubectl, unique: Any) -> None:
    names = (unique("dir"), unique("dir"))
    for name in names:
        top = Path(kubectl.workdir) / name
        (top / "sub").mkdir(parents=True)
        item = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{name}-json"}}
        listed = {"apiVersion": "v1", "kind": "List", "items": [item]}
        (top / "a.json").write_text(json.dumps(listed))
        (top / "b.yml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-yml\n"
            f"data:\n  day: 2024-01-01\n---\n---\n"
            f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}-s\n"
            "stringData:\n  k: v\n"
        )
        (top / "notes.txt").write_text("not a manifest")
        (top / "sub" / "c.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-sub\n"
        )
    top = f"{kubectl.workdir}/{{name}}"
    twice(kubectl, names, "apply", "-f", top)
    twice(kubectl, names, "apply", "-R", "-f", top)
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-in\n"
    twice(kubectl, names, "apply", "-f", "-", stdin=text)
    assert stored(kubectl, "cm", f"{names[1]}-yml") == stored(kubectl, "cm", f"{names[0]}-yml")


def test_apply_errors_as_kubectl(kubectl: Kubectl, unique: Any) -> None:
    same(kubectl, "apply", "-f", "no-such-file.yaml")
    bad = {
        "nokind.yaml": "apiVersion: v1\nmetadata:\n  name: x\n",
        "nothing.yaml": "metadata:\n  name: x\n",
        "nope.yaml": "apiVersion: v1\nkind: Nope\nmetadata:\n  name: x\n",
        "other-ns.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
        "  namespace: other\n",
        "generated.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: g-\n",
        "nameless.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: b}\n",
        "invalid.yaml": DEPLOYMENT.replace("{name}", unique("bad")).replace(
            "replicas: 2", "replicas: -1"
        ),
    }
    for file, text in bad.items():
        path = kubectl.write(file, text)
        same(kubectl, "apply", "-f", str(path), "-n", "default")
    empty = Path(kubectl.workdir) / unique("empty")
    empty.mkdir()
    same(kubectl, "apply", "-f", str(empty))


def test_apply_reports_every_failure_after_the_rest(kubectl: Kubectl, unique: Any) -> None:
    names = (unique("mix"), unique("mix"))
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-1\n---\n"
        "apiVersion: v1\nkind: Nope\nmetadata:\n  name: {name}-2\n---\n"
        + DEPLOYMENT.replace("{name}", "{name}-3").replace("replicas: 2", "replicas: -1")
        + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-4\n"
    )
    result, _ = twice(kubectl, names, "apply", "-f", "-", stdin=text)
    assert result.code == 1 and "Error from server (Invalid)" in result.err
    # the same again: the ConfigMaps are unchanged now, the rest fails the same way
    twice(kubectl, names, "apply", "-f", "-", stdin=text)


def test_server_side_apply(kubectl: Kubectl, unique: Any) -> None:
    names = (unique("ssa"), unique("ssa"))
    for name in names:
        manifest(kubectl, "{name}.yaml", DEPLOYMENT, name)
    file = f"{kubectl.workdir}/{{name}}.yaml"
    result, _ = twice(kubectl, names, "apply", "--server-side", "-f", file)
    assert result.out == f"deployment.apps/{names[0]} serverside-applied\n"
    for name in names:
        live = kubectl.json("get", "deploy", name, "--show-managed-fields")
        managers = {entry["manager"] for entry in live["metadata"]["managedFields"]}
        assert "kubectl" in managers
    assert stored(kubectl, "deploy", names[1]) == stored(kubectl, "deploy", names[0])
    for name in names:
        kubectl.run("scale", "deploy", name, "--replicas=4")
    conflict, _ = twice(kubectl, names, "apply", "--server-side", "-f", file)
    assert conflict.code == 1
    forced, _ = twice(kubectl, names, "apply", "--server-side", "--force-conflicts", "-f", file)
    assert forced.code == 0
    assert kubectl.json("get", "deploy", names[1])["spec"]["replicas"] == 2


def test_apply_switches_a_union_field(kubectl: Kubectl, unique: Any) -> None:
    """``strategy: RollingUpdate`` to ``Recreate``: the defaulted ``rollingUpdate`` must go
    too (``$retainKeys``), or the server refuses the object."""
    names = (unique("ru"), unique("ru"))
    rolling = DEPLOYMENT.replace(
        "  replicas: 2\n", "  replicas: 2\n  strategy:\n    type: RollingUpdate\n"
    )
    apply_both(kubectl, names, rolling)
    result, _ = apply_both(kubectl, names, rolling.replace("RollingUpdate", "Recreate"))
    assert result.out.endswith(" configured\n")
    assert kubectl.json("get", "deploy", names[1])["spec"]["strategy"] == {"type": "Recreate"}
    assert stored(kubectl, "deploy", names[1]) == stored(kubectl, "deploy", names[0])


CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.{group}
spec:
  group: {group}
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
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
            x-kubernetes-preserve-unknown-fields: true
"""


def test_apply_custom_resources(kubectl: Kubectl, unique: Any) -> None:
    """Custom resources get a JSON merge patch: lists replaced whole, dropped fields null."""
    group = f"{unique('g')}.example.com"
    kubectl.run("apply", "-f", "-", stdin=CRD.replace("{group}", group))
    kubectl.run("wait", "--for=condition=Established", f"crd/widgets.{group}", "--timeout=20s")
    names = (unique("w"), unique("w"))
    first = (
        f"apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: {{name}}\n"
        "spec:\n  sizes: [1, 2]\n  color: red\n  owner: me\n"
    )
    second = first.replace("[1, 2]", "[3]").replace("  owner: me\n", "")
    for text in (first, first, second):
        twice(kubectl, names, "apply", "-f", "-", stdin=text)
    for name in names:
        spec = kubectl.json("get", f"widgets.{group}", name)["spec"]
        assert spec == {"sizes": [3], "color": "red"}
    kubectl.run("delete", "crd", f"widgets.{group}", "--wait=false")


def test_apply_into_the_namespace_flag(kubectl: Kubectl, unique: Any) -> None:
    namespace = unique("ns")
    kubectl.run("create", "namespace", namespace)
    names = (unique("cm"), unique("cm"))
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"
    result, _ = twice(kubectl, names, "apply", "-n", namespace, "-f", "-", stdin=text)
    assert result.code == 0
    first, second = (stored(kubectl, "cm", name, namespace) for name in names)
    assert first == second and first["metadata"]["namespace"] == namespace
    kubectl.run("delete", "namespace", namespace, "--wait=false")


KINDS = """\
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector: {app: {name}}
  ports:
  - name: web
    port: 80
    targetPort: 8080
  - name: metrics
    port: 9090
---
apiVersion: v1
kind: Secret
metadata:
  name: {name}
stringData:
  password: hunter2
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: job
        image: busybox
        command: ["true"]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
spec:
  rules:
  - host: {name}.example
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: {name}, port: {number: 80}}
"""


def test_apply_other_kinds_twice(kubectl: Kubectl, unique: Any) -> None:
    """Defaults the server adds (a Service's clusterIP and protocols, a Job's selector) are no
    change; kubectl's verdict for each kind on the second apply is the built-in one's too."""
    names = (unique("kinds"), unique("kinds"))
    first, _ = twice(kubectl, names, "apply", "-f", "-", stdin=KINDS)
    assert first.code == 0 and first.out.count(" created\n") == 4
    twice(kubectl, names, "apply", "-f", "-", stdin=KINDS)
    changed = KINDS.replace("port: 9090", "port: 9091").replace("hunter2", "hunter3")
    twice(kubectl, names, "apply", "-f", "-", stdin=changed)
    for kind in ("svc", "secret", "ingress"):
        assert stored(kubectl, kind, names[1]) == stored(kubectl, kind, names[0])


def test_view_last_applied(kubectl: Kubectl, unique: Any) -> None:
    names = (unique("view"), unique("view"))
    apply_both(kubectl, names, DEPLOYMENT)
    twice(kubectl, names, "apply", "view-last-applied", "deploy/{name}")
    twice(kubectl, names, "apply", "view-last-applied", "deployment", "{name}", "-o", "json")
    twice(kubectl, names, "apply", "view-last-applied", "-f", f"{kubectl.workdir}/{{name}}.yaml")
    same(kubectl, "apply", "view-last-applied", "configmap", "kube-root-ca.crt")  # never applied
    same(kubectl, "apply", "view-last-applied", "deploy")
    same(kubectl, "apply", "view-last-applied", "deploy", names[0], "-o", "wide")
