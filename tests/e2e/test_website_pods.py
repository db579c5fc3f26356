"""The Kubernetes website's Pod examples, applied unchanged with the real kubectl, reaching the
state the documentation describes (phase, container state, log lines, qosClass, events).

The manifests are the corpus files under ``corpus/website-examples/`` (byte-for-byte copies of
``kubernetes/website``'s ``content/en/examples``). Only examples whose images are built in run
to their documented end; those naming other images must end in ``ImagePullBackOff`` with the
hint to build the image. One example fetches a page from the internet, which a test may not
reach: it runs with that URL pointed at a loopback stand-in. Examples that need what later
issues bring (ConfigMaps in the environment) are written as the documentation reads and marked
``xfail(strict=True)`` with exactly what is missing, so they start passing — and must be
unmarked — when it lands. Every pod is deleted with ``--wait``.
"""

from __future__ import annotations

import http.server
import ipaddress
import json
import random
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import Kubectl, network_plan
from tests.e2e.test_pods import WAIT, eventually, pod, status_column

EXAMPLES = Path(__file__).parent / "corpus" / "website-examples"


def example(path: str) -> str:
    return str(EXAMPLES / path)


@pytest.fixture
def applied(kubectl: Kubectl) -> Iterator[Any]:
    """``applied("pods/x.yaml", namespace=...)`` applies an example; its pods are deleted (and
    waited for) after the test, then any namespace it was given."""
    made: list[tuple[str, str | None]] = []

    def apply(path: str, *, namespace: str | None = None) -> None:
        if namespace is not None and not any(ns == namespace for _, ns in made):
            kubectl.out("create", "namespace", namespace)
        made.append((path, namespace))
        kubectl.out("apply", "-f", example(path))

    yield apply
    for path, _ in reversed(made):
        kubectl.run(
            "delete", "-f", example(path), "--wait=true", "--ignore-not-found", "--timeout=60s"
        )
    for namespace in dict.fromkeys(ns for _, ns in made if ns is not None):
        kubectl.out("delete", "namespace", namespace, "--wait=true", "--timeout=60s")


def _container(
    kubectl: Kubectl, name: str, *, init: bool = False, namespace: str = "default"
) -> Any:
    field = "initContainerStatuses" if init else "containerStatuses"
    statuses = kubectl.json("get", "pod", name, "-n", namespace)["status"].get(field) or [{}]
    return statuses[0]


def _terminated(kubectl: Kubectl, name: str, *, init: bool = False) -> dict[str, Any]:
    """The first (init) container's terminated state, once it has ended."""

    def ended() -> dict[str, Any] | None:
        state = _container(kubectl, name, init=init).get("state") or {}
        return state.get("terminated")

    found: dict[str, Any] = eventually(ended)
    return found


def _logs_with(kubectl: Kubectl, name: str, *lines: str) -> list[str]:
    """The pod's log lines, once all of ``lines`` are among them."""

    def seen() -> list[str] | None:
        got = kubectl.run("logs", name, check=False).stdout.splitlines()
        return got if all(line in got for line in lines) else None

    found: list[str] = eventually(seen, seconds=30)
    return found


def test_pod_with_toleration_runs_nginx(kubectl: Kubectl, applied: Any) -> None:
    applied("pods/pod-with-toleration.yaml")
    kubectl.out("wait", "--for=condition=Ready", "pod/nginx", WAIT)
    status = pod(kubectl, "nginx")["status"]
    assert status["phase"] == "Running"
    with urllib.request.urlopen(f"http://{status['podIP']}:80/", timeout=10) as answer:
        assert "Welcome to nginx!" in answer.read().decode()


def test_dependent_environment_variables_expand_in_order(kubectl: Kubectl, applied: Any) -> None:
    applied("pods/inject/dependent-envars.yaml")
    kubectl.out("wait", "--for=condition=Ready", "pod/dependent-envars-demo", WAIT)
    # $(PROTOCOL) is defined after UNCHANGED_REFERENCE, so it stays as written there.
    _logs_with(
        kubectl,
        "dependent-envars-demo",
        "UNCHANGED_REFERENCE=$(PROTOCOL)://172.17.0.1:80",
        "SERVICE_ADDRESS=https://172.17.0.1:80",
        "ESCAPED_REFERENCE=https://172.17.0.1:80",
    )


@pytest.fixture
def dapi_envars(kubectl: Kubectl, applied: Any) -> list[str]:
    """dapi-envars-pod.yaml's log: it prints five downward-API variables every 10 s."""
    applied("pods/inject/dapi-envars-pod.yaml")
    kubectl.out("wait", "--for=condition=Ready", "pod/dapi-envars-fieldref", WAIT)
    status = pod(kubectl, "dapi-envars-fieldref")
    node, address = status["spec"]["nodeName"], status["status"]["podIP"]
    return _logs_with(kubectl, "dapi-envars-fieldref", node, "dapi-envars-fieldref", address)


def test_downward_api_fields_in_the_environment(kubectl: Kubectl, dapi_envars: list[str]) -> None:
    # printenv MY_NODE_NAME MY_POD_NAME MY_POD_NAMESPACE, then MY_POD_IP MY_POD_SERVICE_ACCOUNT
    first = dapi_envars.index("minikube")
    assert dapi_envars[first : first + 3] == ["minikube", "dapi-envars-fieldref", "default"]
    pod_range = ipaddress.ip_network(network_plan(kubectl).pod_cidr(0))
    assert ipaddress.ip_address(dapi_envars[first + 3]) in pod_range


def test_downward_api_service_account_name(kubectl: Kubectl, dapi_envars: list[str]) -> None:
    first = dapi_envars.index("minikube")
    assert dapi_envars[first + 4] == "default"


def test_qos_pod_with_one_request_is_burstable(kubectl: Kubectl, applied: Any) -> None:
    applied("pods/qos/qos-pod-4.yaml", namespace="qos-example")
    kubectl.out("wait", "--for=condition=Ready", "pod/qos-demo-4", "-n", "qos-example", WAIT)
    got = kubectl.json("get", "pod", "qos-demo-4", "-n", "qos-example")
    assert got["status"]["qosClass"] == "Burstable"
    ready = {s["name"]: s["ready"] for s in got["status"]["containerStatuses"]}
    assert ready == {"qos-demo-4-ctr-1": True, "qos-demo-4-ctr-2": True}


def test_redis_pod_answers_its_own_redis_cli(kubectl: Kubectl, applied: Any) -> None:
    applied("application/job/redis/redis-pod.yaml")
    kubectl.out("wait", "--for=condition=Ready", "pod/redis-master", WAIT)
    assert kubectl.out("exec", "redis-master", "--", "redis-cli", "ping") == "PONG\n"
    assert kubectl.out("exec", "redis-master", "--", "redis-cli", "set", "k", "v") == "OK\n"
    assert kubectl.out("exec", "redis-master", "--", "redis-cli", "get", "k") == "v\n"


def test_exec_liveness_probe_restarts_the_container(kubectl: Kubectl, unique: Any) -> None:
    """The docs: healthy for 30 s, then ``cat /tmp/healthy`` fails three times (every 5 s) and
    the kubelet kills and restarts the container. The script's ``touch /tmp/healthy`` runs in
    a shell, whose absolute paths are the host's in the process runtime (DESIGN.md's known
    limit); the probe's ``cat /tmp/healthy`` finds no such file under the container root and
    reads the host's too, so the two agree and the documented timeline holds.

    Scaled down in time: the stored manifest is checked to be the page's and accepted as it is
    (a server-side dry run), then a copy runs with every duration divided by ten or so —
    healthy for 3 s, probed every second after 1 s, same three failures — so the same
    mechanism (exec probe passes, file removed, three failures, kill, restart) takes a few
    seconds instead of the page's 45. The file gets a name of this run's own: the host's /tmp
    is shared with every other cluster on the machine."""
    path = example("pods/probe/exec-liveness.yaml")
    original = yaml.safe_load(Path(path).read_text())
    [container] = original["spec"]["containers"]
    script = "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"
    assert container["args"] == ["/bin/sh", "-c", script], container
    probe = container["livenessProbe"]
    assert probe == {
        "exec": {"command": ["cat", "/tmp/healthy"]},
        "initialDelaySeconds": 5,
        "periodSeconds": 5,
    }, probe
    said = kubectl.out("apply", "--dry-run=server", "-f", path)
    assert said == "pod/liveness-exec created (server dry run)\n"

    marker = f"/tmp/{unique('healthy')}"
    container["args"][2] = f"touch {marker}; sleep 3; rm -f {marker}; sleep 600"
    probe.update(exec={"command": ["cat", marker]}, initialDelaySeconds=1, periodSeconds=1)
    kubectl.out("apply", "-f", "-", stdin=json.dumps(original))
    try:
        kubectl.out("wait", "--for=condition=Ready", "pod/liveness-exec", WAIT)
        eventually(lambda: _container(kubectl, "liveness-exec").get("restartCount", 0) >= 1)
        described = kubectl.out("describe", "pod", "liveness-exec")
    finally:
        kubectl.run("delete", "pod", "liveness-exec", "--wait=true", "--ignore-not-found", WAIT)
        Path(marker).unlink(missing_ok=True)
    # busybox says "cat: can't open '/tmp/healthy': …"; the host's cat names itself by the
    # path the runtime resolved (/usr/bin/cat) and words it its own way.
    assert "Liveness probe failed: " in described, described
    assert f"{marker}: No such file or directory" in described
    assert "Container liveness failed liveness probe, will be restarted" in described


@pytest.mark.parametrize(
    ("path", "name", "image"),
    [
        ("pods/probe/http-liveness.yaml", "liveness-http", "k8s.gcr.io/liveness"),
        ("pods/probe/tcp-liveness-readiness.yaml", "goproxy", "registry.k8s.io/goproxy:0.1"),
    ],
)
def test_examples_with_images_not_built_in_wait_for_a_build(
    kubectl: Kubectl, applied: Any, path: str, name: str, image: str
) -> None:
    applied(path)
    eventually(lambda: status_column(kubectl, name) == "ImagePullBackOff")
    waiting = _container(kubectl, name)["state"]["waiting"]
    assert f"minikube-py image build -t {image}" in waiting["message"]
    events = kubectl.out("describe", "pod", name)
    assert f'Failed to pull image "{image}"' in events or "ErrImagePull" in events


def test_multi_container_shared_volume(kubectl: Kubectl, applied: Any) -> None:
    applied("pods/multi-container/shared-volume.yaml")
    writer = _terminated(kubectl, "shared-volume-example", init=True)
    assert writer["reason"] == "Completed", writer
    kubectl.out("wait", "--for=condition=Ready", "pod/shared-volume-example", WAIT)
    address = pod(kubectl, "shared-volume-example")["status"]["podIP"]
    with urllib.request.urlopen(f"http://{address}:80/", timeout=10) as answer:
        assert answer.read().decode() == "Hello from the init container\n"


@pytest.fixture
def cern_stand_in() -> Iterator[str]:
    """A loopback stand-in for http://info.cern.ch (tests reach no other address): a page
    with that title, on an address of no cluster plan and not 127.0.0.1 (which a container's
    programs take for their own pod)."""
    page = b"<html><head><title>http://info.cern.ch</title></head><body>stand-in</body></html>"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    address = f"127.77.{random.randrange(256)}.{random.randrange(2, 255)}"
    server = http.server.ThreadingHTTPServer((address, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{address}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_init_container_fills_the_web_root(kubectl: Kubectl, cern_stand_in: str) -> None:
    # The example as written, but for its one URL: the test may reach loopback addresses only.
    manifest = Path(example("pods/init-containers.yaml")).read_text()
    assert "http://info.cern.ch" in manifest
    kubectl.out("apply", "-f", "-", stdin=manifest.replace("http://info.cern.ch", cern_stand_in))
    try:
        install = _terminated(kubectl, "init-demo", init=True)
        assert install["reason"] == "Completed", install
        kubectl.out("wait", "--for=condition=Ready", "pod/init-demo", WAIT)
        address = pod(kubectl, "init-demo")["status"]["podIP"]
        with urllib.request.urlopen(f"http://{address}:80/", timeout=10) as answer:
            assert "<title>http://info.cern.ch</title>" in answer.read().decode()
    finally:
        kubectl.run("delete", "pod", "init-demo", "--wait=true", "--timeout=60s")


def test_config_map_as_environment(kubectl: Kubectl, applied: Any) -> None:
    applied("configmap/configmaps.yaml")
    applied("pods/pod-configmap-envFrom.yaml")
    # the container runs `env` and ends: a status may show it running for a moment first
    ended = _terminated(kubectl, "dapi-test-pod")
    assert ended["reason"] == "Completed", ended
    assert "special.how=very" in kubectl.out("logs", "dapi-test-pod").splitlines()


def test_custom_dns_config_in_resolv_conf(kubectl: Kubectl, applied: Any) -> None:
    applied("service/networking/custom-dns.yaml")
    kubectl.out("wait", "--for=condition=Ready", "pod/dns-example", WAIT)
    resolv = kubectl.out("exec", "dns-example", "--", "cat", "/etc/resolv.conf").splitlines()
    assert resolv == [
        "nameserver 192.0.2.1",
        "search ns1.svc.cluster-domain.example my.dns.search.suffix",
        "options ndots:2 edns0",
    ]


def test_secret_with_a_dotfile_mounted_as_a_volume(kubectl: Kubectl, applied: Any) -> None:
    """tasks/configmap-secret (Secrets, "Secret with a dot file"): the Secret's key
    ``.secret-file`` is a hidden file in the volume, so ``ls -l`` lists nothing but ``total
    0``; the container exits and is restarted, as on the page."""
    applied("secret/dotfile-secret.yaml")
    eventually(lambda: _container(kubectl, "secret-dotfiles-pod").get("restartCount", 0) >= 1)
    assert kubectl.out("logs", "secret-dotfiles-pod").splitlines() == ["total 0"]


def test_basic_auth_secret_from_string_data(kubectl: Kubectl, applied: Any) -> None:
    """concepts/configuration/secret, basic-auth: ``stringData`` comes back base64 in
    ``data``, with the type."""
    applied("secret/basicauth-secret.yaml")
    secret = kubectl.json("get", "secret", "secret-basic-auth")
    assert secret["type"] == "kubernetes.io/basic-auth"
    assert secret["data"] == {"username": "YWRtaW4=", "password": "dDBwLVNlY3JldA=="}
    assert "stringData" not in secret
