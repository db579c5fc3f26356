"""Golden tests of the built-in ``kubectl create``, ``expose`` and ``run``: each command runs
through the real kubectl under one name and the built-in one under another; both must print
the same and store the same object (compared without uid, times, addresses and the name).
Running a command again with the name already taken must fail with kubectl's words.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Kubectl, Server
from tests.e2e.kubectl.golden import same
from tests.e2e.kubectl.test_apply import DEPLOYMENT, stored, twice


def files(kubectl: Kubectl, cluster: Server) -> dict[str, str]:
    work = Path(kubectl.workdir)
    (work / "greeting.txt").write_text("hello\n")
    (work / "app.env").write_text("# settings\nMODE=fast\n\nGREETING=two words\n")
    (work / "blob.bin").write_bytes(b"\xff\xfe\x00binary")
    return {
        "txt": str(work / "greeting.txt"),
        "env": str(work / "app.env"),
        "bin": str(work / "blob.bin"),
        "crt": str(cluster.client_cert),
        "key": str(cluster.client_key),
    }


GENERATORS = [
    ("deploy", ["create", "deployment", "{name}", "--image=nginx:1.27", "--replicas=2"]),
    ("deploy", ["create", "deploy", "{name}", "--image=nginx", "--image=busybox:1", "--port=80"]),
    ("ns", ["create", "namespace", "{name}"]),
    ("cm", ["create", "configmap", "{name}", "--from-literal=a=b", "--from-file={txt}",
            "--from-file=other={txt}", "--from-file={bin}"]),
    ("cm", ["create", "configmap", "{name}", "--from-env-file={env}"]),
    ("secret", ["create", "secret", "generic", "{name}", "--from-literal=user=admin",
                "--from-file=token={txt}", "--type=example.com/token"]),
    ("secret", ["create", "secret", "generic", "{name}", "--from-env-file={env}"]),
    ("secret", ["create", "secret", "tls", "{name}", "--cert={crt}", "--key={key}"]),
    ("secret", ["create", "secret", "docker-registry", "{name}", "--docker-server=r.example",
                "--docker-username=u", "--docker-password=p", "--docker-email=u@r.example"]),
    ("sa", ["create", "serviceaccount", "{name}"]),
    ("svc", ["create", "service", "clusterip", "{name}", "--tcp=80:8080", "--tcp=443"]),
    ("svc", ["create", "service", "clusterip", "{name}", "--clusterip=None"]),
    ("svc", ["create", "service", "nodeport", "{name}", "--tcp=80:8080"]),
    ("svc", ["create", "service", "loadbalancer", "{name}", "--tcp=5432"]),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "command"), GENERATORS, ids=lambda x: "-".join(x)[:60])
def test_create_generators(
    kubectl: Kubectl, cluster: Server, unique: Any, kind: str, command: list[str]
) -> None:
    paths = files(kubectl, cluster)
    names = (unique("gen"), unique("gen"))
    args = [
        word.replace("{name}", "\0").format(**paths).replace("\0", "{name}") for word in command
    ]
    result, _ = twice(kubectl, names, *args)
    assert result.code == 0 and result.out.endswith(" created\n")
    namespace = "default"
    assert stored(kubectl, kind, names[1], namespace) == stored(kubectl, kind, names[0], namespace)
    # the name is taken now: kubectl's AlreadyExists line
    same(kubectl, *(word.replace("{name}", names[0]) for word in args))


def test_create_mistakes(kubectl: Kubectl, cluster: Server, unique: Any) -> None:
    paths = files(kubectl, cluster)
    name = unique("bad")
    same(
        kubectl, "create", "configmap", name, "--from-env-file", paths["env"], "--from-literal=a=b"
    )
    same(kubectl, "create", "configmap", name, "--from-literal=a=b", "--from-literal=a=c")
    same(kubectl, "create", "deployment", name, "--image=nginx", "--replicas=-1")
    same(kubectl, "create", "configmap", name, "--from-file=no-such-file")
    same(kubectl, "create", "configmap", name, "--from-literal=a b=c")
    same(kubectl, "create", "secret", "tls", name, f"--cert={paths['crt']}")
    same(kubectl, "create", "secret", "tls", name, "--cert=no-such.crt", "--key=no-such.key")
    same(kubectl, "create", "service", "clusterip", name)
    same(kubectl, "create", "service", "clusterip", name, "--tcp=abc")
    same(
        kubectl,
        "create",
        "service",
        "nodeport",
        name,
        "--tcp=80:http",
        "--dry-run=client",
        "-oyaml",
    )
    same(kubectl, "expose", "deployment")
    same(kubectl, "expose", "configmap", "kube-root-ca.crt", "--port=80")
    same(kubectl, "apply")


def test_create_from_files(kubectl: Kubectl, unique: Any) -> None:
    names = (unique("cf"), unique("cf"))
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-1\n---\n"
        "apiVersion: v1\nkind: Nope\nmetadata:\n  name: {name}-2\n---\n"
        + DEPLOYMENT.replace("{name}", "{name}-3")
    )
    result, _ = twice(kubectl, names, "create", "-f", "-", stdin=text)
    assert result.code == 1
    assert stored(kubectl, "deploy", f"{names[1]}-3") == stored(kubectl, "deploy", f"{names[0]}-3")
    # again: every object exists now; AlreadyExists for each, the mapping error last
    twice(kubectl, names, "create", "-f", "-", stdin=text)
    saved = (unique("sc"), unique("sc"))
    one = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"
    twice(kubectl, saved, "create", "--save-config", "-f", "-", stdin=one)
    assert stored(kubectl, "cm", saved[1]) == stored(kubectl, "cm", saved[0])
    twice(kubectl, saved, "apply", "-f", "-", stdin=one)  # unchanged: create saved the config


RUNS = [
    ["run", "{name}", "--image=busybox"],
    ["run", "{name}", "--image=nginx:1", "--port=80", "--env=A=1", "--env=B=two",
     "--labels=x=y,z=w", "--restart=Never"],
    ["run", "{name}", "--image=busybox", "--restart=OnFailure", "--", "sleep", "30"],
    ["run", "{name}", "--image=busybox", "--command", "--", "sh", "-c", "sleep 30"],
]  # fmt: skip


@pytest.mark.parametrize("command", RUNS, ids=lambda x: "-".join(x)[:40])
def test_run(kubectl: Kubectl, unique: Any, command: list[str]) -> None:
    names = (unique("run"), unique("run"))
    result, _ = twice(kubectl, names, *command)
    assert result.out == f"pod/{names[0]} created\n"
    assert stored(kubectl, "pod", names[1]) == stored(kubectl, "pod", names[0])
    same(kubectl, *(word.replace("{name}", names[0]) for word in command))
    for name in names:
        kubectl.run("delete", "pod", name, "--wait=false")


def test_run_expose(kubectl: Kubectl, unique: Any) -> None:
    names = (unique("rx"), unique("rx"))
    result, _ = twice(kubectl, names, "run", "{name}", "--image=nginx", "--port=80", "--expose")
    assert result.out == f"service/{names[0]} created\npod/{names[0]} created\n"
    assert stored(kubectl, "svc", names[1]) == stored(kubectl, "svc", names[0])
    assert stored(kubectl, "pod", names[1]) == stored(kubectl, "pod", names[0])
    same(kubectl, "run", unique("rx"), "--image=nginx", "--expose")
    for name in names:
        kubectl.run("delete", "pod,svc", name, "--wait=false")


MULTI_PORT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {tier: front}
spec:
  selector:
    matchLabels: {app: {name}}
  template:
    metadata:
      labels: {app: {name}, extra: label}
    spec:
      containers:
      - name: a
        image: nginx
        ports:
        - {containerPort: 80, name: http}
        - {containerPort: 53, protocol: UDP}
      - name: b
        image: nginx
        ports:
        - {containerPort: 90}
"""


def test_expose(kubectl: Kubectl, unique: Any) -> None:
    target = unique("exp")
    kubectl.run("apply", "-f", "-", stdin=MULTI_PORT.replace("{name}", target))
    kubectl.run("run", f"{target}-pod", "--image=nginx", "--port=81", "--labels=a=b")
    kubectl.run("create", "service", "clusterip", f"{target}-svc", "--tcp=80:8080")
    cases = [
        ["deployment", target],
        ["deployment", target, "--port=8080", "--target-port=http"],
        [f"deployment/{target}", "--port=1", "--type=NodePort", "--protocol=UDP"],
        ["pod", f"{target}-pod"],
        ["svc", f"{target}-svc", "--port=5", "--labels=c=d", "--selector=e=f"],
    ]
    for case in cases:
        names = (unique("svc"), unique("svc"))
        result, _ = twice(kubectl, names, "expose", *case, "--name={name}")
        assert result.out == f"service/{names[0]} exposed\n"
        assert stored(kubectl, "svc", names[1]) == stored(kubectl, "svc", names[0])
        same(kubectl, "expose", *case, f"--name={names[0]}")  # AlreadyExists
    same(kubectl, "expose", "deployment", unique("missing"), "--port=80")
    same(kubectl, "expose", "deployment", target, "--port=80", "--type=Foo", f"--name={target}")
    kubectl.run("create", "deployment", f"{target}-np", "--image=nginx")
    same(kubectl, "expose", "deployment", f"{target}-np")


DRY_RUNS = [
    ["create", "deployment", "{name}", "--image=nginx:1.27", "--dry-run=client"],
    ["create", "deploy", "{name}", "--image=nginx", "--port=80", "--dry-run=client", "-o", "yaml"],
    ["create", "deployment", "{name}", "--image=nginx", "--dry-run=client", "-o", "json"],
    ["create", "deploy", "{name}", "--image=nginx", "-n", "default", "--dry-run=client", "-oyaml"],
    ["create", "deployment", "{name}", "--image=nginx", "--dry-run=server"],
    ["create", "deployment", "{name}", "--image=nginx", "--dry-run=server", "-o", "name"],
    ["create", "deployment", "{name}", "--image=nginx", "--dry-run=maybe"],
    ["create", "namespace", "{name}", "--dry-run=client", "-o", "yaml"],
    ["create", "configmap", "{name}", "--from-literal=a=b", "--dry-run=client", "-o", "json"],
    ["create", "secret", "generic", "{name}", "--from-literal=a=b", "--dry-run=client", "-oyaml"],
    ["create", "service", "nodeport", "{name}", "--tcp=80:8080", "--dry-run=client", "-o", "json"],
    ["run", "{name}", "--image=busybox", "--dry-run=client", "-o", "yaml", "--", "sleep", "1"],
    ["run", "{name}", "--image=busybox", "--dry-run=server"],
]  # fmt: skip


@pytest.mark.parametrize("command", DRY_RUNS, ids=lambda x: "-".join(x)[:50])
def test_dry_run_and_output(kubectl: Kubectl, unique: Any, command: list[str]) -> None:
    name = unique("dry")
    same(kubectl, *(word.replace("{name}", name) for word in command))
    assert kubectl.run("get", "all,cm,secret,ns", "-A", "-o", "name").stdout.count(name) == 0


def test_apply_and_create_dry_run_and_output(kubectl: Kubectl, unique: Any) -> None:
    name = unique("dry")
    text = DEPLOYMENT.replace("{name}", name)
    for args in (["--dry-run=client"], ["--dry-run=client", "-o", "yaml"], ["--dry-run=server"]):
        same(kubectl, "create", "-f", "-", *args, stdin=text.replace(name, f"{name}-c"))
    names = (unique("out"), unique("out"))
    created, _ = twice(kubectl, names, "create", "-f", "-", "-o", "name", stdin=DEPLOYMENT)
    assert created.out == f"deployment.apps/{names[0]}\n"
    same(kubectl, "apply", "-f", "-", "--dry-run=client", "-o", "yaml", stdin=text)
    same(kubectl, "create", "-f", "-", "--dry-run=client", "-o", "json", stdin=text)
    same(kubectl, "apply", "-f", "-", "--dry-run=server", stdin=text)
    kubectl.run("apply", "-f", "-", stdin=text)
    same(kubectl, "apply", "-f", "-", "--dry-run=client", stdin=text)
    same(kubectl, "apply", "-f", "-", "-o", "name", stdin=text)
    same(kubectl, "apply", "-f", "-", "--server-side", "--dry-run=client", stdin=text)
    changed = text.replace("replicas: 2", "replicas: 3")
    same(kubectl, "apply", "-f", "-", "--dry-run=server", stdin=changed)
    assert kubectl.json("get", "deploy", name)["spec"]["replicas"] == 2
