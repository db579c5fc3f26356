"""Persistent storage with the real kubectl: claims, volumes, the provisioner and protection.

A claim of the default class ``standard`` gets a PersistentVolume ``pvc-<claim uid>`` from the
hostpath provisioner, a directory on this machine; what one pod writes there the next pod reads;
deleting the claim (reclaim policy ``Delete``) removes the directory and the volume. A static
``hostPath`` volume with ``Retain`` is bound by ``volumeName`` and by a selector, and kept with
its files after its claim goes. A claim that a running pod uses stays ``Terminating``
(``kubernetes.io/pvc-protection``) until the pod is gone. A ``WaitForFirstConsumer`` class
leaves its claim ``Pending`` with upstream's event until a pod uses it. Then the website's
examples with claims (``application/web``, ``application/mysql``, ``application/wordpress``),
applied unchanged (but for the static volume's ``/mnt/data``, moved to a temporary
directory), each in a namespace of its own: their claims are bound even where the
image is not built in (those pods end in ``ImagePullBackOff``, which is fine here).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Kubectl
from tests.e2e.test_pods import WAIT, apply, busybox, eventually

EXAMPLES = Path(__file__).parent / "corpus" / "website-examples"


def claim(name: str, *, storage: str = "16Mi", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": storage}},
            **spec,
        },
    }


def claim_pod(name: str, claim_name: str, script: str) -> dict[str, Any]:
    manifest = busybox(
        name,
        script,
        container={"volumeMounts": [{"name": "data", "mountPath": "/data"}]},
        volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}],
        restartPolicy="Never",
    )
    return manifest


def phase(kubectl: Kubectl, kind: str, name: str, *namespace: str) -> str:
    return str(kubectl.json("get", kind, name, *namespace).get("status", {}).get("phase", ""))


def run_to_completion(kubectl: Kubectl, manifest: dict[str, Any]) -> str:
    """Apply a ``restartPolicy: Never`` pod, wait until it Succeeded; its logs."""
    apply(kubectl, manifest)
    name = manifest["metadata"]["name"]
    eventually(lambda: phase(kubectl, "pod", name) in ("Succeeded", "Failed"))
    logs = kubectl.out("logs", name)
    assert phase(kubectl, "pod", name) == "Succeeded", logs
    kubectl.out("delete", "pod", name, "--wait", WAIT)
    return logs


def events_for(kubectl: Kubectl, name: str, *namespace: str) -> list[tuple[str, str]]:
    listed = kubectl.json(
        "get", "events", *namespace, "--field-selector", f"involvedObject.name={name}"
    )
    return [(event["reason"], event["message"]) for event in listed["items"]]


@pytest.fixture
def namespace(kubectl: Kubectl, unique: Any) -> Iterator[str]:
    name = unique("storage")
    kubectl.out("create", "namespace", name)
    try:
        yield name
    finally:
        kubectl.run(
            "delete", "namespace", name, "--wait", "--timeout=90s", check=False, timeout=100
        )


def test_a_standard_claim_is_provisioned_and_its_data_outlives_the_pod(
    kubectl: Kubectl, unique: Any
) -> None:
    name = unique("claim")
    apply(kubectl, claim(name))
    eventually(lambda: phase(kubectl, "pvc", name) == "Bound")
    bound = kubectl.json("get", "pvc", name)
    assert bound["spec"]["storageClassName"] == "standard"  # the default class, filled in
    volume_name = bound["spec"]["volumeName"]
    assert volume_name == f"pvc-{bound['metadata']['uid']}"
    volume = kubectl.json("get", "pv", volume_name)
    assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert volume["spec"]["claimRef"]["name"] == name
    assert volume["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"] == (
        "k8s.io/minikube-hostpath"
    )
    directory = Path(volume["spec"]["hostPath"]["path"])
    assert directory.is_dir() and "hostpath-provisioner" in directory.parts
    reasons = [reason for reason, _ in events_for(kubectl, name)]
    assert "ProvisioningSucceeded" in reasons

    writer, reader = unique("writer"), unique("reader")
    run_to_completion(kubectl, claim_pod(writer, name, "echo written-by-one-pod > /data/x"))
    assert (directory / "x").read_text() == "written-by-one-pod\n"  # the same directory
    logs = run_to_completion(kubectl, claim_pod(reader, name, "cat /data/x"))
    assert logs.strip() == "written-by-one-pod"

    kubectl.out("delete", "pvc", name, "--wait", WAIT)
    eventually(lambda: kubectl.run("get", "pv", volume_name, check=False).returncode != 0)
    assert "NotFound" in kubectl.run("get", "pv", volume_name, check=False).stderr
    assert not directory.exists()


def test_a_static_hostpath_volume_with_retain_binds_by_name_and_by_selector(
    kubectl: Kubectl, unique: Any, tmp_path: Path
) -> None:
    by_name, by_label = unique("static"), unique("labelled")
    for volume in (by_name, by_label):
        (tmp_path / volume).mkdir()
        (tmp_path / volume / "seed").write_text(f"seed of {volume}\n")
        apply(kubectl, {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": volume, "labels": {"disk": volume}},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": "",
                "hostPath": {"path": str(tmp_path / volume)},
            },
        })  # fmt: skip
    eventually(lambda: phase(kubectl, "pv", by_name) == "Available")
    first, second = unique("byname"), unique("byselector")
    apply(kubectl, claim(first, storageClassName="", volumeName=by_name))
    apply(kubectl, claim(
        second, storageClassName="", selector={"matchLabels": {"disk": by_label}}
    ))  # fmt: skip
    eventually(lambda: phase(kubectl, "pvc", first) == phase(kubectl, "pvc", second) == "Bound")
    assert kubectl.json("get", "pvc", first)["spec"]["volumeName"] == by_name
    assert kubectl.json("get", "pvc", second)["spec"]["volumeName"] == by_label
    # the claim asked for 16Mi and got the volume's whole 1Gi
    assert kubectl.json("get", "pvc", first)["status"]["capacity"]["storage"] == "1Gi"

    reader = unique("reader")
    logs = run_to_completion(kubectl, claim_pod(reader, first, "cat /data/seed"))
    assert logs == f"seed of {by_name}\n"

    kubectl.out("delete", "pvc", first, second, "--wait", WAIT)
    eventually(
        lambda: phase(kubectl, "pv", by_name) == phase(kubectl, "pv", by_label) == "Released"
    )
    assert (tmp_path / by_name / "seed").exists()  # Retain: the files stay
    kubectl.out("delete", "pv", by_name, by_label, "--wait", WAIT)
    assert (tmp_path / by_name / "seed").exists()


def test_a_claim_in_use_stays_terminating_until_its_pod_goes(kubectl: Kubectl, unique: Any) -> None:
    name, user = unique("inuse"), unique("user")
    apply(kubectl, claim(name))
    apply(kubectl, claim_pod(user, name, "echo up > /data/up; sleep 3600"))
    kubectl.out("wait", "--for=condition=Ready", f"pod/{user}", WAIT)
    assert (
        "kubernetes.io/pvc-protection" in kubectl.json("get", "pvc", name)["metadata"]["finalizers"]
    )
    kubectl.out("delete", "pvc", name, "--wait=false")
    terminating = kubectl.out("get", "pvc", name, "--no-headers").split()
    assert terminating[1] == "Terminating"
    volume = kubectl.json("get", "pvc", name)["spec"]["volumeName"]
    # the pod keeps running and keeps its volume while the claim is marked for deletion
    assert kubectl.out("exec", user, "--", "cat", "/data/up").strip() == "up"
    assert kubectl.run("get", "pvc", name, check=False).returncode == 0
    kubectl.out("delete", "pod", user, "--wait", WAIT)
    eventually(lambda: "NotFound" in kubectl.run("get", "pvc", name, check=False).stderr)
    eventually(lambda: "NotFound" in kubectl.run("get", "pv", volume, check=False).stderr)


def test_a_wait_for_first_consumer_claim_waits_for_a_pod(kubectl: Kubectl, unique: Any) -> None:
    storage_class, name, user = unique("late"), unique("waiting"), unique("consumer")
    apply(kubectl, {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": storage_class},
        "provisioner": "k8s.io/minikube-hostpath",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
    })  # fmt: skip
    try:
        apply(kubectl, claim(name, storageClassName=storage_class))
        eventually(lambda: ("WaitForFirstConsumer", (
            "waiting for first consumer to be created before binding"
        )) in events_for(kubectl, name))  # fmt: skip
        assert phase(kubectl, "pvc", name) == "Pending"
        assert "volumeName" not in kubectl.json("get", "pvc", name)["spec"]
        apply(kubectl, claim_pod(user, name, "echo late > /data/x; cat /data/x"))
        eventually(lambda: phase(kubectl, "pvc", name) == "Bound")
        annotations = kubectl.json("get", "pvc", name)["metadata"]["annotations"]
        assert (
            annotations["volume.kubernetes.io/selected-node"]
            == (kubectl.json("get", "pod", user)["spec"]["nodeName"])
        )
        eventually(lambda: phase(kubectl, "pod", user) == "Succeeded")
        assert kubectl.out("logs", user).strip() == "late"
        kubectl.out("delete", "pod", user, "--wait", WAIT)
        kubectl.out("delete", "pvc", name, "--wait", WAIT)
    finally:
        kubectl.run("delete", "pod", user, "--ignore-not-found", check=False)
        kubectl.run("delete", "pvc", name, "--ignore-not-found", check=False)
        kubectl.run("delete", "storageclass", storage_class, check=False)


# ------------------------------------------------------------------------- website examples


def bound_claims(kubectl: Kubectl, namespace: str) -> dict[str, str]:
    listed = kubectl.json("get", "pvc", "-n", namespace)
    return {item["metadata"]["name"]: item["status"].get("phase", "") for item in listed["items"]}


def test_website_web_statefulset_gets_its_claims_bound(kubectl: Kubectl, namespace: str) -> None:
    kubectl.out("apply", "-n", namespace, "-f", str(EXAMPLES / "application/web/web.yaml"))
    # web-0 must be Running and Ready before web-1 is made (OrderedReady); without the
    # nginx-slim image web-0 never gets there, so only its claim is made
    claims = eventually(lambda: bound_claims(kubectl, namespace).get("www-web-0") == "Bound")
    assert claims
    pod = kubectl.json("get", "pod", "web-0", "-n", namespace)
    assert pod["spec"]["volumes"][0]["persistentVolumeClaim"] == {"claimName": "www-web-0"}
    assert pod["spec"]["hostname"] == "web-0" and pod["spec"]["subdomain"] == "nginx"


def test_website_mysql_and_wordpress_claims_are_bound(
    kubectl: Kubectl, namespace: str, unique: Any, tmp_path: Path
) -> None:
    mysql = EXAMPLES / "application/mysql"
    # the one change: the static volume's hostPath /mnt/data would be this machine's /mnt
    volume = (mysql / "mysql-pv.yaml").read_text().replace('"/mnt/data"', f'"{tmp_path}"')
    assert str(tmp_path) in volume
    kubectl.out("apply", "-n", namespace, "-f", "-", stdin=volume)
    kubectl.out("apply", "-n", namespace, "-f", str(mysql / "mysql-deployment.yaml"))
    other = unique("wordpress")
    kubectl.out("create", "namespace", other)
    try:
        kubectl.out("create", "secret", "generic", "mysql-pass", "-n", other,
                    "--from-literal=password=not-a-real-password")  # fmt: skip
        for name in ("mysql-deployment.yaml", "wordpress-deployment.yaml"):
            path = EXAMPLES / "application/wordpress" / name
            kubectl.out("apply", "-n", other, "-f", str(path))
        eventually(lambda: bound_claims(kubectl, namespace) == {"mysql-pv-claim": "Bound"})
        claim_volume = kubectl.json("get", "pvc", "mysql-pv-claim", "-n", namespace)
        assert claim_volume["spec"]["volumeName"] == "mysql-pv-volume"  # the static one
        eventually(lambda: bound_claims(kubectl, other) == {
            "mysql-pv-claim": "Bound", "wp-pv-claim": "Bound"
        })  # fmt: skip
        for claim_name in ("mysql-pv-claim", "wp-pv-claim"):
            volume = kubectl.json("get", "pvc", claim_name, "-n", other)["spec"]["volumeName"]
            assert volume.startswith("pvc-")  # provisioned for class standard
        pods = kubectl.json("get", "pods", "-n", other)["items"]
        assert len(pods) == 2
    finally:
        kubectl.run("delete", "namespace", other, "--wait", "--timeout=90s", check=False,
                    timeout=100)  # fmt: skip
        # protected while its claim (in the namespace the fixture deletes) is bound to it
        kubectl.run("delete", "pv", "mysql-pv-volume", "--ignore-not-found", "--wait=false",
                    check=False)  # fmt: skip
