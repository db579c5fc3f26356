"""The built-in nginx as a container process: the welcome page, nginx's answers and logs."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
from pathlib import Path

import pytest

from tests.runtime import test_images_harness as harness
from tests.runtime.test_images_harness import Containers

containers = harness.containers  # the fixture


def get(address: str, port: int, path: str, method: str = "GET") -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(address, port, timeout=10)
    connection.request(method, path, headers={"User-Agent": "curl/8.5.0"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_serves_the_welcome_page_with_nginx_headers_and_logs(containers: Containers) -> None:
    web = containers.run("nginx:1.14.2", name="web", env={"NGINX_PORT": "8080"})
    web.wait_for_port(8080)
    connection = http.client.HTTPConnection(web.pod_ip, 8080, timeout=10)
    connection.request("GET", "/", headers={"User-Agent": "curl/8.5.0"})
    response = connection.getresponse()
    body = response.read().decode()
    assert response.status == 200 and "<title>Welcome to nginx!</title>" in body
    assert response.getheader("Server") == "nginx/1.27.3"
    assert response.getheader("Content-Length") == "615"
    assert response.getheader("Content-Type") == "text/html"
    # keep-alive: the same connection serves the next request, here the error page
    connection.request("GET", "/50x.html")
    assert "An error occurred." in connection.getresponse().read().decode()
    connection.close()
    lines = web.stdout().splitlines()
    assert lines[0] == "/docker-entrypoint.sh: Configuration complete; ready for start up"
    # the client's address, then nginx's "main" format
    assert re.fullmatch(
        r"127\.[\d.]+ - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "
        r'"GET / HTTP/1.1" 200 615 "-" "curl/8.5.0" "-"',
        lines[1],
    )
    assert "[notice]" in web.stderr() and "nginx/1.27.3" in web.stderr()


def test_missing_pages_directories_and_methods(containers: Containers) -> None:
    web = containers.run("docker.io/library/nginx:latest", env={"NGINX_PORT": "8081"})
    (web.root / "usr/share/nginx/html/docs").mkdir()
    (web.root / "usr/share/nginx/html/docs/index.html").write_text("<p>docs</p>\n")
    web.wait_for_port(8081)
    missing = http.client.HTTPConnection(web.pod_ip, 8081, timeout=10)
    missing.request("GET", "/nope")
    response = missing.getresponse()
    assert response.status == 404
    assert response.read().decode() == (
        "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
        "<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.27.3</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    redirect = get(web.pod_ip, 8081, "/docs")
    assert redirect.status == 301
    assert redirect.getheader("Location") == f"http://{web.pod_ip}:8081/docs/"
    assert get(web.pod_ip, 8081, "/docs/").status == 200
    assert get(web.pod_ip, 8081, "/", method="POST").status == 405
    assert get(web.pod_ip, 8081, "/../../etc/passwd").status in (400, 404)


def test_a_mounted_html_directory_replaces_the_pages(
    containers: Containers, tmp_path: Path
) -> None:
    volume = tmp_path / "configmap"
    volume.mkdir()
    (volume / "index.html").write_text("hello from a ConfigMap\n")
    web = containers.create("nginx", env={"NGINX_PORT": "8082"})
    html = web.root / "usr/share/nginx/html"
    shutil.rmtree(html)
    html.symlink_to(volume)  # how the runtime shows a volume at its mountPath
    web.start(web.image.config["Cmd"])
    web.wait_for_port(8082)
    connection = http.client.HTTPConnection(web.pod_ip, 8082, timeout=10)
    connection.request("GET", "/")
    assert connection.getresponse().read() == b"hello from a ConfigMap\n"
    connection.close()


def test_sigterm_and_sigquit_exit_zero(containers: Containers) -> None:
    for number, stop in enumerate((signal.SIGTERM, signal.SIGQUIT)):
        web = containers.run("nginx", name=f"web-{number}", env={"NGINX_PORT": "8083"})
        web.wait_for_port(8083)
        assert web.process is not None
        os.killpg(web.process.pid, stop)
        assert web.process.wait(timeout=5) == 0
        assert f"signal {int(stop)} ({stop.name}) received" in web.stderr()


def test_version_flag(containers: Containers) -> None:
    web = containers.create("nginx")
    done = web.exec(["nginx", "-v"])
    assert (done.returncode, done.stderr) == (0, b"nginx version: nginx/1.27.3\n")


@pytest.mark.skipif(
    shutil.which("setpriv") is None and os.geteuid() == 0,
    reason="as root, dropping CAP_NET_BIND_SERVICE needs setpriv",
)
def test_port_80_without_privilege_says_why_in_the_termination_log(
    containers: Containers,
) -> None:
    start = int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text())
    if start <= 80:
        pytest.skip("this machine lets anyone bind port 80")
    web = containers.create("nginx")
    argv = web.resolve(web.image.config["Cmd"])
    if os.geteuid() == 0:  # be the unprivileged user a cluster usually runs as
        argv = ["setpriv", "--bounding-set", "-net_bind_service", "--", *argv]
    web.start(argv)
    assert web.process is not None
    assert web.process.wait(timeout=10) == 1
    message = (
        f"cannot bind {web.pod_ip}:80: permission denied — ports below {start} need root or "
        "sysctl net.ipv4.ip_unprivileged_port_start=0; set env NGINX_PORT=8080 or run the "
        "cluster as root"
    )
    assert web.stderr() == message + "\n"
    assert (web.root / "dev/termination-log").read_text() == message + "\n"


def test_port_80_when_permitted(containers: Containers) -> None:
    start = int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text())
    if os.geteuid() != 0 and start > 80:
        pytest.skip("port 80 needs privilege here")
    web = containers.run("nginx")
    web.wait_for_port(80)
    assert get(web.pod_ip, 80, "/").status == 200
