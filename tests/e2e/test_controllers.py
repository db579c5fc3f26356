"""The controller manager seen through the real kubectl: workloads that keep themselves alive.

A user never creates the pods of a ReplicaSet or a Deployment: the controllers do, and make
new ones when pods go. These tests drive the session cluster (``serve``, one node, every
standard controller) as a user would and check what the user would see.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from typing import Any

from tests.e2e.conftest import Kubectl
from tests.e2e.test_pods import eventually

# "$$$$": the API's variable expansion turns "$$" into "$", so the shell sees "$$", its pid
SLEEPER = ["sh", "-c", "echo $$$$ > /tmp/pid; exec sleep 3600"]


def replica_set(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "terminationGracePeriodSeconds": 1,
                    "containers": [{"name": "main", "image": "busybox:1.36", "command": SLEEPER}],
                },
            },
        },
    }


def running_pods(kubectl: Kubectl, selector: str) -> dict[str, dict[str, Any]]:
    """The selected pods that run and are not being deleted, by name."""
    pods = kubectl.json("get", "pods", "-l", selector)["items"]
    return {
        p["metadata"]["name"]: p
        for p in pods
        if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
    }


def test_a_replica_set_replaces_a_deleted_pod_with_a_new_name_and_address(
    kubectl: Kubectl, unique: Any
) -> None:
    name = unique("rs")
    kubectl.out("apply", "-f", "-", stdin=json.dumps(replica_set(name, 3)))
    before = eventually(lambda: (p := running_pods(kubectl, f"app={name}")) and len(p) == 3 and p)
    victim = sorted(before)[0]
    kubectl.out("delete", "pod", victim, "--wait=false")

    def replaced() -> dict[str, dict[str, Any]] | None:
        now = running_pods(kubectl, f"app={name}")
        return now if len(now) == 3 and victim not in now else None

    after = eventually(replaced)
    (newcomer,) = set(after) - set(before)
    assert newcomer.startswith(f"{name}-")
    assert after[newcomer]["status"]["podIP"] != before[victim]["status"]["podIP"]
    owner = after[newcomer]["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("ReplicaSet", name, True)
    events = kubectl.out("get", "events", "--field-selector", f"involvedObject.name={name}")
    assert f"Created pod: {newcomer}" in events
    status = kubectl.json("get", "rs", name)["status"]
    assert (status["replicas"], status["readyReplicas"], status["availableReplicas"]) == (3, 3, 3)
    kubectl.out("delete", "rs", name, "--wait=false")


def test_a_killed_container_is_restarted_by_the_kubelet(kubectl: Kubectl, unique: Any) -> None:
    name = unique("rs")
    kubectl.out("apply", "-f", "-", stdin=json.dumps(replica_set(name, 1)))
    (pod,) = eventually(lambda: running_pods(kubectl, f"app={name}"))
    # the container wrote its own (host) process id: no pid namespace in the process runtime
    pid = int(eventually(lambda: kubectl.run("exec", pod, "--", "cat", "/tmp/pid").stdout))
    os.kill(pid, signal.SIGKILL)

    def restarted() -> dict[str, Any] | None:
        status = kubectl.json("get", "pod", pod)["status"]
        (container,) = status.get("containerStatuses") or [{}]
        running = "running" in (container.get("state") or {})
        return container if container.get("restartCount") == 1 and running else None

    container = eventually(restarted)
    assert container["lastState"]["terminated"]["exitCode"] == 137
    kubectl.out("delete", "rs", name, "--wait=false")


# ------------------------------------------------------------------------------ Deployments


def deployment_pods(kubectl: Kubectl, name: str) -> list[dict[str, Any]]:
    return list(kubectl.json("get", "pods", "-l", f"app={name}")["items"])


def rolled_out(kubectl: Kubectl, name: str) -> str:
    return kubectl.out("rollout", "status", f"deployment/{name}", "--timeout=90s")


class PodWatch:
    """Every pod event of one Deployment through the official client's watch, on a thread:
    what a user watching ``kubectl get pods -w`` would see, checked at each moment."""

    def __init__(self, api_client: Any, name: str) -> None:
        from kubernetes import client, watch

        core = client.CoreV1Api(api_client)
        listed = core.list_namespaced_pod("default", label_selector=f"app={name}")
        self.pods: dict[str, Any] = {
            p.metadata.name: p for p in listed.items if not p.metadata.deletion_timestamp
        }
        self.moments: list[tuple[int, int]] = []  # (active pods, ready pods) after each event
        self._watch = watch.Watch()
        stream = self._watch.stream(
            core.list_namespaced_pod,
            "default",
            label_selector=f"app={name}",
            resource_version=listed.metadata.resource_version,
            timeout_seconds=120,
            _request_timeout=130,
        )
        self._thread = threading.Thread(target=self._follow, args=(stream,), daemon=True)
        self._thread.start()

    def _follow(self, stream: Any) -> None:
        for event in stream:
            pod = event["object"]
            if event["type"] == "DELETED" or pod.metadata.deletion_timestamp:
                self.pods.pop(pod.metadata.name, None)  # terminating pods count for nobody
            else:
                self.pods[pod.metadata.name] = pod
            ready = sum(
                any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
                for p in self.pods.values()
            )
            self.moments.append((len(self.pods), ready))

    def stop(self) -> list[tuple[int, int]]:
        self._watch.stop()
        self._thread.join(timeout=130)
        return self.moments


def test_create_scale_and_roll_a_deployment(kubectl: Kubectl, api_client: Any, unique: Any) -> None:
    name = unique("nginx-depl")
    kubectl.out("create", "deployment", name, "--image=nginx")
    assert f'deployment "{name}" successfully rolled out' in rolled_out(kubectl, name)
    (first,) = deployment_pods(kubectl, name)
    assert first["status"]["phase"] == "Running"
    assert first["metadata"]["labels"]["pod-template-hash"] in first["metadata"]["name"]

    kubectl.out("scale", f"deployment/{name}", "--replicas=5")
    rolled_out(kubectl, name)
    assert len(running_pods(kubectl, f"app={name}")) == 5
    kubectl.out("scale", f"deployment/{name}", "--replicas=2")
    eventually(lambda: len(deployment_pods(kubectl, name)) == 2)
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    kubectl.out("patch", f"deployment/{name}", "-p", json.dumps({"spec": {"strategy": strategy}}))

    watch = PodWatch(api_client, name)
    kubectl.out("set", "image", f"deployment/{name}", "nginx=nginx:1.27")
    assert "successfully rolled out" in rolled_out(kubectl, name)
    eventually(lambda: watch.moments and watch.moments[-1] == (2, 2))
    moments = watch.stop()
    assert moments, "the watch saw no pod event during the rollout"
    assert max(active for active, _ in moments) <= 3, moments  # replicas + maxSurge
    assert min(ready for _, ready in moments) >= 2, moments  # replicas - maxUnavailable
    running = running_pods(kubectl, f"app={name}").values()
    assert {p["spec"]["containers"][0]["image"] for p in running} == {"nginx:1.27"}
    events = kubectl.out("describe", "deployment", name)
    assert "ScalingReplicaSet" in events and "Scaled up replica set" in events
    kubectl.out("delete", "deployment", name, "--wait=false")


def test_rollout_history_undo_pause_and_resume(kubectl: Kubectl, unique: Any) -> None:
    name = unique("hist")
    kubectl.out("create", "deployment", name, "--image=nginx:1.26", "--replicas=2")
    rolled_out(kubectl, name)
    kubectl.out("annotate", f"deployment/{name}", "kubernetes.io/change-cause=to 1.27")
    kubectl.out("set", "image", f"deployment/{name}", "nginx=nginx:1.27")
    rolled_out(kubectl, name)
    history = kubectl.out("rollout", "history", f"deployment/{name}")
    assert "REVISION" in history and "to 1.27" in history
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]

    kubectl.out("rollout", "undo", f"deployment/{name}", "--to-revision=1")
    rolled_out(kubectl, name)
    template = kubectl.json("get", "deployment", name)["spec"]["template"]
    assert template["spec"]["containers"][0]["image"] == "nginx:1.26"
    revisions = kubectl.out("rollout", "history", f"deployment/{name}")
    assert [line.split()[0] for line in revisions.splitlines()[2:] if line.strip()] == ["2", "3"]

    kubectl.out("rollout", "pause", f"deployment/{name}")
    kubectl.out("set", "image", f"deployment/{name}", "nginx=nginx:1.27")
    status = kubectl.run("rollout", "status", f"deployment/{name}", "--timeout=3s", check=False)
    assert status.returncode != 0  # paused: no progress to report
    conditions = kubectl.json("get", "deployment", name)["status"]["conditions"]
    assert any(c["reason"] == "DeploymentPaused" for c in conditions)
    running = running_pods(kubectl, f"app={name}").values()
    assert {p["spec"]["containers"][0]["image"] for p in running} == {"nginx:1.26"}
    kubectl.out("rollout", "resume", f"deployment/{name}")
    assert "successfully rolled out" in rolled_out(kubectl, name)
    kubectl.out("delete", "deployment", name, "--wait=false")


def test_cascading_and_orphaning_deletes(kubectl: Kubectl, unique: Any) -> None:
    name = unique("casc")
    kubectl.out(
        "create", "deployment", name, "--image=busybox:1.36", "--replicas=2", "--", "sleep", "3600"
    )
    rolled_out(kubectl, name)
    pods = {p["metadata"]["name"] for p in deployment_pods(kubectl, name)}
    kubectl.out("delete", "deployment", name, "--cascade=orphan")
    (rs,) = kubectl.json("get", "rs", "-l", f"app={name}")["items"]
    assert not rs["metadata"].get("ownerReferences")  # orphaned, not deleted
    assert {p["metadata"]["name"] for p in deployment_pods(kubectl, name)} == pods

    # the same Deployment again adopts the ReplicaSet, whose pods stay as they are
    kubectl.out(
        "create", "deployment", name, "--image=busybox:1.36", "--replicas=2", "--", "sleep", "3600"
    )
    rolled_out(kubectl, name)
    adopted = kubectl.json("get", "rs", rs["metadata"]["name"])["metadata"]["ownerReferences"]
    assert adopted[0]["kind"] == "Deployment" and adopted[0]["name"] == name
    assert {p["metadata"]["name"] for p in deployment_pods(kubectl, name)} == pods

    kubectl.out("delete", "deployment", name, "--wait=true", "--timeout=60s")
    eventually(lambda: not kubectl.json("get", "rs", "-l", f"app={name}")["items"])
    eventually(lambda: not deployment_pods(kubectl, name))


def test_deleting_a_namespace_removes_its_content(kubectl: Kubectl, unique: Any) -> None:
    namespace = unique("ns")
    kubectl.out("create", "namespace", namespace)
    kubectl.out("create", "deployment", "web", "--image=nginx", "-n", namespace)
    kubectl.out("create", "configmap", "settings", "--from-literal=a=b", "-n", namespace)
    kubectl.out("rollout", "status", "deployment/web", "-n", namespace, "--timeout=90s")
    kubectl.out("delete", "namespace", namespace, "--wait=true", "--timeout=90s")
    assert kubectl.fails("get", "namespace", namespace).strip().endswith("not found")
    everywhere = kubectl.json("get", "pods,rs,deployments,configmaps", "-A")["items"]
    assert not [o for o in everywhere if o["metadata"].get("namespace") == namespace]


def test_a_job_with_five_completions_two_at_a_time(kubectl: Kubectl, unique: Any) -> None:
    name = unique("job")
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "completions": 5,
            "parallelism": 2,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {"name": "main", "image": "busybox:1.36", "command": ["echo", "done"]}
                    ],
                }
            },
        },
    }
    kubectl.out("apply", "-f", "-", stdin=json.dumps(job))
    kubectl.out("wait", "--for=condition=Complete", f"job/{name}", "--timeout=120s")
    status = kubectl.json("get", "job", name)["status"]
    assert status["succeeded"] == 5 and not status.get("failed")
    columns = kubectl.out("get", "job", name, "--no-headers").split()
    assert columns[1:3] == ["Complete", "5/5"]
    pods = kubectl.json("get", "pods", "-l", f"job-name={name}")["items"]
    assert len(pods) == 5 and all(p["status"]["phase"] == "Succeeded" for p in pods)
    assert kubectl.out("logs", pods[0]["metadata"]["name"]).strip() == "done"
    kubectl.out("delete", "job", name, "--wait=true", "--timeout=60s")
    eventually(lambda: not kubectl.json("get", "pods", "-l", f"job-name={name}")["items"])
