"""The seed's ``docker build -t NAME .`` then a Deployment of it, against a running cluster.

``minikube-py image build`` writes into the cluster's image store while the cluster runs (a
separate process from the ``serve`` child); a Deployment with ``imagePullPolicy: Never``
then runs the image at once, and its Python HTTP server answers on the pod's address. A
rebuild of the unchanged context is answered wholly by the build cache, and a rebuild with a
changed file is what the next rollout runs.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from minikube_py.cli.images import image
from tests.e2e.conftest import Kubectl, Server
from tests.e2e.test_pods import eventually

WAIT = "--timeout=60s"
SERVER = """\
import http.server, os

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        # relative to WORKDIR: programs see host paths, the working directory is the image's
        body = open("message.txt").read() + os.environ["GREETING"] + "\\n"
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body.encode())

http.server.HTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
"""
DOCKERFILE = """\
FROM python:3.11
ARG GREETING=hello
ENV GREETING=${GREETING}
WORKDIR /app
COPY server.py message.txt ./
EXPOSE 8000
CMD ["python3", "/app/server.py"]
"""


def build(server: Server, context: Path, tag: str, *extra: str) -> str:
    result = CliRunner().invoke(
        image, ["build", "-t", tag, str(context), "--state-dir", str(server.state_dir), *extra]
    )
    assert result.exit_code == 0, result.output
    return result.output


def deployment(name: str, tag: str) -> dict[str, Any]:
    labels = {"app": name}
    container = {
        "name": "web",
        "image": tag,
        "imagePullPolicy": "Never",
        "ports": [{"containerPort": 8000}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


def answer(kubectl: Kubectl, name: str) -> str:
    pods = kubectl.json("get", "pods", "-l", f"app={name}")["items"]
    running = [
        p for p in pods if p["status"].get("phase") == "Running" and p["status"].get("podIP")
    ]
    if len(running) != 1 or running[0]["metadata"].get("deletionTimestamp"):
        return ""
    url = f"http://{running[0]['status']['podIP']}:8000/"
    try:
        with urllib.request.urlopen(url, timeout=5) as got:
            return str(got.read().decode())
    except OSError:
        return ""


def test_build_then_deploy_with_pull_policy_never(
    cluster: Server, kubectl: Kubectl, unique: Any, tmp_path: Path
) -> None:
    name = unique("built")
    tag = f"{name}:v1"
    context = tmp_path / "app"
    context.mkdir()
    (context / "Dockerfile").write_text(DOCKERFILE)
    (context / "server.py").write_text(SERVER)
    (context / "message.txt").write_text("first build, ")
    output = build(cluster, context, tag, "--build-arg", "GREETING=hi from minikube-py")
    assert "0 of 6 steps cached" in output
    kubectl.out("apply", "-f", "-", stdin=json.dumps(deployment(name, tag)))
    try:
        kubectl.out("rollout", "status", f"deployment/{name}", WAIT)
        assert eventually(lambda: answer(kubectl, name)) == "first build, hi from minikube-py\n"
        pod = kubectl.json("get", "pods", "-l", f"app={name}")["items"][0]
        events = kubectl.out(
            "get", "events", "--field-selector", f"involvedObject.name={pod['metadata']['name']}"
        )
        assert f'Container image "{tag}" already present on machine' in events
        # The unchanged context again: every step from the cache (the <100 ms path).
        again = build(cluster, context, tag, "--build-arg", "GREETING=hi from minikube-py")
        assert "6 of 6 steps cached" in again
        # A changed file, the same tag, a restart: the new pod runs the new image.
        (context / "message.txt").write_text("second build, ")
        changed = build(cluster, context, tag, "--build-arg", "GREETING=hi from minikube-py")
        assert "3 of 6 steps cached" in changed
        kubectl.out("rollout", "restart", f"deployment/{name}")
        kubectl.out("rollout", "status", f"deployment/{name}", WAIT)
        assert eventually(lambda: answer(kubectl, name)) == "second build, hi from minikube-py\n"
    finally:
        kubectl.out("delete", "deployment", name, "--wait=true")
