"""Golden tests of the built-in ``kubectl delete``, ``scale`` and ``version``.

``delete`` and ``scale`` change what they act on, so each comparison sets the objects up
afresh before the real kubectl runs and again before the built-in one does (``same_after``);
then the tests check the effect too — the objects are gone, the replicas changed.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import yaml

from tests.e2e.conftest import Kubectl
from tests.e2e.kubectl.golden import Result, builtin, mask, real, same

WAIT = "--timeout=60s"


def same_after(kubectl: Kubectl, setup: Callable[[], None], *args: str) -> Result:
    """``setup()`` then the real kubectl, ``setup()`` again then the built-in one; both print
    the same (masked). The built-in one's result."""
    setup()
    expected = real(kubectl, *args)
    setup()
    got = builtin(kubectl, *args)
    shown = " ".join(args)
    assert mask(got.out) == mask(expected.out), f"kubectl {shown}: stdout differs"
    assert mask(got.err) == mask(expected.err), f"kubectl {shown}: stderr differs"
    assert got.code == expected.code, f"kubectl {shown}: exit {got.code}, kubectl {expected.code}"
    return got


def configmaps(kubectl: Kubectl, ns: str, *names: str) -> Callable[[], None]:
    """A setup making ConfigMaps ``names``, labelled ``x=y``."""

    def setup() -> None:
        for name in names:
            kubectl.run("-n", ns, "create", "configmap", name, check=False)
        kubectl.run("-n", ns, "label", "cm", *names, "x=y", "--overwrite")

    return setup


def names_in(kubectl: Kubectl, ns: str, kind: str) -> list[str]:
    return kubectl.out("-n", ns, "get", kind, "-o", "name").split()


# ------------------------------------------------------------------------------ delete


def test_delete_by_name_kind_slash_name_and_file(kubectl: Kubectl, ns: str) -> None:
    n = ("-n", ns)
    setup = configmaps(kubectl, ns, "a", "b")
    same_after(kubectl, setup, *n, "delete", "configmap", "a", "b")
    assert names_in(kubectl, ns, "cm") == ["configmap/kube-root-ca.crt"]
    same_after(kubectl, setup, *n, "delete", "cm/a", "configmap/b")
    same_after(kubectl, setup, *n, "delete", "cm", "a", "-o", "name")
    manifest = kubectl.write(
        f"{ns}.yaml",
        "".join(
            f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n" for name in "ab"
        ),
    )
    same_after(kubectl, setup, *n, "delete", "-f", str(manifest))
    same_after(kubectl, configmaps(kubectl, ns, "a"), *n, "delete", "-f", str(manifest))


def test_delete_what_a_selector_or_all_picks(kubectl: Kubectl, ns: str) -> None:
    n = ("-n", ns)
    setup = configmaps(kubectl, ns, "a", "b")
    same_after(kubectl, setup, *n, "delete", "cm", "-l", "x=y")
    assert names_in(kubectl, ns, "cm") == ["configmap/kube-root-ca.crt"]
    result = same_after(kubectl, setup, *n, "delete", "cm", "-l", "x=nothing")
    assert result.out == "No resources found\n"
    same_after(kubectl, setup, *n, "delete", "cm", "--field-selector", "metadata.name=a")
    same_after(kubectl, setup, "delete", "cm", "-l", "x=y", "-A")


def test_delete_dry_run_deletes_nothing(kubectl: Kubectl, ns: str) -> None:
    n = ("-n", ns)
    setup = configmaps(kubectl, ns, "a")
    result = same_after(kubectl, setup, *n, "delete", "cm", "a", "--dry-run=server")
    assert result.out == 'configmap "a" deleted (server dry run)\n'
    same_after(kubectl, setup, *n, "delete", "cm", "-l", "x=y", "--dry-run=client")
    same_after(kubectl, setup, *n, "delete", "cm", "a", "--dry-run=client", "-o", "name")
    same(kubectl, *n, "delete", "cm", "a", "--dry-run=sometimes")
    assert names_in(kubectl, ns, "cm") == ["configmap/a", "configmap/kube-root-ca.crt"]


def test_delete_not_found(kubectl: Kubectl, ns: str) -> None:
    n = ("-n", ns)
    setup = configmaps(kubectl, ns, "a")
    result = same_after(kubectl, setup, *n, "delete", "cm", "a", "nosuch")
    assert result.err == 'Error from server (NotFound): configmaps "nosuch" not found\n'
    same_after(kubectl, setup, *n, "delete", "cm", "nosuch", "--ignore-not-found")
    same(kubectl, *n, "delete", "cm", "nosuch")


def test_delete_grace_force_and_usage_errors(kubectl: Kubectl, ns: str) -> None:
    n = ("-n", ns)
    setup = configmaps(kubectl, ns, "a")
    result = same_after(kubectl, setup, *n, "delete", "cm", "a", "--force")
    assert result.err.startswith("Warning: Immediate deletion does not wait")
    assert result.out == 'configmap "a" force deleted\n'
    same_after(kubectl, setup, *n, "delete", "cm", "a", "--grace-period=0", "--force")
    same_after(kubectl, setup, *n, "delete", "cm", "a", "--now")
    same_after(kubectl, setup, *n, "delete", "cm", "a", "--grace-period=0")
    same_after(kubectl, setup, *n, "delete", "cm", "a", "--wait=false")
    for wrong in (
        ("cm", "a", "--now", "--force"),
        ("cm", "a", "--now", "--grace-period=5"),
        ("cm", "a", "--force", "--grace-period=5"),
        ("cm", "a", "--cascade=sideways"),
        ("cm",),
        (),
        ("cm", "a", "--all"),
        ("cm", "--all", "-l", "x=y"),
        ("cm/a", "b"),
    ):
        same(kubectl, *n, "delete", *wrong)


def test_delete_waits_until_a_pod_is_gone(kubectl: Kubectl, ns: str) -> None:
    n = ("-n", ns)

    def setup() -> None:
        kubectl.run(*n, "run", "sleeper", "--image=busybox", "--", "sleep", "3600")
        kubectl.run(*n, "wait", "--for=condition=Ready", "pod/sleeper", WAIT)

    same_after(kubectl, setup, *n, "delete", "pod", "sleeper")
    # --wait is on: when delete returns, the pod's containers stopped and the pod is gone
    assert "NotFound" in kubectl.fails(*n, "get", "pod", "sleeper")


@pytest.mark.parametrize("cascade", ["background", "foreground", "orphan"])
def test_delete_cascade(kubectl: Kubectl, ns: str, cascade: str) -> None:
    n = ("-n", ns)

    def setup() -> None:
        kubectl.run(*n, "create", "deployment", "web", "--image=busybox", "--", "sleep", "3600")
        kubectl.run(*n, "rollout", "status", "deployment/web", WAIT)

    same_after(kubectl, setup, *n, "delete", "deployment", "web", f"--cascade={cascade}")
    replicasets = names_in(kubectl, ns, "replicasets")
    if cascade == "orphan":  # the ReplicaSet stays, no longer owned
        assert replicasets
        kubectl.run(*n, "delete", "rs", "--all")
    elif cascade == "foreground":  # delete waited for the deployment, so its dependents went
        assert replicasets == []


# ------------------------------------------------------------------------------- scale


@pytest.fixture
def deployment(kubectl: Kubectl, ns: str) -> str:
    kubectl.run(
        "-n",
        ns,
        "create",
        "deployment",
        "web",
        "--image=busybox",
        "--replicas=1",
        "--",
        "sleep",
        "3600",
    )
    return ns


def replicas(kubectl: Kubectl, ns: str) -> int:
    return int(kubectl.out("-n", ns, "get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"))


def test_scale(kubectl: Kubectl, deployment: str) -> None:
    n = ("-n", deployment)

    def at(count: int) -> Callable[[], None]:
        return lambda: kubectl.run(*n, "scale", "deploy/web", f"--replicas={count}")

    result = same_after(kubectl, at(1), *n, "scale", "deployment/web", "--replicas=2")
    assert result.out == "deployment.apps/web scaled\n"
    assert replicas(kubectl, deployment) == 2
    same_after(kubectl, at(1), *n, "scale", "deploy", "web", "--replicas=0", "-o", "name")
    assert replicas(kubectl, deployment) == 0
    same_after(kubectl, at(1), *n, "scale", "deploy", "--all", "--replicas=3")
    same_after(kubectl, at(1), *n, "scale", "deploy", "-l", "app=web", "--replicas=1")
    same_after(kubectl, at(2), *n, "scale", "deploy/web", "--current-replicas=2", "--replicas=1")
    assert replicas(kubectl, deployment) == 1
    result = same_after(
        kubectl, at(2), *n, "scale", "deploy/web", "--current-replicas=5", "--replicas=1"
    )
    assert result.err == "error: Expected replicas to be 5, was 2\n"
    assert replicas(kubectl, deployment) == 2


def test_scale_errors(kubectl: Kubectl, deployment: str) -> None:
    n = ("-n", deployment)
    kubectl.run(*n, "create", "configmap", "plain")
    same(kubectl, *n, "scale", "deploy", "nosuch", "--replicas=1")
    same(kubectl, *n, "scale", "deploy", "web", "nosuch", "--replicas=1")
    same(kubectl, *n, "scale", "deploy", "--replicas=1")
    same(kubectl, *n, "scale", "deploy", "web", "--replicas=-1")
    same(kubectl, *n, "scale", "configmap", "plain", "--replicas=1")


# ----------------------------------------------------------------------------- version


def test_version_reports_the_server_and_names_this_client(kubectl: Kubectl) -> None:
    expected, got = real(kubectl, "version"), builtin(kubectl, "version")
    server_line = [line for line in expected.out.splitlines() if line.startswith("Server")]
    assert [line for line in got.out.splitlines() if line.startswith("Server")] == server_line
    assert got.out.startswith("Client Version: v") and "minikube-py" in got.out.splitlines()[0]
    for output, load in (("json", json.loads), ("yaml", yaml.safe_load)):
        theirs = load(real(kubectl, "version", "-o", output).out)
        ours = load(builtin(kubectl, "version", "-o", output).out)
        assert ours["serverVersion"] == theirs["serverVersion"]
        assert sorted(ours["clientVersion"]) == sorted(theirs["clientVersion"])
    client_only = builtin(kubectl, "version", "--client")
    assert client_only.out == got.out.splitlines()[0] + "\n"
    assert "serverVersion" not in json.loads(
        builtin(kubectl, "version", "--client", "-o", "json").out
    )
    same(kubectl, "version", "-o", "xml")
