"""The echo images as container processes: each answers like the real one and names its pod."""

from __future__ import annotations

import http.client

from tests.runtime import test_images_harness as harness
from tests.runtime.test_images_harness import Containers

containers = harness.containers  # the fixture


def request(
    address: str, port: int, path: str = "/", *, method: str = "GET", body: bytes | None = None
) -> tuple[http.client.HTTPResponse, str]:
    connection = http.client.HTTPConnection(address, port, timeout=10)
    connection.request(
        method, path, body=body, headers={"User-Agent": "curl/8.5.0", "Accept": "*/*"}
    )
    response = connection.getresponse()
    text = response.read().decode()
    connection.close()
    return response, text


def test_kicbase_echo_server_echoes_the_request(containers: Containers) -> None:
    echo = containers.run("kicbase/echo-server:1.0", name="hello-minikube-7f9c5b8b9c-x2x4q")
    echo.wait_for_port(8080)
    response, text = request(echo.pod_ip, 8080, "/path?q=1", method="POST", body=b"hi")
    assert response.status == 200 and response.getheader("Content-Type") == "text/plain"
    assert text == (
        "Request served by hello-minikube-7f9c5b8b9c-x2x4q\n\n"
        "POST /path?q=1 HTTP/1.1\n\n"
        f"Host: {echo.pod_ip}:8080\n"
        "Accept: */*\nAccept-Encoding: identity\nContent-Length: 2\nUser-Agent: curl/8.5.0\n"
        "\nhi"
    )
    # A server logs a request after answering it: wait for the line, do not race it.
    harness.wait_until(lambda: len(echo.stdout().splitlines()) > 1, "the request's log line")
    assert echo.stdout().splitlines()[0] == "Echo server listening on port 8080."
    assert echo.stdout().splitlines()[1].endswith(" | POST /path?q=1")
    assert echo.terminate() == 0


def test_registry_echoserver_describes_client_server_and_headers(containers: Containers) -> None:
    echo = containers.run("registry.k8s.io/echoserver:1.4", name="hello-node-5f76cf6ccf-br9b5")
    echo.wait_for_port(8080)
    response, text = request(echo.pod_ip, 8080, "/a%20b?x=1")
    assert response.getheader("Server") == "nginx/1.10.0"
    lines = text.splitlines()
    assert lines[0] == "Hostname: hello-node-5f76cf6ccf-br9b5"
    assert lines[2:10] == [
        "CLIENT VALUES:",
        lines[3],
        "command=GET",
        "real path=/a b",
        "query=x=1",
        "request_version=1.1",
        f"request_uri=http://{echo.pod_ip}:8080/a%20b?x=1",
        "",
    ]
    assert lines[3].startswith("client_address=127.")
    assert lines[10:13] == ["SERVER VALUES:", "server_version=nginx: 1.10.0 - lua: 10001", ""]
    assert lines[13] == "HEADERS RECEIVED:"
    assert "user-agent=curl/8.5.0" in lines and f"host={echo.pod_ip}:8080" in lines
    assert lines[-2:] == ["BODY:", "-no body in request-"]
    harness.wait_until(lambda: '"GET /a%20b?x=1 HTTP/1.1" 200' in echo.stdout(), "the log line")
    assert echo.terminate() == 0


def test_http_echo_answers_its_text(containers: Containers) -> None:
    echo = containers.run("hashicorp/http-echo", name="foo-app", args=["-text=foo"])
    echo.wait_for_port(5678)
    response, text = request(echo.pod_ip, 5678, "/anything")
    assert (response.status, text) == (200, "foo\n")
    assert response.getheader("X-App-Name") == "http-echo"
    assert response.getheader("X-Served-By") == "foo-app"
    assert request(echo.pod_ip, 5678, "/health")[1] == '{"status":"ok"}\n'
    harness.wait_until(lambda: "/anything" in echo.stdout(), "the request's log line")
    log = echo.stdout().splitlines()
    assert len(log) == 1 and f"{echo.pod_ip}:5678 127." in log[0]
    assert '"GET /anything HTTP/1.1" 200 4 "curl/8.5.0"' in log[0]
    assert "[INFO] server is listening on :5678" in echo.stderr()
    assert echo.terminate() == 0


def test_http_echo_flags_as_go_spells_them(containers: Containers) -> None:
    echo = containers.run(
        "hashicorp/http-echo:1.0", args=["--listen", ":9090", "-text", "bar", "-status-code=201"]
    )
    echo.wait_for_port(9090)
    response, text = request(echo.pod_ip, 9090)
    assert (response.status, text) == (201, "bar\n")
    missing = containers.create("hashicorp/http-echo").exec(["/http-echo"])
    assert missing.returncode == 127
    assert missing.stderr == b"Missing -text option OR ENV var TEXT is empty!\n"


def test_hello_app_from_its_image_names_its_pod(containers: Containers) -> None:
    hello = containers.run("gcr.io/google-samples/hello-app:2.0", name="web-5d8b6c9c7-abcde")
    hello.wait_for_port(8080)
    assert request(hello.pod_ip, 8080)[1] == (
        "Hello, world!\nVersion: 2.0.0\nHostname: web-5d8b6c9c7-abcde\n"
    )
    harness.wait_until(lambda: "Serving request" in hello.stdout(), "the request's log line")
    assert hello.stdout().splitlines() == ["Server listening on port 8080", "Serving request: /"]
    assert hello.terminate() == 0


def test_kubernetes_bootcamp_names_pod_and_version(containers: Containers) -> None:
    for tag in ("gcr.io/google-samples/kubernetes-bootcamp:v1", "jocatalin/kubernetes-bootcamp:v2"):
        app = containers.run(tag, name="kubernetes-bootcamp-5485cc6795-4kx8q")
        app.wait_for_port(8080)
        version = tag[-1]
        assert request(app.pod_ip, 8080)[1] == (
            "Hello Kubernetes bootcamp! | Running on: kubernetes-bootcamp-5485cc6795-4kx8q | "
            f"v={version}\n"
        )
        harness.wait_until(lambda a=app: "| Total Requests: 1 |" in a.stdout(), "the log line")
        assert app.terminate() == 0
