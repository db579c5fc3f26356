"""Golden tests of the built-in ``kubectl get``: every line the real kubectl 1.32 prints —
tables, ``-o`` formats, errors, ``-w`` — the built-in one prints too, on the same objects.

Each test works in a namespace of its own (made and removed here), on objects it creates
with the real kubectl, so what both kubectls see differs only in what ``mask`` hides.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading

import pytest

from tests.e2e.conftest import Kubectl
from tests.e2e.kubectl.golden import builtin, mask, real, same, same_at_once

WAIT = "--timeout=60s"


@pytest.fixture
def web(kubectl: Kubectl, ns: str) -> str:
    """A Deployment ``web`` of two ready pods and a labelled ConfigMap ``settings`` in ``ns``."""
    kubectl.run(
        "-n",
        ns,
        "create",
        "deployment",
        "web",
        "--image=busybox",
        "--replicas=2",
        "--",
        "sleep",
        "3600",
    )
    kubectl.run("-n", ns, "create", "configmap", "settings", "--from-literal=mode=fast")
    kubectl.run("-n", ns, "label", "configmap", "settings", f"test={ns}", "tier=backend")
    kubectl.run("-n", ns, "label", "deployment", "web", f"test={ns}")
    kubectl.run("-n", ns, "rollout", "status", "deployment/web", WAIT)
    kubectl.run("-n", ns, "wait", "--for=condition=Ready", "pod", "-l", "app=web", WAIT)
    return ns


def test_tables_as_kubectl_prints_them(kubectl: Kubectl, web: str) -> None:
    n = ("-n", web)
    same(kubectl, *n, "get", "pods")
    same(kubectl, *n, "get", "pods", "-o", "wide")
    same(kubectl, *n, "get", "deployments")
    same(kubectl, *n, "get", "deploy", "web", "-o", "wide")
    same(kubectl, *n, "get", "configmap", "settings", "kube-root-ca.crt")
    same(kubectl, *n, "get", "cm/settings")
    same(kubectl, *n, "get", "pods", "--show-labels")
    same(kubectl, *n, "get", "pods", "-L", "app", "-L", "pod-template-hash,missing")
    same(kubectl, *n, "get", "pods", "--no-headers")
    same(kubectl, *n, "get", "pods", "-l", "app=web", "--show-kind")
    same(kubectl, "get", "nodes")
    same(kubectl, "get", "namespace", web)


def test_several_kinds_print_one_table_each_with_kind_names(kubectl: Kubectl, web: str) -> None:
    n = ("-n", web)
    same(kubectl, *n, "get", "deploy,rs,pods")
    same(kubectl, *n, "get", "cm/settings", "deploy/web")
    same(kubectl, *n, "get", "deploy,cm", "--no-headers")
    # an empty kind prints nothing, not even the blank line before the next table
    same(kubectl, *n, "get", "cm,pods", "-l", "app=web")
    same(kubectl, *n, "get", "pods,cm", "-l", "app=web")
    same(kubectl, *n, "get", "all")  # the category: pods, services, deployments, ...
    same(kubectl, *n, "get", "all,cm", "-o", "name")


def test_selectors_and_all_namespaces(kubectl: Kubectl, web: str) -> None:
    same(kubectl, "-n", web, "get", "cm", "-l", "tier=backend")
    same(kubectl, "-n", web, "get", "cm", "-l", "tier in (backend,frontend),mode!=slow")
    same(kubectl, "-n", web, "get", "cm", "--field-selector", "metadata.name=settings")
    same(kubectl, "get", "cm,deploy", "-A", "-l", f"test={web}")
    same(kubectl, "get", "cm", "-A", "-l", f"test={web}", "--show-labels")
    same(kubectl, "get", "nodes,cm", "-A", "-l", f"test={web}")


def test_sort_by_and_raw(kubectl: Kubectl, web: str) -> None:
    n = ("-n", web)
    for name in ("n10", "n9", "a1"):
        kubectl.run(*n, "create", "configmap", name)
    same(kubectl, *n, "get", "cm", "--sort-by=.metadata.name")
    same(kubectl, *n, "get", "cm", "--sort-by={.metadata.name}", "-o", "name")
    same(kubectl, *n, "get", "pods", "--sort-by=status.containerStatuses[0].restartCount")
    same(kubectl, *n, "get", "cm", "--sort-by=.metadata.nothing")  # no rows, "No resources"
    same(kubectl, *n, "get", "cm", "--sort-by=.metadata.nothing", "-o", "name")
    same(kubectl, "get", "--raw", f"/api/v1/namespaces/{web}/configmaps/settings")
    same(kubectl, "get", "--raw", "/healthz")
    same(kubectl, "get", "--raw", "/nothing/here")
    same(kubectl, "get", "cm", "--raw", "/healthz")


def test_nothing_found(kubectl: Kubectl, ns: str) -> None:
    result = same(kubectl, "-n", ns, "get", "pods")
    assert result.err == f"No resources found in {ns} namespace.\n"
    same(kubectl, "-n", ns, "get", "cm", "-l", "nothing=here")
    same(kubectl, "get", "nodes", "-l", "nothing=here")
    same(kubectl, "get", "pods", "-A", "-l", "nothing=here")
    same(kubectl, "-n", ns, "get", "pods", "--ignore-not-found")


def test_not_found_names_are_reported_after_what_was_found(kubectl: Kubectl, web: str) -> None:
    n = ("-n", web)
    result = same(kubectl, *n, "get", "pods", "nosuch")
    assert result.err == 'Error from server (NotFound): pods "nosuch" not found\n'
    assert result.code == 1
    same(kubectl, *n, "get", "cm", "settings", "nosuch", "other")
    same(kubectl, *n, "get", "pods,cm", "nosuch")
    same(kubectl, *n, "get", "cm", "nosuch", "--ignore-not-found")
    same(kubectl, *n, "get", "cm", "nosuch", "-o", "yaml")
    same(kubectl, *n, "get", "cm", "settings", "nosuch", "-o", "name")


def test_usage_errors(kubectl: Kubectl, ns: str) -> None:
    n = ("-n", ns)
    same(kubectl, *n, "get")
    same(kubectl, *n, "get", "nosuchkind")
    same(kubectl, *n, "get", "cm", "x", "-l", "a=b")
    same(kubectl, *n, "get", "cm/x", "pods")
    same(kubectl, *n, "get", "cm", "-o", "nosuchformat")
    same(kubectl, *n, "get", "cm", "-o", "jsonpath")
    same(kubectl, *n, "get", "cm", "-o", "jsonpath={.items[*].metadata.name")


def test_yaml_json_and_name(kubectl: Kubectl, web: str) -> None:
    n = ("-n", web)
    kubectl.run(
        *n,
        "annotate",
        "cm",
        "settings",
        "note=a long sentence " + "word " * 30,
        "number=12",
        "flag=true",
        "multi=one\ntwo",
        "spaced= lead",
        "k2=y",
        "k10=1e3",
        "k1=0o17",
        "colon=x: y",
    )
    same(kubectl, *n, "get", "cm", "settings", "-o", "yaml")
    same(kubectl, *n, "get", "cm", "settings", "-o", "json")
    same(kubectl, *n, "get", "cm", "-l", "tier=backend", "-o", "yaml")
    same(kubectl, *n, "get", "cm", "-l", "nothing=here", "-o", "json")
    same(kubectl, *n, "get", "deploy", "web", "-o", "yaml")
    same(kubectl, *n, "get", "cm/settings", "deploy/web", "-o", "json")
    same(kubectl, *n, "get", "deploy,cm", "-o", "name")
    same(kubectl, *n, "get", "pods", "-o", "name")
    same(kubectl, *n, "get", "cm", "settings", "-o", "yaml", "--show-managed-fields")


def test_jsonpath_and_custom_columns(kubectl: Kubectl, web: str) -> None:
    n = ("-n", web)
    same(kubectl, *n, "get", "cm", "settings", "-o", "jsonpath={.metadata.name} {.data}")
    same(kubectl, *n, "get", "cm", "-o", "jsonpath={.items[*].metadata.name}")
    same(
        kubectl,
        *n,
        "get",
        "pods",
        "-o",
        'jsonpath={range .items[*]}{.metadata.labels.app}{"\\t"}{.status.phase}{"\\n"}{end}',
    )
    same(
        kubectl,
        *n,
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].command} "
        '{.status.conditions[?(@.type=="Available")].status} {.spec.paused} {..image}',
    )
    same(kubectl, *n, "get", "cm", "-o", "jsonpath={.items[0:1].metadata.name}|{.items[-1].kind}")
    # a template that fails shows the object it was given, in Go's syntax
    same(kubectl, *n, "get", "cm", "settings", "-o", "jsonpath={.data.mode[3]}")
    same(kubectl, *n, "get", "cm", "-o", "jsonpath={.items[7]}")
    same(
        kubectl,
        *n,
        "get",
        "cm",
        "-o",
        "custom-columns=NAME:.metadata.name,MODE:.data.mode,TIER:metadata.labels.tier",
    )
    same(kubectl, *n, "get", "pods", "-o", "custom-columns=IP:.status.podIP", "--no-headers")


# ------------------------------------------------------------------------------- get -w


def _builtin_process(kubectl: Kubectl, *args: str) -> subprocess.Popen[str]:
    """The built-in kubectl as a user runs it: ``minikube-py kubectl --builtin -- ...``."""
    command = [
        sys.executable,
        "-m",
        "minikube_py",
        "kubectl",
        "--builtin",
        "--",
        "--kubeconfig",
        kubectl.env["KUBECONFIG"],
        *args,
    ]
    return subprocess.Popen(
        command,
        env=kubectl.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


class Lines:
    """A process's standard output, line by line, read by a thread (reads never block us)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert process.stdout is not None
        stream = process.stdout
        threading.Thread(target=lambda: [self.lines.put(x) for x in stream], daemon=True).start()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[str]:
        """The first ``count`` lines, or fail after ``timeout`` seconds."""
        while len(self.seen) < count:
            try:
                self.seen.append(self.lines.get(timeout=timeout))
            except queue.Empty:
                raise AssertionError(f"only {self.seen} after {timeout}s") from None
        return self.seen

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.kill()  # our own child, by its pid
        self.process.wait(10)


@pytest.mark.parametrize("flags", [(), ("--output-watch-events",), ("-o", "name")])
def test_watch_prints_a_line_per_change(kubectl: Kubectl, ns: str, flags: tuple[str, ...]) -> None:
    kubectl.run("-n", ns, "create", "configmap", "first")
    args = ("-n", ns, "get", "configmaps", "-w", *flags)
    header = 0 if flags == ("-o", "name") else 1
    watchers = [Lines(kubectl.popen(*args)), Lines(_builtin_process(kubectl, *args))]
    try:
        for watcher in watchers:  # both printed the list before anything changes
            watcher.wait_for(header + 2)  # first and kube-root-ca.crt
        kubectl.run("-n", ns, "create", "configmap", "second")
        kubectl.run("-n", ns, "label", "configmap", "second", "changed=yes")
        kubectl.run("-n", ns, "delete", "configmap", "second")
        expected, got = (mask("".join(w.wait_for(header + 5))) for w in watchers)
    finally:
        for watcher in watchers:
            watcher.end()
    assert got == expected
    assert expected.count("second") == 3


def test_watch_ends_with_the_request_timeout(kubectl: Kubectl, web: str) -> None:
    # both kubectls watch at once (same_at_once): each command lasts its request timeout
    n = ("-n", web)
    same_at_once(kubectl, *n, "get", "cm", "-w", "--request-timeout=2s")
    same_at_once(kubectl, *n, "get", "deploy", "web", "-w", "--request-timeout=2s")
    same_at_once(kubectl, *n, "get", "cm", "-l", "nothing=here", "-w", "--request-timeout=1s")
    same_at_once(kubectl, *n, "get", "cm,pods", "-w", "--request-timeout=1s")
    events = ("-w", "--output-watch-events", "--request-timeout=1s")
    same_at_once(kubectl, *n, "get", "cm", *events, "-o", "json")
    same_at_once(kubectl, *n, "get", "cm", *events, "-o", "yaml")
    same_at_once(
        kubectl, *n, "get", "cm", *events, "-o", "custom-columns=NAME:.object.metadata.name"
    )


def test_real_and_builtin_agree_on_exit_codes(kubectl: Kubectl, ns: str) -> None:
    # the harness itself: a difference is caught, so the golden tests above can fail
    assert real(kubectl, "-n", ns, "get", "pods", "nosuch").code == 1
    assert builtin(kubectl, "-n", ns, "get", "pods", "nosuch").code == 1
    assert builtin(kubectl, "-n", ns, "get", "namespaces").code == 0
