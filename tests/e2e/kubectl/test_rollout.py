"""Golden tests of the built-in ``kubectl rollout status|history|undo|restart``.

Each test works in a namespace of its own on workloads of real processes. A settled rollout
prints the same through both kubectls. A rollout in progress prints one line per change of
the Deployment, so how many lines depends on timing: there the built-in one's last line and
exit code must be kubectl's, and every line it printed one of kubectl's message forms.
``undo`` and ``restart`` change the cluster, so each kubectl's run is checked on its own
effect (the template put back, the pods rolled) and on what it printed.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from typing import Any

import pytest

from tests.e2e.conftest import Kubectl
from tests.e2e.kubectl.golden import builtin, same

WAIT = "--timeout=60s"
_PROGRESS = [
    r'Waiting for deployment "{n}" rollout to finish: \d+ out of \d+ new replicas have been '
    r"updated\.\.\.",
    r'Waiting for deployment "{n}" rollout to finish: \d+ old replicas are pending '
    r"termination\.\.\.",
    r'Waiting for deployment "{n}" rollout to finish: \d+ of \d+ updated replicas are '
    r"available\.\.\.",
    r"Waiting for deployment spec update to be observed\.\.\.",
    r'deployment "{n}" successfully rolled out',
]


def progress_line(name: str, line: str) -> bool:
    """Whether ``line`` is one of kubectl's Deployment status lines."""
    return any(re.fullmatch(form.format(n=name), line) for form in _PROGRESS)


@pytest.fixture
def web(kubectl: Kubectl, ns: str) -> str:
    """A rolled-out Deployment of three busybox pods (revision 1)."""
    kubectl.out(
        "create", "deployment", "web", "-n", ns, "--image=busybox", "--replicas=3",
        "--", "sleep", "3600",
    )  # fmt: skip
    kubectl.out("rollout", "status", "-n", ns, "deployment/web", WAIT)
    return "web"


def image_of(kubectl: Kubectl, ns: str, name: str) -> str:
    path = "jsonpath={.spec.template.spec.containers[0].image}"
    return kubectl.out("get", "deployment", name, "-n", ns, "-o", path)


def test_status_of_a_settled_deployment(kubectl: Kubectl, ns: str, web: str) -> None:
    done = same(kubectl, "rollout", "status", "-n", ns, f"deployment/{web}")
    assert done.out == f'deployment "{web}" successfully rolled out\n'
    same(kubectl, "rollout", "status", "-n", ns, "deployment", web, "-w=false")
    same(kubectl, "rollout", "status", "-n", ns, "deploy")
    for args in (
        [],
        ["deployment/nope"],
        ["pod/nope"],
        [f"deployment/{web}", "--revision=9"],
        [f"deployment/{web}", "--timeout=xx"],
    ):
        assert same(kubectl, "rollout", "status", "-n", ns, *args).code == 1, args


def test_status_follows_a_rollout_in_progress(kubectl: Kubectl, ns: str, web: str) -> None:
    kubectl.out("set", "image", "-n", ns, f"deployment/{web}", "busybox=busybox:1.36")
    got = builtin(kubectl, "rollout", "status", "-n", ns, f"deployment/{web}")
    lines = got.out.splitlines()
    assert got.code == 0 and got.err == "", got
    assert lines[-1] == f'deployment "{web}" successfully rolled out'
    assert all(progress_line(web, line) for line in lines), lines
    settled = same(kubectl, "rollout", "status", "-n", ns, f"deployment/{web}")
    assert settled.out == lines[-1] + "\n"


def test_status_gives_up_at_the_timeout(kubectl: Kubectl, ns: str) -> None:
    never_ready = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "stuck"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "stuck"}},
            "template": {
                "metadata": {"labels": {"app": "stuck"}},
                "spec": {
                    "containers": [
                        {
                            "name": "a",
                            "image": "busybox",
                            "command": ["sleep", "3600"],
                            "readinessProbe": {"exec": {"command": ["false"]}, "periodSeconds": 1},
                        }
                    ],
                    "terminationGracePeriodSeconds": 1,
                },
            },
        },
    }
    kubectl.out("apply", "-n", ns, "-f", "-", stdin=json.dumps(never_ready))
    kubectl.out(
        "wait", "-n", ns, "--for=jsonpath={.status.updatedReplicas}=1", "deploy/stuck", WAIT
    )
    expected = same(kubectl, "rollout", "status", "-n", ns, "deployment/stuck", "--timeout=2s")
    assert expected.code == 1
    assert expected.err == "error: timed out waiting for the condition\n"
    same(kubectl, "rollout", "status", "-n", ns, "deployment/stuck", "-w=false")


def test_history_lists_revisions_and_shows_one(kubectl: Kubectl, ns: str, web: str) -> None:
    kubectl.out("set", "image", "-n", ns, f"deployment/{web}", "busybox=busybox:1.36")
    kubectl.out("rollout", "status", "-n", ns, f"deployment/{web}", WAIT)
    kubectl.out("annotate", "-n", ns, f"deployment/{web}", "kubernetes.io/change-cause=to 1.36")
    cause = "jsonpath={.items[?(@.metadata.annotations.deployment\\.kubernetes\\.io/revision=='2')]"
    cause += ".metadata.annotations.kubernetes\\.io/change-cause}"
    eventually_out(kubectl, ["get", "rs", "-n", ns, "-o", cause], "to 1.36")
    table = same(kubectl, "rollout", "history", "-n", ns, f"deployment/{web}")
    assert table.out == (
        "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         to 1.36\n\n"
    )
    one = same(kubectl, "rollout", "history", "-n", ns, f"deployment/{web}", "--revision=2")
    assert one.out.startswith("deployment.apps/web with revision #2\nPod Template:\n")
    assert "busybox:1.36" in one.out
    same(kubectl, "rollout", "history", "-n", ns, f"deployment/{web}", "--revision=1")
    for args in ([f"deployment/{web}", "--revision=9"], [f"deployment/{web}", "--revision=-1"]):
        assert same(kubectl, "rollout", "history", "-n", ns, *args).code == 1


def eventually_out(kubectl: Kubectl, args: list[str], wanted: str) -> None:
    """Wait (bounded) until ``kubectl args`` prints ``wanted``."""
    for _ in range(300):
        if kubectl.run(*args, check=False).stdout.strip() == wanted:
            return
        time.sleep(0.2)
    raise AssertionError(f"kubectl {' '.join(args)} never printed {wanted!r}")


def test_undo_puts_the_previous_template_back(kubectl: Kubectl, ns: str, web: str) -> None:
    kubectl.out("set", "image", "-n", ns, f"deployment/{web}", "busybox=busybox:1.36")
    kubectl.out("rollout", "status", "-n", ns, f"deployment/{web}", WAIT)
    dry = same(kubectl, "rollout", "undo", "-n", ns, f"deployment/{web}", "--dry-run=client")
    assert dry.out.startswith("deployment.apps/web Pod Template:\n")
    assert dry.out.endswith(" (dry run)\n")
    assert image_of(kubectl, ns, web) == "busybox:1.36"
    undone = builtin(kubectl, "rollout", "undo", "-n", ns, f"deployment/{web}")
    assert (undone.code, undone.out, undone.err) == (0, "deployment.apps/web rolled back\n", "")
    assert image_of(kubectl, ns, web) == "busybox"
    kubectl.out("rollout", "status", "-n", ns, f"deployment/{web}", WAIT)
    # revision 1 came back as revision 3; asking for it again is skipped by both
    history = same(kubectl, "rollout", "history", "-n", ns, f"deployment/{web}")
    assert history.out.splitlines()[2:4] == ["2         <none>", "3         <none>"]
    skipped = same(kubectl, "rollout", "undo", "-n", ns, f"deployment/{web}", "--to-revision=3")
    assert "skipped rollback" in skipped.out
    for args in (["--to-revision=9"], ["--to-revision=-1"]):
        assert same(kubectl, "rollout", "undo", "-n", ns, f"deployment/{web}", *args).code == 1
    assert same(kubectl, "rollout", "undo", "-n", ns, "deployment/nope").code == 1
    # the real kubectl's undo of the built-in one's undo: back to busybox:1.36 as revision 4
    kubectl.out("rollout", "undo", "-n", ns, f"deployment/{web}")
    assert image_of(kubectl, ns, web) == "busybox:1.36"


def test_restart_rolls_every_pod(kubectl: Kubectl, ns: str, web: str) -> None:
    pods_before = set(kubectl.out("get", "pods", "-n", ns, "-o", "name").split())
    restarted = builtin(kubectl, "rollout", "restart", "-n", ns, f"deployment/{web}")
    assert (restarted.code, restarted.out) == (0, "deployment.apps/web restarted\n")
    path = "jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}"
    stamp = kubectl.out("get", "deployment", web, "-n", ns, "-o", path)
    assert datetime.fromisoformat(stamp.replace("Z", "+00:00")).tzinfo is not None
    kubectl.out("rollout", "status", "-n", ns, f"deployment/{web}", WAIT)
    # rolled out: the old pods may still be terminating for a moment, as upstream
    kubectl.out("wait", "--for=delete", "-n", ns, *sorted(pods_before), WAIT)
    pods_after = set(kubectl.out("get", "pods", "-n", ns, "-o", "name").split())
    assert len(pods_after) == 3 and not pods_after & pods_before
    for args in (["deployment/nope"], ["svc/nope"], []):
        assert same(kubectl, "rollout", "restart", "-n", ns, *args).code == 1


def test_pause_and_resume(kubectl: Kubectl, ns: str, web: str) -> None:
    paused = builtin(kubectl, "rollout", "pause", "-n", ns, f"deployment/{web}")
    assert (paused.code, paused.out, paused.err) == (0, "deployment.apps/web paused\n", "")
    assert kubectl.out("get", "deploy", web, "-n", ns, "-o", "jsonpath={.spec.paused}") == "true"
    for verb in ("pause", "restart", "undo"):
        assert same(kubectl, "rollout", verb, "-n", ns, f"deployment/{web}").code == 1, verb
    resumed = builtin(kubectl, "rollout", "resume", "-n", ns, f"deployment/{web}")
    assert (resumed.code, resumed.out) == (0, "deployment.apps/web resumed\n")
    assert same(kubectl, "rollout", "resume", "-n", ns, f"deployment/{web}").code == 1
    assert same(kubectl, "rollout", "pause", "-n", ns, "pod/nope").code == 1


def db_workload(kind: str) -> dict[str, Any]:
    """A StatefulSet (two replicas) or DaemonSet ``db`` of busybox pods."""
    container = {"name": "db", "image": "busybox", "command": ["sleep", "3600"]}
    template = {
        "metadata": {"labels": {"app": "db"}},
        "spec": {"containers": [container], "terminationGracePeriodSeconds": 1},
    }
    spec: dict[str, Any] = {"selector": {"matchLabels": {"app": "db"}}, "template": template}
    if kind == "StatefulSet":
        spec["replicas"] = 2
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "db"}, "spec": spec}


@pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet"])
def test_stateful_and_daemon_sets(kubectl: Kubectl, ns: str, kind: str) -> None:
    target = f"{kind.lower()}/db"
    kubectl.out("apply", "-n", ns, "-f", "-", stdin=json.dumps(db_workload(kind)))
    kubectl.out("rollout", "status", "-n", ns, target, WAIT)
    same(kubectl, "rollout", "status", "-n", ns, target)
    same(kubectl, "rollout", "history", "-n", ns, target)
    same(kubectl, "rollout", "history", "-n", ns, target, "--revision=1")
    assert same(kubectl, "rollout", "undo", "-n", ns, target).code == 1  # nothing to go back to
    kubectl.out("set", "image", "-n", ns, target, "db=busybox:1.36")
    kubectl.out("rollout", "status", "-n", ns, target, WAIT)
    same(kubectl, "rollout", "history", "-n", ns, target)
    dry = same(kubectl, "rollout", "undo", "-n", ns, target, "--dry-run=client")
    assert dry.out.startswith(f"{kind.lower()}.apps/db will roll back to Pod Template:")
    for args in (["--to-revision=7"], ["--to-revision=2"]):
        same(kubectl, "rollout", "undo", "-n", ns, target, *args)
    undone = builtin(kubectl, "rollout", "undo", "-n", ns, target)
    assert (undone.code, undone.out) == (0, f"{kind.lower()}.apps/db rolled back\n")
    path = "jsonpath={.spec.template.spec.containers[0].image}"
    assert kubectl.out("get", target, "-n", ns, "-o", path) == "busybox"
    kubectl.out("rollout", "status", "-n", ns, target, WAIT)
