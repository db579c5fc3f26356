"""Cluster names in Python programs: the start-up hook asks the cluster DNS, as a pod would.

Each test starts a fake DNS server on a random loopback address and runs a real Python child
with the hook on its PYTHONPATH and the resolver settings the kubelet gives a pod in
namespace ``shop``.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from minikube_py.config import LOW_PORT_OFFSET
from minikube_py.runtime import pyhook
from minikube_py.runtime.images.builtin import names, wget
from minikube_py.runtime.pyhook import _minikube_py_dns as resolver
from tests.runtime.dns_server import FakeDns, fake_dns
from tests.runtime.test_images_harness import loopback_address

SEARCH = "shop.svc.cluster.local svc.cluster.local cluster.local"
ZONE: dict[str, list[str] | str] = {
    "backend.shop.svc.cluster.local": ["127.96.7.20"],
    "kubernetes.default.svc.cluster.local": ["127.96.7.1"],
    "headless.shop.svc.cluster.local": ["127.244.7.5", "127.244.7.6", "127.244.7.7"],
    "big.shop.svc.cluster.local": ["127.96.7.30"],
    "external.shop.svc.cluster.local": f"CNAME {socket.gethostname()}",
}

# Looks names up every way a program does and prints what it got, as JSON.
LOOKUPS = """
import json, socket, sys
out = {}
for name in sys.argv[1:]:
    try:
        infos = socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)
        out[name] = {
            "getaddrinfo": sorted({info[4][0] for info in infos}),
            "ports": sorted({info[4][1] for info in infos}),
            "gethostbyname": socket.gethostbyname(name),
            "gethostbyname_ex": sorted(socket.gethostbyname_ex(name)[2]),
        }
    except socket.gaierror as error:
        out[name] = {"error": error.errno}
print(json.dumps(out))
"""


@pytest.fixture
def dns() -> Iterator[FakeDns]:
    with fake_dns(
        loopback_address(), ZONE, truncate=frozenset({"big.shop.svc.cluster.local"})
    ) as s:
        yield s


def pod_env(server: FakeDns | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIKUBE_PY_")}
    env.update(PYTHONPATH=str(pyhook.directory()), POD_IP=loopback_address())
    if server is not None:
        env.update(
            MINIKUBE_PY_DNS=f"{server.address}:{server.port}",
            MINIKUBE_PY_DNS_SEARCH=SEARCH,
            MINIKUBE_PY_DNS_NDOTS="5",
            MINIKUBE_PY_DNS_DOMAIN="cluster.local",
        )
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=30
    )


def lookups(env: dict[str, str], *hosts: str) -> dict[str, dict[str, object]]:
    done = run(["-c", LOOKUPS, *hosts], env)
    assert done.returncode == 0, done.stderr
    result: dict[str, dict[str, object]] = json.loads(done.stdout)
    return result


def test_short_namespaced_and_full_names_resolve_with_the_search_path(dns: FakeDns) -> None:
    found = lookups(
        pod_env(dns),
        "backend",
        "backend.shop",
        "backend.shop.svc.cluster.local",
        "kubernetes.default",
    )
    for name in ("backend", "backend.shop", "backend.shop.svc.cluster.local"):
        assert found[name] == {
            "getaddrinfo": ["127.96.7.20"],
            "ports": [80],
            "gethostbyname": "127.96.7.20",
            "gethostbyname_ex": ["127.96.7.20"],
        }, name
    assert found["kubernetes.default"]["getaddrinfo"] == ["127.96.7.1"]
    # glibc's order: fewer than ndots dots, so the search path first, then the name itself;
    # an answer is remembered for its TTL, so each name was asked once.
    assert dns.asked == [
        "backend.shop.svc.cluster.local",
        "backend.shop.shop.svc.cluster.local",
        "backend.shop.svc.cluster.local",
        "backend.shop.svc.cluster.local.shop.svc.cluster.local",
        "backend.shop.svc.cluster.local.svc.cluster.local",
        "backend.shop.svc.cluster.local.cluster.local",
        "backend.shop.svc.cluster.local",
        "kubernetes.default.shop.svc.cluster.local",
        "kubernetes.default.svc.cluster.local",
    ]


def test_a_headless_name_gives_every_address_and_a_truncated_answer_is_asked_over_tcp(
    dns: FakeDns,
) -> None:
    found = lookups(pod_env(dns), "headless", "big")
    assert found["headless"]["getaddrinfo"] == ["127.244.7.5", "127.244.7.6", "127.244.7.7"]
    assert found["headless"]["gethostbyname_ex"] == ["127.244.7.5", "127.244.7.6", "127.244.7.7"]
    assert found["big"]["getaddrinfo"] == ["127.96.7.30"]
    assert dns.tcp_asked == ["big.shop.svc.cluster.local"]


def test_unknown_cluster_names_fail_and_other_names_go_to_the_host(dns: FakeDns) -> None:
    host = socket.gethostname()
    expected = host_addresses(host)
    found = lookups(pod_env(dns), "missing.shop.svc.cluster.local.", host, "external")
    assert found["missing.shop.svc.cluster.local."] == {"error": socket.EAI_NONAME}
    if expected is not None:
        assert found[host]["getaddrinfo"] == expected
        # an ExternalName's CNAME leaves the cluster: the host resolves its target
        assert found["external"]["getaddrinfo"] == expected
    # the trailing dot made the first name absolute: asked once, no search path
    assert dns.asked.count("missing.shop.svc.cluster.local") == 1
    assert f"{host}.shop.svc.cluster.local" in dns.asked
    assert host not in dns.asked  # outside the cluster domain: never asked of the cluster


def test_without_the_cluster_dns_nothing_is_asked(dns: FakeDns) -> None:
    found = lookups(pod_env(None), "backend.shop.svc.cluster.local.")
    assert "error" in found["backend.shop.svc.cluster.local."]
    assert dns.asked == []


def host_addresses(name: str) -> list[str] | None:
    """What the host's own resolver says (``/etc/hosts`` for the host's name: no traffic)."""
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(name, 80, type=1)})
    except socket.gaierror:
        return None


def test_a_cluster_dns_that_is_not_there_leaves_names_to_the_host() -> None:
    nobody = f"{loopback_address()}:53"  # nothing listens there: refused at once
    env = pod_env(None, MINIKUBE_PY_DNS=nobody, MINIKUBE_PY_DNS_SEARCH=SEARCH)
    host = socket.gethostname()
    found = lookups(env, "localhost", host)
    assert found["localhost"]["getaddrinfo"] == [env["POD_IP"]]
    expected = host_addresses(host)
    assert found[host].get("getaddrinfo") == expected if expected else "error" in found[host]


def test_low_ports_of_cluster_addresses_go_to_the_fallback_port(dns: FakeDns) -> None:
    cluster_ip = dns.address  # any address in the cluster blocks will do
    listener = socket.socket()
    listener.bind((cluster_ip, LOW_PORT_OFFSET + 80))
    listener.listen()
    listener.settimeout(10)
    served = threading.Thread(target=lambda: listener.accept()[0].sendall(b"hello"), daemon=True)
    served.start()
    code = (
        "import socket\n"
        "s = socket.create_connection(('backend', 80), timeout=5)\n"
        "print(s.getpeername()[1], s.recv(5).decode())\n"
    )
    fallback = {**pod_env(dns), "MINIKUBE_PY_LOW_PORT_OFFSET": str(LOW_PORT_OFFSET)}
    fallback["MINIKUBE_PY_CLUSTER_CIDRS"] = f"127.96.7.0/24,{cluster_ip}/32"
    try:
        dns.zone["backend.shop.svc.cluster.local"] = [cluster_ip]
        done = run(["-c", code], fallback)
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == [str(LOW_PORT_OFFSET + 80), "hello"]
        # without the setting (a cluster that has port 80) nothing is rewritten
        plain = run(["-c", code], pod_env(dns))
        assert plain.returncode == 1 and "ConnectionRefusedError" in plain.stderr
    finally:
        listener.close()
        served.join(timeout=5)


def test_nslookup_names_the_cluster_dns_and_the_name_that_answered(
    dns: FakeDns, tmp_path: Path
) -> None:
    applet = tmp_path / "nslookup"
    applet.symlink_to(Path(names.__file__))
    done = run([str(applet), "kubernetes.default"], pod_env(dns))
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"Server:\t\t{dns.address}\nAddress:\t{dns.address}:{dns.port}\n\n"
        "Name:\tkubernetes.default.svc.cluster.local\nAddress: 127.96.7.1\n\n"
    )
    headless = run([str(applet), "headless"], pod_env(dns))
    assert headless.stdout.count("Address: 127.244.7.") == 3
    lost = run([str(applet), "myservice.shop.svc.cluster.local"], pod_env(dns))
    assert lost.returncode == 1
    assert "** server can't find myservice.shop.svc.cluster.local: NXDOMAIN" in lost.stdout


def test_the_search_order_is_glibcs() -> None:
    search = SEARCH.split()
    assert resolver.candidates("a", search, 5) == [*(f"a.{d}" for d in search), "a"]
    assert resolver.candidates("a.b.c.d.e.f", search, 5)[0] == "a.b.c.d.e.f"
    assert resolver.candidates("a.b", search, 1) == ["a.b", *(f"a.b.{d}" for d in search)]
    assert resolver.candidates("a.b.", search, 5) == ["a.b"]


def test_the_query_round_trips_through_a_server(dns: FakeDns) -> None:
    rcode, addresses, aliases, _ = resolver.query(
        "headless.shop.svc.cluster.local", (dns.address, dns.port)
    )
    assert (rcode, addresses, aliases) == (0, ["127.244.7.5", "127.244.7.6", "127.244.7.7"], [])
    rcode, addresses, _, _ = resolver.query("nope.cluster.local", (dns.address, dns.port))
    assert (rcode, addresses) == (3, [])
    with pytest.raises(ValueError):
        resolver.encode_query("a" * 64 + ".cluster.local", 1)


def test_busybox_wget_reaches_a_service_by_name_on_port_80_with_the_fallback(
    dns: FakeDns, tmp_path: Path
) -> None:
    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"hello from backend\n")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer((dns.address, LOW_PORT_OFFSET + 80), Hello)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    applet = tmp_path / "wget"
    applet.symlink_to(Path(wget.__file__))
    env = pod_env(dns, MINIKUBE_PY_LOW_PORT_OFFSET=str(LOW_PORT_OFFSET))
    env["MINIKUBE_PY_CLUSTER_CIDRS"] = f"{dns.address}/32"
    try:
        dns.zone["backend.shop.svc.cluster.local"] = [dns.address]
        done = run([str(applet), "-qO-", "http://backend/"], env)
        assert (done.returncode, done.stdout) == (0, "hello from backend\n"), done.stderr
    finally:
        server.shutdown()
        server.server_close()
        serving.join(timeout=5)
