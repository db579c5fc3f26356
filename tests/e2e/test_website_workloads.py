"""The Kubernetes website's workload examples (``controllers/``, ``application/``), applied
unchanged with the real kubectl, reaching the state their documentation pages describe.

The manifests are the corpus files under ``corpus/website-examples/`` (byte-for-byte copies of
``kubernetes/website``'s ``content/en/examples``, CC BY 4.0, see its README). Each test follows
one docs page: it applies what the page applies, runs the commands the page runs (``rollout
status``, ``set image``, ``rollout undo``, ``scale``, ``create job --from``, server-side apply
with a hand-over field manager) and checks what the page shows (``kubectl get`` columns, pod
labels and owners, ``rollout history``, events, a container's answer or a Service's). What a
controller does not do yet (a Job's ``successPolicy``) is written as the page reads and marked
``xfail(strict=True)`` with exactly what is missing. Everything applied is deleted with
``--wait``, and its pods are waited for, so the next test starts clean.

Examples left out, and why:

- ``controllers/statefulset.yaml``, ``application/web/*``, ``application/mysql/*``,
  ``application/wordpress/*``: StatefulSets and PersistentVolumeClaims (issue 8), and images
  that are not built in (nginx-slim, mysql, wordpress).
- ``controllers/fluentd-daemonset.yaml``, ``controllers/fluentd-daemonset-update.yaml``: the
  fluentd images are not built in, and the stored update file selects by a label the stored
  first file does not use, so the update page's second apply is refused (selector immutable);
  ``controllers/daemonset.yaml`` covers a DaemonSet whose image must be built.
- ``controllers/job-pod-failure-policy-example.yaml`` (bash:5), ``application/php-apache.yaml``
  (hpa-example, and an autoscaler), ``application/deployment-sidecar.yaml`` and
  ``application/job/job-sidecar.yaml`` (alpine), ``application/guestbook/frontend-*`` and
  ``redis-follower-*`` (gb-frontend, gb-redis-follower): images that are not built in, whose
  documented state needs the image; ``redis-leader`` stands for them below.
- ``application/basic-daemonset.yaml``: its init container copies the node's
  ``/etc/machine-id`` into the node's ``/var/log`` through hostPath volumes; the node is this
  machine, so the test would write into the host's ``/var/log``.
- ``application/shell-demo.yaml`` (a Pod, the "Get a Shell" page): the page's session writes
  ``/usr/share/nginx/html/index.html`` from a shell, whose absolute paths are the host's in the
  process runtime (DESIGN.md's known limit).
- ``application/deployment-retainkeys.yaml``: a strategic-merge-patch page, no controller state.
- ``application/canary/app-service.yaml``: the stored copy (another commit than the two
  Deployments) selects ``app.kubernetes.io/name: rollout-demo``, which no canary pod carries,
  so the canary test asks each pod directly.
- ``application/job/redis/*``: the redis Pod runs in test_website_pods.

The Deployments page's stuck rollout (``set image ... nginx:1.161``) cannot be shown: every tag
of a built-in image resolves, so the typo'd tag runs.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from minikube_py.config import listen_port
from tests.e2e.conftest import Kubectl
from tests.e2e.test_pods import WAIT, eventually

EXAMPLES = Path(__file__).parent / "corpus" / "website-examples"

# content/en/examples/pods/pod-rs.yaml of kubernetes/website (commit 5712187312b3, CC BY 4.0),
# the ReplicaSet page's bare pods; kept here, not in the corpus, whose file count is pinned.
POD_RS = """---
{
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "pod1",
    labels: {
      tier: "frontend",
    },
  },
  spec: {
    containers: [{
      name: "hello1",
      image: "gcr.io/google-samples/hello-app:2.0",
    }],
  },
}
---
{
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "pod2",
    labels: {
      tier: "frontend",
    },
  },
  spec: {
    containers: [{
      name: "hello2",
      image: "gcr.io/google-samples/hello-app:1.0",
    }],
  },
}
"""

# The server-side apply page's hand-over manifest (shown inline on the page, not a file).
REPLICAS_ONLY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
spec:
  replicas: 3
"""


def example(path: str) -> str:
    return str(EXAMPLES / path)


class Applied:
    """What a test applied; deleted (``--wait``) after it, then its pods waited for."""

    def __init__(self, kubectl: Kubectl) -> None:
        self.kubectl = kubectl
        self.made: list[tuple[str, str | None]] = []  # (file, namespace/pod selector)

    def __call__(
        self,
        path: str,
        *,
        pods: str | None,
        text: str | None = None,
        extra: tuple[str, ...] = (),
        namespace: str = "default",
    ) -> str:
        """Apply the example ``path`` (or ``text`` saved under that name); kubectl's output.
        ``pods`` selects the pods it makes, which teardown waits to be gone (None: no wait)."""
        target = str(self.kubectl.write(Path(path).name, text)) if text else example(path)
        self.made.append((target, f"{namespace}/{pods}" if pods else None))
        return self.kubectl.out("apply", "-f", target, *extra)

    def clean(self) -> None:
        for target, _ in reversed(self.made):
            self.kubectl.run(
                "delete", "-f", target, "--wait=true", "--ignore-not-found", "--timeout=60s"
            )
        for _, where in self.made:
            if where is None:
                continue
            namespace, selector = where.split("/", 1)
            gone(self.kubectl, selector, namespace)


@pytest.fixture
def applied(kubectl: Kubectl) -> Iterator[Applied]:
    made = Applied(kubectl)
    yield made
    made.clean()


def pods(kubectl: Kubectl, selector: str, namespace: str = "default") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = kubectl.json("get", "pods", "-l", selector, "-n", namespace)[
        "items"
    ]
    return found


def gone(kubectl: Kubectl, selector: str, namespace: str) -> None:
    eventually(lambda: not pods(kubectl, selector, namespace), seconds=60)


def table(kubectl: Kubectl, *args: str) -> list[dict[str, str]]:
    """``kubectl get ARGS`` as rows keyed by column title (titles may hold one space, as
    ``LAST SCHEDULE``; columns are at least two spaces apart)."""
    lines = kubectl.out("get", *args).splitlines()
    starts = [(m.start(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", lines[0])]
    rows = []
    for line in lines[1:]:
        bounds = [*(start for start, _ in starts[1:]), len(line)]
        rows.append(
            {
                title: line[start:end].strip()
                for (start, title), end in zip(starts, bounds, strict=True)
            }
        )
    return rows


def rolled_out(kubectl: Kubectl, name: str) -> None:
    said = kubectl.out("rollout", "status", f"deployment/{name}", WAIT)
    assert said.splitlines()[-1] == f'deployment "{name}" successfully rolled out', said


def observed(kubectl: Kubectl, name: str) -> None:
    """The Deployment controller has seen the Deployment's latest spec."""

    def caught_up() -> bool:
        live = kubectl.json("get", "deployment", name)
        return bool(live["status"].get("observedGeneration") == live["metadata"]["generation"])

    eventually(caught_up)


def ready_pods(kubectl: Kubectl, selector: str, count: int) -> list[dict[str, Any]]:
    """Exactly ``count`` pods match ``selector`` (none terminating), all Running and Ready."""

    def settled() -> list[dict[str, Any]] | None:
        found = pods(kubectl, selector)
        ready = [
            p
            for p in found
            if p["status"].get("phase") == "Running"
            and not p["metadata"].get("deletionTimestamp")
            and any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in p["status"].get("conditions", [])
            )
        ]
        return found if len(found) == count == len(ready) else None

    found: list[dict[str, Any]] = eventually(settled, seconds=60)
    return found


def answer(url: str) -> list[str]:
    """The lines of the page at ``url``, once something answers there."""

    def fetch() -> list[str] | None:
        try:
            with urllib.request.urlopen(url, timeout=5) as got:
                return str(got.read().decode()).splitlines()
        except OSError:
            return None

    lines: list[str] = eventually(fetch, seconds=20)
    return lines


def owner(item: dict[str, Any]) -> tuple[str, str]:
    refs = [r for r in item["metadata"].get("ownerReferences", []) if r.get("controller")]
    return (refs[0]["kind"], refs[0]["name"]) if refs else ("", "")


def image_pull_backoff(kubectl: Kubectl, selector: str, image: str, namespace: str) -> None:
    """The selected pod waits in ImagePullBackOff with the hint to build ``image``."""

    def waiting() -> dict[str, Any] | None:
        for item in pods(kubectl, selector, namespace):
            for status in item["status"].get("containerStatuses") or []:
                state = (status.get("state") or {}).get("waiting") or {}
                if state.get("reason") == "ImagePullBackOff":
                    return dict(state)
        return None

    state = eventually(waiting)
    assert f"minikube-py image build -t {image}" in state["message"], state


# ------------------------------------------------------------------ Deployments (concepts)


def test_deployment_rolls_out_updates_and_rolls_back(kubectl: Kubectl, applied: Applied) -> None:
    """concepts/workloads/controllers/deployment: create, update, history, roll back."""
    said = applied("controllers/nginx-deployment.yaml", pods="app.kubernetes.io/name=nginx")
    assert said == "deployment.apps/nginx-deployment created\n"
    rolled_out(kubectl, "nginx-deployment")
    [deployment] = table(kubectl, "deployments", "nginx-deployment")
    assert (deployment["READY"], deployment["UP-TO-DATE"], deployment["AVAILABLE"]) == (
        "3/3",
        "3",
        "3",
    )
    [first] = table(kubectl, "rs", "-l", "app.kubernetes.io/name=nginx")
    assert (first["DESIRED"], first["CURRENT"], first["READY"]) == ("3", "3", "3")
    hash1 = first["NAME"].removeprefix("nginx-deployment-")
    assert re.fullmatch(r"[0-9a-z]{8,10}", hash1), first
    labels = kubectl.out(
        "get", "pods", "-l", "app.kubernetes.io/name=nginx", "--show-labels", "--no-headers"
    )
    assert [line.split()[-1] for line in labels.splitlines()] == [
        f"app.kubernetes.io/name=nginx,pod-template-hash={hash1}"
    ] * 3

    said = kubectl.out("set", "image", "deployment.v1.apps/nginx-deployment", "nginx=nginx:1.16.1")
    assert said == "deployment.apps/nginx-deployment image updated\n"
    rolled_out(kubectl, "nginx-deployment")
    sets = {row["NAME"]: row for row in table(kubectl, "rs", "-l", "app.kubernetes.io/name=nginx")}
    assert (sets[first["NAME"]]["DESIRED"], sets[first["NAME"]]["READY"]) == ("0", "0")
    [second] = [row for name, row in sets.items() if name != first["NAME"]]
    assert (second["DESIRED"], second["CURRENT"], second["READY"]) == ("3", "3", "3")
    described = " ".join(kubectl.out("describe", "deployment", "nginx-deployment").split())
    assert f"Scaled up replica set {second['NAME']}" in described
    assert f"Scaled down replica set {first['NAME']}" in described
    assert "Image: nginx:1.16.1" in described
    assert f"NewReplicaSet: {second['NAME']} (3/3 replicas created)" in described

    history = kubectl.out("rollout", "history", "deployment/nginx-deployment").split()
    assert history[:4] == ["deployment.apps/nginx-deployment", "REVISION", "CHANGE-CAUSE", "1"]
    assert history[4:] == ["<none>", "2", "<none>"]
    kubectl.out(
        "annotate",
        "deployment/nginx-deployment",
        "kubernetes.io/change-cause=image updated to 1.16.1",
    )
    revision = kubectl.out("rollout", "history", "deployment/nginx-deployment", "--revision=2")
    assert "image updated to 1.16.1" in revision and "nginx:1.16.1" in revision, revision

    said = kubectl.out("rollout", "undo", "deployment/nginx-deployment")
    assert said == "deployment.apps/nginx-deployment rolled back\n"
    rolled_out(kubectl, "nginx-deployment")
    images = {
        p["spec"]["containers"][0]["image"]
        for p in ready_pods(kubectl, "app.kubernetes.io/name=nginx", 3)
    }
    assert images == {"nginx:1.14.2"}
    # the undo took revision 1's template back as revision 3
    history = kubectl.out("rollout", "history", "deployment/nginx-deployment").splitlines()
    assert [line.split()[0] for line in history[2:] if line.strip()] == ["2", "3"], history

    # "Pausing and Resuming a rollout": changes to a paused Deployment start no rollout.
    said = kubectl.out("rollout", "pause", "deployment/nginx-deployment")
    assert said == "deployment.apps/nginx-deployment paused\n"
    kubectl.out("set", "image", "deployment/nginx-deployment", "nginx=nginx:1.16.1")
    said = kubectl.out(
        "set",
        "resources",
        "deployment/nginx-deployment",
        "-c=nginx",
        "--limits=cpu=200m,memory=512Mi",
    )
    assert said == "deployment.apps/nginx-deployment resource requirements updated\n"
    observed(kubectl, "nginx-deployment")
    names = {row["NAME"] for row in table(kubectl, "rs", "-l", "app.kubernetes.io/name=nginx")}
    assert names == {first["NAME"], second["NAME"]}
    said = kubectl.out("rollout", "resume", "deployment/nginx-deployment")
    assert said == "deployment.apps/nginx-deployment resumed\n"
    rolled_out(kubectl, "nginx-deployment")
    [third] = [
        row
        for row in table(kubectl, "rs", "-l", "app.kubernetes.io/name=nginx")
        if row["NAME"] not in names
    ]
    assert (third["DESIRED"], third["CURRENT"], third["READY"]) == ("3", "3", "3")
    limits = [
        p["spec"]["containers"][0]["resources"]["limits"]
        for p in ready_pods(kubectl, "app.kubernetes.io/name=nginx", 3)
    ]
    assert limits == [{"cpu": "200m", "memory": "512Mi"}] * 3


# ----------------------------------------------------------------------------- ReplicaSet


def test_replicaset_runs_three_pods_and_sheds_matching_bare_pods(
    kubectl: Kubectl, applied: Applied
) -> None:
    """concepts/workloads/controllers/replicaset: frontend.yaml, then pod-rs.yaml's pods are
    acquired and, the set being over its count, terminated."""
    assert applied("controllers/frontend.yaml", pods="tier=frontend") == (
        "replicaset.apps/frontend created\n"
    )
    made = ready_pods(kubectl, "tier=frontend", 3)
    assert all(owner(p) == ("ReplicaSet", "frontend") for p in made)
    assert all(p["metadata"]["name"].startswith("frontend-") for p in made)
    [row] = table(kubectl, "rs", "frontend")
    assert (row["DESIRED"], row["CURRENT"], row["READY"]) == ("3", "3", "3")

    applied("pods/pod-rs.yaml", pods="tier=frontend", text=POD_RS)
    eventually(
        lambda: not kubectl.out("get", "pods", "pod1", "pod2", "--ignore-not-found", "-o", "name")
    )
    assert sorted(p["metadata"]["name"] for p in ready_pods(kubectl, "tier=frontend", 3)) == sorted(
        p["metadata"]["name"] for p in made
    )
    events = " ".join(kubectl.out("describe", "rs", "frontend").split())
    assert "Deleted pod: pod1" in events and "Deleted pod: pod2" in events, events


def test_replicaset_acquires_existing_bare_pods(kubectl: Kubectl, applied: Applied) -> None:
    """The same page: with pod1 and pod2 already running, the ReplicaSet adopts both and
    creates only one pod of its own."""
    applied("pods/pod-rs.yaml", pods="tier=frontend", text=POD_RS)
    kubectl.out("wait", "--for=condition=Ready", "pod/pod1", "pod/pod2", WAIT)
    applied("controllers/frontend.yaml", pods="tier=frontend")

    def adopted() -> list[dict[str, Any]] | None:
        found = ready_pods(kubectl, "tier=frontend", 3)
        return found if all(owner(p) == ("ReplicaSet", "frontend") for p in found) else None

    names = sorted(p["metadata"]["name"] for p in eventually(adopted))
    assert names[0].startswith("frontend-") and names[1:] == ["pod1", "pod2"], names


def test_replicaset_deleted_alone_leaves_its_pods_to_the_next(
    kubectl: Kubectl, applied: Applied
) -> None:
    """The same page, "Deleting just a ReplicaSet": with ``--cascade=orphan`` its pods stay,
    ownerless; a new ReplicaSet with the same selector adopts them instead of making new ones.

    Known (reported to the lead, not ours to fix here): about one run in two the ReplicaSet
    controller writes the status of the set being deleted after it is gone and logs the 404 as
    "reconcile failed" at error level, which the session's health check reports at teardown."""
    applied("controllers/frontend.yaml", pods="tier=frontend")
    made = ready_pods(kubectl, "tier=frontend", 3)
    said = kubectl.out("delete", "rs", "frontend", "--cascade=orphan", "--wait=true")
    assert said == 'replicaset.apps "frontend" deleted\n'
    eventually(lambda: all(owner(p) == ("", "") for p in ready_pods(kubectl, "tier=frontend", 3)))
    applied("controllers/frontend.yaml", pods="tier=frontend")
    eventually(
        lambda: all(
            owner(p) == ("ReplicaSet", "frontend") for p in ready_pods(kubectl, "tier=frontend", 3)
        )
    )
    assert {p["metadata"]["name"] for p in ready_pods(kubectl, "tier=frontend", 3)} == {
        p["metadata"]["name"] for p in made
    }


# -------------------------------------------------------------- a stateless application


def test_run_a_stateless_application(kubectl: Kubectl, applied: Applied) -> None:
    """tasks/run-application/run-stateless-application-deployment: deployment.yaml."""
    applied("application/deployment.yaml", pods="app=nginx")
    rolled_out(kubectl, "nginx-deployment")
    described = " ".join(kubectl.out("describe", "deployment", "nginx-deployment").split())
    for shown in (
        "Selector: app=nginx",
        "Replicas: 2 desired | 2 updated | 2 total | 2 available | 0 unavailable",
        "StrategyType: RollingUpdate",
        "RollingUpdateStrategy: 25% max unavailable, 25% max surge",
        "Image: nginx:1.15",
        "Available True MinimumReplicasAvailable",
        "Progressing True NewReplicaSetAvailable",
    ):
        assert shown in described, (shown, described)
    rows = table(kubectl, "pods", "-l", "app=nginx")
    assert [(r["READY"], r["STATUS"]) for r in rows] == [("1/1", "Running")] * 2
    # The stored deployment-update.yaml selects app.kubernetes.io/name=nginx, not app=nginx
    # (the two files were taken at different commits): the API refuses the selector change.
    refused = kubectl.fails("apply", "-f", example("application/deployment-update.yaml"))
    assert "spec.selector" in refused and "field is immutable" in refused, refused


def test_update_then_scale_a_stateless_application(kubectl: Kubectl, applied: Applied) -> None:
    """The same page's deployment-update.yaml (nginx:1.16.1), then deployment-scale.yaml (4)."""
    applied("application/deployment-update.yaml", pods="app.kubernetes.io/name=nginx")
    rolled_out(kubectl, "nginx-deployment")
    running = ready_pods(kubectl, "app.kubernetes.io/name=nginx", 2)
    assert {p["spec"]["containers"][0]["image"] for p in running} == {"nginx:1.16.1"}
    said = applied("application/deployment-scale.yaml", pods="app.kubernetes.io/name=nginx")
    assert said == "deployment.apps/nginx-deployment configured\n"
    rolled_out(kubectl, "nginx-deployment")
    scaled = ready_pods(kubectl, "app.kubernetes.io/name=nginx", 4)
    # scaling keeps the two pods there were and the one ReplicaSet
    assert {p["metadata"]["name"] for p in running} <= {p["metadata"]["name"] for p in scaled}
    assert len({owner(p) for p in scaled}) == 1


# ------------------------------------------------------- declarative object management


def test_declarative_apply_keeps_a_scale_and_clears_a_removed_field(
    kubectl: Kubectl, applied: Applied
) -> None:
    """tasks/manage-kubernetes-objects/declarative-config: simple_deployment.yaml, kubectl
    scale, then update_deployment.yaml."""
    said = applied("application/simple_deployment.yaml", pods="app.kubernetes.io/name=nginx")
    assert said == "deployment.apps/nginx-deployment created\n"
    live = kubectl.json("get", "-f", example("application/simple_deployment.yaml"))
    last = json.loads(
        live["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
    )
    assert last["spec"]["minReadySeconds"] == 5 and "replicas" not in last["spec"]
    assert (live["spec"]["minReadySeconds"], live["spec"]["replicas"]) == (5, 1)

    said = kubectl.out("scale", "deployment/nginx-deployment", "--replicas=2")
    assert said == "deployment.apps/nginx-deployment scaled\n"
    said = applied("application/update_deployment.yaml", pods="app.kubernetes.io/name=nginx")
    assert said == "deployment.apps/nginx-deployment configured\n"
    live = kubectl.json("get", "deployment", "nginx-deployment")
    # replicas (set by `kubectl scale`, in no applied file) stay; minReadySeconds (in the last
    # applied file, not in this one) is cleared; the image is the new one.
    assert live["spec"]["replicas"] == 2
    assert "minReadySeconds" not in live["spec"]
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.16.1"
    rolled_out(kubectl, "nginx-deployment")
    running = ready_pods(kubectl, "app.kubernetes.io/name=nginx", 2)
    assert {p["spec"]["containers"][0]["image"] for p in running} == {"nginx:1.16.1"}


# ------------------------------------------------------------------ server-side apply


def test_server_side_apply_hands_replicas_over(kubectl: Kubectl, applied: Applied) -> None:
    """reference/using-api/server-side-apply, "Transferring ownership": replicas handed to a
    private manager survive applying the manifest without them."""
    said = applied(
        "application/ssa/nginx-deployment.yaml",
        pods="app.kubernetes.io/name=nginx",
        extra=("--server-side",),
    )
    assert said == "deployment.apps/nginx-deployment serverside-applied\n"
    rolled_out(kubectl, "nginx-deployment")
    said = kubectl.out(
        "apply",
        "-f",
        "-",
        "--server-side",
        "--field-manager=handover-to-hpa",
        "--validate=false",
        stdin=REPLICAS_ONLY,
    )
    assert said == "deployment.apps/nginx-deployment serverside-applied\n"
    said = applied(
        "application/ssa/nginx-deployment-no-replicas.yaml",
        pods="app.kubernetes.io/name=nginx",
        extra=("--server-side",),
    )
    assert said == "deployment.apps/nginx-deployment serverside-applied\n"
    live = kubectl.json("get", "deployment", "nginx-deployment", "--show-managed-fields")
    assert live["spec"]["replicas"] == 3
    owners = {
        entry["manager"]: entry["fieldsV1"]
        for entry in live["metadata"]["managedFields"]
        if entry["operation"] == "Apply"
    }
    assert "f:replicas" in owners["handover-to-hpa"]["f:spec"]
    assert "f:replicas" not in owners["kubectl"]["f:spec"]
    assert len(ready_pods(kubectl, "app.kubernetes.io/name=nginx", 3)) == 3


# ---------------------------------------------------------------- managing workloads


def test_nginx_app_scales_and_labels(kubectl: Kubectl, applied: Applied) -> None:
    """concepts/workloads/management: nginx-app.yaml (a Service and a Deployment in one
    file), ``kubectl scale``, ``kubectl label``, ``kubectl delete -f``."""
    said = applied("application/nginx-app.yaml", pods="app.kubernetes.io/name=nginx")
    assert said == "service/my-nginx-svc created\ndeployment.apps/my-nginx created\n"
    rolled_out(kubectl, "my-nginx")
    ready_pods(kubectl, "app.kubernetes.io/name=nginx", 3)
    [service] = table(kubectl, "svc", "my-nginx-svc")
    assert service["TYPE"] == "LoadBalancer", service

    said = kubectl.out("scale", "deployment/my-nginx", "--replicas=1")
    assert said == "deployment.apps/my-nginx scaled\n"
    [left] = ready_pods(kubectl, "app.kubernetes.io/name=nginx", 1)
    name = left["metadata"]["name"]
    said = kubectl.out("label", "pods", "-l", "app.kubernetes.io/name=nginx", "tier=fe")
    assert said == f"pod/{name} labeled\n"
    [row] = table(kubectl, "pods", "-l", "app.kubernetes.io/name=nginx", "-L", "tier")
    assert (row["NAME"], row["TIER"]) == (name, "fe")

    said = kubectl.out("delete", "-f", example("application/nginx-app.yaml"), "--wait=true")
    assert said == 'service "my-nginx-svc" deleted\ndeployment.apps "my-nginx" deleted\n'


def test_nginx_directory_service_answers(kubectl: Kubectl, applied: Applied) -> None:
    """concepts/workloads/management: ``kubectl apply -f application/nginx/`` makes the
    Deployment and its Service; the Service answers with nginx's page."""
    said = applied("application/nginx/", pods="app.kubernetes.io/name=nginx")
    assert said == "deployment.apps/my-nginx created\nservice/my-nginx-svc created\n"
    rolled_out(kubectl, "my-nginx")
    address = kubectl.json("get", "svc", "my-nginx-svc")["spec"]["clusterIP"]
    url = f"http://{address}:{listen_port(80)}/"
    # Ready without a readiness probe means started: nginx may still be binding its port
    assert "Welcome to nginx!" in eventually(lambda: _page(url))


# ----------------------------------------------------------------------------- canary


def test_canary_release(kubectl: Kubectl, applied: Applied) -> None:
    """tutorials/.../canary (application/canary): three stable pods, then one canary beside
    them, told apart by ``track``; the canary is scaled up and the stable set down to none."""
    applied("application/canary/app-v1-deployment.yaml", pods="app=canary-demo")
    rolled_out(kubectl, "canary-demo-stable")
    applied("application/canary/app-v2-deployment.yaml", pods="app=canary-demo")
    rolled_out(kubectl, "canary-demo-canary")
    rows = {r["NAME"]: r for r in table(kubectl, "deployments", "-l", "app=canary-demo")}
    assert {name: (r["READY"], r["UP-TO-DATE"], r["AVAILABLE"]) for name, r in rows.items()} == {
        "canary-demo-stable": ("3/3", "3", "3"),
        "canary-demo-canary": ("1/1", "1", "1"),
    }
    running = ready_pods(kubectl, "app=canary-demo", 4)
    answers = []
    for item in running:
        # Ready means started (no readiness probe): the app may still be binding its port
        hello, version, hostname = answer(f"http://{item['status']['podIP']}:8080/")[:3]
        assert (hello, hostname) == ("Hello, world!", f"Hostname: {item['metadata']['name']}")
        answers.append((item["metadata"]["labels"]["track"], version))
    # The page: stable pods answer "version v1", the canary "v2". (The real hello-app prints
    # "Version: 1.0.0" / "2.0.0" from its tag whatever $VERSION says; these pods set
    # VERSION=v1 / v2, which the built-in image prints instead.)
    assert sorted(answers) == sorted(
        [("canary", "Version: v2")] + [("stable", "Version: v1")] * 3
    ) or sorted(answers) == sorted(
        [("canary", "Version: 2.0.0")] + [("stable", "Version: 1.0.0")] * 3
    ), answers

    kubectl.out("scale", "deployment/canary-demo-canary", "--replicas=3")
    kubectl.out("scale", "deployment/canary-demo-stable", "--replicas=0")
    rolled_out(kubectl, "canary-demo-canary")
    left = ready_pods(kubectl, "app=canary-demo", 3)
    assert {p["metadata"]["labels"]["track"] for p in left} == {"canary"}


# --------------------------------------------------------------------------- DaemonSet


def test_daemonset_puts_one_pod_on_the_node(kubectl: Kubectl, applied: Applied) -> None:
    """concepts/workloads/controllers/daemonset: daemonset.yaml in kube-system. One pod per
    node, pinned to it by node affinity, with the tolerations the controller adds; its image
    (fluentd-elasticsearch) is not built in, so the pod waits for it to be built."""
    applied(
        "controllers/daemonset.yaml", pods="name=fluentd-elasticsearch", namespace="kube-system"
    )
    image_pull_backoff(
        kubectl,
        "name=fluentd-elasticsearch",
        "k8s.gcr.io/fluentd-elasticsearch:1.20",
        "kube-system",
    )
    [row] = table(kubectl, "ds", "fluentd-elasticsearch", "-n", "kube-system")
    assert (row["DESIRED"], row["CURRENT"], row["READY"], row["UP-TO-DATE"]) == (
        "1",
        "1",
        "0",
        "1",
    )
    [item] = pods(kubectl, "name=fluentd-elasticsearch", "kube-system")
    assert item["spec"]["nodeName"] == "minikube"
    assert owner(item) == ("DaemonSet", "fluentd-elasticsearch")
    terms = item["spec"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]["nodeSelectorTerms"]
    assert terms == [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["minikube"]}]}
    ]
    tolerations = {(t["key"], t["effect"]) for t in item["spec"]["tolerations"]}
    assert tolerations >= {
        ("node-role.kubernetes.io/master", "NoSchedule"),  # the manifest's own
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    }, tolerations


# --------------------------------------------------------------------------------- Jobs


def test_job_pi_waits_for_the_perl_image(kubectl: Kubectl, applied: Applied) -> None:
    """concepts/workloads/controllers/job: job.yaml computes pi in perl, which is not built in;
    its pod carries the labels the page shows and waits for the image to be built."""
    applied("controllers/job.yaml", pods="batch.kubernetes.io/job-name=pi")
    image_pull_backoff(kubectl, "batch.kubernetes.io/job-name=pi", "perl", "default")
    [item] = pods(kubectl, "batch.kubernetes.io/job-name=pi")
    labels = item["metadata"]["labels"]
    uid = kubectl.json("get", "job", "pi")["metadata"]["uid"]
    assert labels["job-name"] == "pi"
    assert labels["batch.kubernetes.io/controller-uid"] == labels["controller-uid"] == uid
    assert owner(item) == ("Job", "pi")
    [row] = table(kubectl, "job", "pi")
    assert (row["STATUS"], row["COMPLETIONS"]) == ("Running", "0/1"), row
    described = " ".join(kubectl.out("describe", "job", "pi").split())
    assert "SuccessfulCreate" in described, described
    assert f"job-controller Created pod: {item['metadata']['name']}" in described, described


def test_job_success_policy_ends_on_index_two(kubectl: Kubectl, applied: Applied) -> None:
    """concepts/workloads/controllers/job, "Success policy": job-success-policy.yaml — ten
    indexed python pods, only index 2 exits 0, and the rule ``succeededIndexes: 0,2-3,
    succeededCount: 1`` makes the Job succeed."""
    applied("controllers/job-success-policy.yaml", pods="batch.kubernetes.io/job-name=job-success")

    def finished() -> dict[str, dict[str, Any]] | None:
        conditions = kubectl.json("get", "job", "job-success")["status"].get("conditions") or []
        found = {c["type"]: c for c in conditions if c["status"] == "True"}
        return found if {"Complete", "Failed"} & found.keys() else None

    conditions = eventually(finished, seconds=90)
    reasons = {kind: condition.get("reason") for kind, condition in conditions.items()}
    assert reasons == {"SuccessCriteriaMet": "SuccessPolicy", "Complete": "SuccessPolicy"}


def test_guestbook_redis_leader_waits_for_its_image(kubectl: Kubectl, applied: Applied) -> None:
    """tutorials/stateless-application/guestbook: the leader's image is registry.k8s.io/redis
    pinned by digest, which is not the built-in redis (docker.io/library/redis)."""
    applied(
        "application/guestbook/redis-leader-deployment.yaml",
        pods="app.kubernetes.io/name=redis,role=leader",
    )
    image_pull_backoff(
        kubectl,
        "app.kubernetes.io/name=redis,role=leader",
        "registry.k8s.io/redis@sha256:",
        "default",
    )
    [row] = table(kubectl, "deployment", "redis-leader")
    assert (row["READY"], row["UP-TO-DATE"], row["AVAILABLE"]) == ("0/1", "1", "0"), row


# ------------------------------------------------------------------------------ CronJob


CRONJOB = "application/job/cronjob.yaml"


@dataclass
class HelloCronJob:
    """What applying the CronJob example printed, and its ``kubectl get`` row right after."""

    refused: str  # kubectl's answer to the stored batch/v1beta1 file
    said: str  # kubectl's answer to the batch/v1 copy
    row: dict[str, str]


@pytest.fixture(scope="module", autouse=True)
def hello_cronjob(kubectl: Kubectl) -> Iterator[HelloCronJob]:
    """The CronJob example, applied when this module starts rather than in its test (the last
    of the module): its schedule is real time, a run a minute, so the wait for the first
    scheduled run overlaps the other tests here instead of adding up to a minute of its own.
    Deleted after the module whatever happened (its Jobs and their pods go with it)."""
    path = example(CRONJOB)
    refused = kubectl.fails("apply", "-f", path)
    manifest = kubectl.write(
        "cronjob.yaml", Path(path).read_text().replace("batch/v1beta1", "batch/v1")
    )
    try:
        said = kubectl.out("apply", "-f", str(manifest))
        [row] = table(kubectl, "cronjob", "hello")
        yield HelloCronJob(refused=refused, said=said, row=row)
    finally:
        kubectl.run(
            "delete", "-f", str(manifest), "--wait=true", "--ignore-not-found", "--timeout=60s"
        )

        def hello_pods() -> list[str]:  # of every run it made: one a minute the module took
            return [
                p["metadata"]["name"]
                for p in pods(kubectl, "batch.kubernetes.io/job-name")
                if p["metadata"]["labels"]["batch.kubernetes.io/job-name"].startswith("hello-")
            ]

        eventually(lambda: not hello_pods(), seconds=60)


def test_cronjob_says_hello_every_minute(kubectl: Kubectl, hello_cronjob: HelloCronJob) -> None:
    """tasks/job/automated-tasks-with-cron-jobs: application/job/cronjob.yaml. The stored file
    is batch/v1beta1, which 1.32 no longer serves (refused as upstream words it); the page's
    current text is the same CronJob in batch/v1, which then runs a Job a minute. Applied by
    the ``hello_cronjob`` fixture when the module starts (see there)."""
    path = example(CRONJOB)
    assert hello_cronjob.refused.strip() == (
        f'error: resource mapping not found for name: "hello" namespace: "" from "{path}": '
        'no matches for kind "CronJob" in version "batch/v1beta1"\n'
        "ensure CRDs are installed first"
    )
    assert hello_cronjob.said == "cronjob.batch/hello created\n"
    row = hello_cronjob.row
    assert (row["SCHEDULE"], row["TIMEZONE"], row["SUSPEND"]) == ("* * * * *", "<none>", "False")
    assert row["ACTIVE"] in ("0", "1"), row  # 1 if a minute began since the apply

    said = kubectl.out("create", "job", "--from=cronjob/hello", "hello-manual")
    assert said == "job.batch/hello-manual created\n"
    kubectl.out("wait", "--for=condition=Complete", "job/hello-manual", WAIT)
    assert kubectl.out("logs", "job/hello-manual").splitlines()[-1] == (
        "Hello from the Kubernetes cluster"
    )

    def scheduled() -> str | None:
        status = kubectl.json("get", "cronjob", "hello").get("status") or {}
        return status.get("lastScheduleTime")

    when = eventually(scheduled, seconds=75, every=1)
    minutes = int(datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp() // 60)
    job = f"hello-{minutes}"  # the controller names a run after its scheduled minute
    kubectl.out("wait", "--for=condition=Complete", f"job/{job}", WAIT)
    assert owner(kubectl.json("get", "job", job)) == ("CronJob", "hello")
    assert kubectl.out("logs", f"job/{job}").splitlines()[-1] == "Hello from the Kubernetes cluster"
    [row] = table(kubectl, "cronjob", "hello")
    assert row["LAST SCHEDULE"] != "<none>", row

    # "Deleting a CronJob": the jobs it created, and their pods, go with it.
    said = kubectl.out("delete", "cronjob", "hello", "--wait=true")
    assert said == 'cronjob.batch "hello" deleted\n'
    for name in ("hello-manual", job):
        gone(kubectl, f"batch.kubernetes.io/job-name={name}", "default")
    assert not kubectl.out("get", "jobs", "hello-manual", job, "--ignore-not-found", "-o", "name")


def _page(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return str(answer.read().decode())
    except OSError:
        return None
