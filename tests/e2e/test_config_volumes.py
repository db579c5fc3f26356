"""ConfigMaps, Secrets, the downward API and hostPath in pods, with the real kubectl: the
environment, volumes with items and modes, updates reaching a running pod, sub-paths, and the
waits upstream shows (``CreateContainerConfigError``, ``FailedMount``) ending once the object
appears. The website examples ``configmap/*`` and ``pods/pod-configmap-*`` run unchanged."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Kubectl
from tests.e2e.test_pods import WAIT, apply, busybox, eventually, pod

EXAMPLES = Path(__file__).parent / "corpus" / "website-examples"


@pytest.fixture
def cleanup(kubectl: Kubectl) -> Iterator[list[str]]:
    """Names (``kind/name``) to delete after the test, whatever happened."""
    made: list[str] = []
    yield made
    for name in reversed(made):
        kubectl.run("delete", name, "--wait=true", "--ignore-not-found", "--timeout=60s")


def _waiting(kubectl: Kubectl, name: str) -> dict[str, Any]:
    statuses = pod(kubectl, name)["status"].get("containerStatuses") or [{}]
    return dict((statuses[0].get("state") or {}).get("waiting") or {})


def _events(kubectl: Kubectl, name: str, reason: str) -> list[str]:
    events = kubectl.json(
        "get", "events", "--field-selector", f"involvedObject.name={name},reason={reason}"
    )
    return [str(event.get("message")) for event in events["items"]]


def _exec(kubectl: Kubectl, name: str, *command: str) -> str:
    return kubectl.out("exec", name, "--", *command)


def test_website_config_map_volume_lists_the_keys(kubectl: Kubectl, cleanup: list[str]) -> None:
    cleanup += ["-f=" + str(EXAMPLES / "configmap/configmaps.yaml")]
    kubectl.out("apply", "-f", str(EXAMPLES / "configmap/configmaps.yaml"))
    cleanup += ["pod/dapi-test-pod"]
    kubectl.out("apply", "-f", str(EXAMPLES / "pods/pod-configmap-volume.yaml"))
    eventually(lambda: pod(kubectl, "dapi-test-pod")["status"].get("phase") == "Succeeded")
    assert kubectl.out("logs", "dapi-test-pod").split() == ["special.how"]  # ..data hidden


def test_created_config_maps_in_env_and_volumes(
    kubectl: Kubectl, unique: Any, cleanup: list[str], tmp_path: Path
) -> None:
    name, properties = unique("cm"), tmp_path / "game.properties"
    properties.write_text("lives=3\nsecret.code=up-down\n")
    env_file = tmp_path / "ui.env"
    env_file.write_text("# a comment\ncolor=purple\nhow.nice=very\n")
    cleanup += [f"configmap/{name}", f"configmap/{name}-env", f"pod/{name}"]
    kubectl.out(
        "create", "configmap", name, "--from-literal=level=high", f"--from-file={properties}"
    )
    kubectl.out("create", "configmap", f"{name}-env", f"--from-env-file={env_file}")
    manifest = busybox(
        name,
        "sleep 3600",
        volumes=[
            {
                "name": "conf",
                "configMap": {
                    "name": name,
                    "items": [{"key": "game.properties", "path": "game/props", "mode": 0o600}],
                },
            }
        ],
        container={
            "envFrom": [{"configMapRef": {"name": f"{name}-env"}, "prefix": "UI_"}],
            "env": [
                {
                    "name": "LEVEL",
                    "valueFrom": {"configMapKeyRef": {"name": name, "key": "level"}},
                },
                {
                    "name": "NOTHING",
                    "valueFrom": {
                        "configMapKeyRef": {"name": name, "key": "absent", "optional": True}
                    },
                },
            ],
            "volumeMounts": [
                {"name": "conf", "mountPath": "/etc/game"},
                {"name": "conf", "mountPath": "/etc/nginx/nginx.conf", "subPath": "game/props"},
            ],
        },
    )
    apply(kubectl, manifest)
    kubectl.out("wait", "--for=condition=Ready", f"pod/{name}", WAIT)
    env = _exec(kubectl, name, "env").splitlines()  # not a shell: it drops "how.nice"
    assert {"LEVEL=high", "UI_color=purple", "UI_how.nice=very"} <= set(env)
    assert not any(line.startswith("NOTHING=") for line in env)
    assert _exec(kubectl, name, "cat", "/etc/game/game/props") == properties.read_text()
    assert _exec(kubectl, name, "cat", "/etc/nginx/nginx.conf") == properties.read_text()
    assert _exec(kubectl, name, "stat", "-L", "-c", "%a", "/etc/game/game/props").strip() == "600"

    # an update reaches the running pod's files within a second; not the sub-path, nor env
    patch = {"data": {"game.properties": "lives=9\n"}}
    kubectl.out("patch", "configmap", name, "-p", json.dumps(patch))
    began = time.monotonic()
    eventually(lambda: _exec(kubectl, name, "cat", "/etc/game/game/props") == "lives=9\n")
    assert time.monotonic() - began < 5  # each check is a kubectl exec: allow for those
    assert _exec(kubectl, name, "cat", "/etc/nginx/nginx.conf") == properties.read_text()
    assert "LEVEL=high" in _exec(kubectl, name, "env").splitlines()


def test_missing_config_map_waits_then_starts(
    kubectl: Kubectl, unique: Any, cleanup: list[str]
) -> None:
    name = unique("wait")
    cleanup += [f"pod/{name}", f"configmap/{name}"]
    ref = {"configMapKeyRef": {"name": name, "key": "greeting"}}
    apply(
        kubectl,
        busybox(
            name,
            "echo $GREETING; sleep 3600",
            container={"env": [{"name": "GREETING", "valueFrom": ref}]},
        ),
    )
    waiting = eventually(lambda: _waiting(kubectl, name) or None)
    assert waiting == {
        "reason": "CreateContainerConfigError",
        "message": f'configmap "{name}" not found',
    }
    kubectl.out("create", "configmap", name, "--from-literal=other=1")
    message = f"couldn't find key greeting in ConfigMap default/{name}"
    eventually(lambda: _waiting(kubectl, name).get("message") == message)
    kubectl.out("patch", "configmap", name, "-p", json.dumps({"data": {"greeting": "hello"}}))
    kubectl.out("wait", "--for=condition=Ready", f"pod/{name}", "--timeout=15s")
    assert eventually(lambda: kubectl.out("logs", name).strip()) == "hello"


def test_missing_secret_volume_fails_to_mount_until_created(
    kubectl: Kubectl, unique: Any, cleanup: list[str]
) -> None:
    name = unique("sec")
    cleanup += [f"pod/{name}", f"secret/{name}"]
    volume = {"name": "creds", "secret": {"secretName": name, "defaultMode": 0o400}}
    mount = {"name": "creds", "mountPath": "/etc/creds"}
    apply(
        kubectl, busybox(name, "sleep 3600", volumes=[volume], container={"volumeMounts": [mount]})
    )
    expected = f'MountVolume.SetUp failed for volume "creds" : secret "{name}" not found'
    eventually(lambda: expected in _events(kubectl, name, "FailedMount"))
    kubectl.out("create", "secret", "generic", name, "--from-literal=password=s3cr3t-value")
    kubectl.out("wait", "--for=condition=Ready", f"pod/{name}", "--timeout=15s")
    assert _exec(kubectl, name, "cat", "/etc/creds/password") == "s3cr3t-value"
    assert _exec(kubectl, name, "stat", "-L", "-c", "%a", "/etc/creds/password").strip() == "400"
    every_event = kubectl.out("get", "events", "-o", "json")
    assert "s3cr3t-value" not in every_event


def test_downward_api_volume_follows_labels(
    kubectl: Kubectl, unique: Any, cleanup: list[str]
) -> None:
    name = unique("dapi")
    cleanup += [f"pod/{name}"]
    items = [
        {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
        {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
        {
            "path": "mem",
            "resourceFieldRef": {
                "containerName": "main",
                "resource": "limits.memory",
                "divisor": "1Mi",
            },
        },
    ]
    manifest = busybox(
        name,
        "sleep 3600",
        volumes=[{"name": "info", "downwardAPI": {"items": items}}],
        container={
            "volumeMounts": [{"name": "info", "mountPath": "/etc/podinfo"}],
            "resources": {"limits": {"memory": "64Mi"}},
        },
    )
    manifest["metadata"]["labels"] = {"zone": "a"}
    apply(kubectl, manifest)
    kubectl.out("wait", "--for=condition=Ready", f"pod/{name}", WAIT)
    assert _exec(kubectl, name, "cat", "/etc/podinfo/name") == name
    assert _exec(kubectl, name, "cat", "/etc/podinfo/mem") == "64"
    assert _exec(kubectl, name, "cat", "/etc/podinfo/labels") == 'zone="a"'
    kubectl.out("label", "pod", name, "zone=b", "--overwrite")
    eventually(lambda: _exec(kubectl, name, "cat", "/etc/podinfo/labels") == 'zone="b"')


def test_host_path_types_are_checked(
    kubectl: Kubectl, unique: Any, cleanup: list[str], tmp_path: Path
) -> None:
    name, afile = unique("host"), tmp_path / "a-file"
    afile.write_text("on the host\n")
    cleanup += [f"pod/{name}", f"pod/{name}-ok"]
    volume = {"name": "h", "hostPath": {"path": str(afile), "type": "Directory"}}
    mount = {"name": "h", "mountPath": "/host"}
    apply(
        kubectl, busybox(name, "sleep 3600", volumes=[volume], container={"volumeMounts": [mount]})
    )
    expected = (
        f'MountVolume.SetUp failed for volume "h" : hostPath type check failed: '
        f"{afile} is not a directory"
    )
    eventually(lambda: expected in _events(kubectl, name, "FailedMount"))
    assert pod(kubectl, name)["status"].get("phase") == "Pending"
    made = tmp_path / "made"
    volumes = [
        {"name": "f", "hostPath": {"path": str(afile), "type": "File"}},
        {"name": "d", "hostPath": {"path": str(made), "type": "DirectoryOrCreate"}},
    ]
    mounts = [
        {"name": "f", "mountPath": "/host/file"},
        {"name": "d", "mountPath": "/data", "subPathExpr": "$(POD_NAME)"},
    ]
    env = [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]
    apply(
        kubectl,
        busybox(
            f"{name}-ok",
            "echo written > /data/out; sleep 3600",
            volumes=volumes,
            container={"volumeMounts": mounts, "env": env},
        ),
    )
    kubectl.out("wait", "--for=condition=Ready", f"pod/{name}-ok", WAIT)
    assert _exec(kubectl, f"{name}-ok", "cat", "/host/file") == "on the host\n"
    eventually(lambda: (made / f"{name}-ok" / "out").is_file())
    assert (made / f"{name}-ok" / "out").read_text() == "written\n"


def test_immutable_config_map_in_a_projected_volume_with_a_secret(
    kubectl: Kubectl, unique: Any, cleanup: list[str]
) -> None:
    name = unique("proj")
    immutable = EXAMPLES / "configmap/immutable-configmap.yaml"
    cleanup += [f"pod/{name}", f"secret/{name}", f"-f={immutable}"]
    kubectl.out("apply", "-f", str(immutable))
    kubectl.out("create", "secret", "generic", name, "--from-literal=user=admin")
    sources = [
        {"configMap": {"name": "company-name-20150801"}},
        {"secret": {"name": name, "items": [{"key": "user", "path": "creds/user", "mode": 0o600}]}},
        {
            "downwardAPI": {
                "items": [{"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}]
            }
        },
    ]
    user = {"secretKeyRef": {"name": name, "key": "user"}}
    manifest = busybox(
        name,
        "sleep 3600",
        volumes=[{"name": "all", "projected": {"sources": sources}}],
        container={
            "volumeMounts": [{"name": "all", "mountPath": "/etc/all"}],
            "env": [{"name": "APP_USER", "valueFrom": user}],
        },
    )
    apply(kubectl, manifest)
    kubectl.out("wait", "--for=condition=Ready", f"pod/{name}", WAIT)
    assert _exec(kubectl, name, "cat", "/etc/all/company_name") == "ACME, Inc."
    assert _exec(kubectl, name, "cat", "/etc/all/creds/user") == "admin"
    assert _exec(kubectl, name, "stat", "-L", "-c", "%a", "/etc/all/creds/user").strip() == "600"
    assert _exec(kubectl, name, "cat", "/etc/all/ns") == "default"
    assert "APP_USER=admin" in _exec(kubectl, name, "env").splitlines()
