"""A non-Python program's wildcard bind blocks another pod, and the blocked pod says so.

All pods of the process runtime share the host's network. The first pod runs a non-Python
listener on ``0.0.0.0:<port>``: Perl (a host program found on the container's PATH), because
the busybox image's ``nc`` is a Python stand-in whose wildcard bind the runtime's start-up
hook would rewrite to ``$POD_IP``. The second pod's Python server binds ``$POD_IP:<port>``
(the hook rewrites its ``0.0.0.0``) and fails with "address already in use"; the kubelet then
records a ``PortConflict`` event naming the first pod and puts the same words in the
container's terminated message. Once the first program binds ``$POD_IP``, both run.
"""

from __future__ import annotations

import shutil
import socket
from typing import Any

import pytest

from tests.e2e.conftest import Kubectl
from tests.e2e.test_pods import WAIT, apply, container_status, eventually

pytestmark = pytest.mark.skipif(shutil.which("perl") is None, reason="needs a host perl")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("0.0.0.0", 0))
        return int(probe.getsockname()[1])


def _pod(name: str, image: str, command: list[str], port: int) -> dict[str, Any]:
    container = {"name": "main", "image": image, "command": command}
    container["ports"] = [{"containerPort": port}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "containers": [container],
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 1,
        },
    }


def perl_listener(name: str, port: int, *, wildcard: bool) -> dict[str, Any]:
    """Perl listening on ``$BIND``: the wildcard, or the pod's address (downward API)."""
    script = (
        "$| = 1; my $s = IO::Socket::INET->new(LocalAddr => $ENV{BIND}, LocalPort => $ARGV[0], "
        "Listen => 5, ReuseAddr => 1) or die qq(bind: $!\\n); print qq(listening\\n); sleep 600"
    )
    manifest = _pod(
        name, "busybox:1.36", ["perl", "-MIO::Socket::INET", "-e", script, str(port)], port
    )
    bind: dict[str, Any] = {"name": "BIND", "value": "0.0.0.0"}
    if not wildcard:
        bind = {"name": "BIND", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}
    manifest["spec"]["containers"][0]["env"] = [bind]
    return manifest


def python_server(name: str, port: int) -> dict[str, Any]:
    code = (
        "import socket, time\n"
        f"s = socket.socket(); s.bind(('0.0.0.0', {port})); s.listen()\n"  # the hook: $POD_IP
        "print('listening', flush=True); time.sleep(600)\n"
    )
    return _pod(name, "python:3.12", ["python3", "-c", code], port)


def _listening(kubectl: Kubectl, name: str) -> None:
    kubectl.out("wait", "--for=condition=Ready", f"pod/{name}", WAIT)
    eventually(lambda: "listening" in kubectl.out("logs", name))


def test_a_wildcard_listener_blocks_the_next_pod_which_is_told_why(
    kubectl: Kubectl, unique: Any
) -> None:
    port = _free_port()
    holder, blocked = unique("wild"), unique("blocked")
    fixed, beside = unique("fixed"), unique("beside")
    try:
        apply(kubectl, perl_listener(holder, port, wildcard=True))
        _listening(kubectl, holder)
        apply(kubectl, python_server(blocked, port))

        def terminated() -> dict[str, Any]:
            state = container_status(kubectl, blocked).get("state") or {}
            return dict(state.get("terminated") or {})

        ended = eventually(terminated)
        assert (ended["reason"], ended["exitCode"]) == ("Error", 1)
        assert "Address already in use" in kubectl.out("logs", blocked)
        message = ended["message"]
        assert message.startswith(
            f"port {port} is held on every address by pod default/{holder} (process perl, pid "
        )
        assert message.endswith(
            f"which bound 0.0.0.0:{port}; in minikube_py pods share the host's network, so "
            "make that program bind $POD_IP instead"
        )
        events = kubectl.json(
            "get",
            "events",
            "--field-selector",
            f"involvedObject.name={blocked},reason=PortConflict",
        )["items"]
        assert [(e["type"], e["message"]) for e in events] == [("Warning", message)]
        assert events[0]["involvedObject"]["fieldPath"] == "spec.containers{main}"
        assert "PortConflict" in kubectl.out("describe", "pod", blocked)

        # The fix the message names: the non-Python program binds its pod's address.
        kubectl.out("delete", "pod", holder, blocked, "--wait=true")
        apply(kubectl, perl_listener(fixed, port, wildcard=False))
        _listening(kubectl, fixed)
        apply(kubectl, python_server(beside, port))
        _listening(kubectl, beside)
    finally:
        everything = (holder, blocked, fixed, beside)
        kubectl.run("delete", "pod", *everything, "--ignore-not-found", "--wait=false", check=False)
