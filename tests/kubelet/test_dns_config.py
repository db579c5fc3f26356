"""A pod's resolver configuration per ``dnsPolicy`` (``kubelet/dns.py``), and where it lands."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from minikube_py.client import EVENTS, PODS, SERVICES, Client
from minikube_py.config import LOW_PORT_OFFSET, NetworkPlan
from minikube_py.kubelet import FakeClock, Kubelet
from minikube_py.kubelet.dns import (
    ClusterNetworking,
    ResolverConfig,
    hook_env,
    parse_resolv_conf,
    pod_resolver,
)
from minikube_py.kubelet.streams import KubeletStreams
from minikube_py.runtime.fake import FakeRuntime
from minikube_py.runtime.images.store import ImageStore
from minikube_py.runtime.process import ProcessRuntime
from minikube_py.runtime.protocol import LogOptions
from minikube_py.runtime.sandbox import ContainerPaths, prepare_root
from tests.kubelet.conftest import NODE, pod
from tests.runtime.dns_server import fake_dns
from tests.runtime.process_helpers import no_leftovers  # noqa: F401 - a fixture
from tests.runtime.test_images_harness import loopback_address

Object = dict[str, Any]
SETTINGS = ClusterNetworking(cluster_dns=("127.96.0.10",), dns_port=53)
HOST = parse_resolv_conf(
    "# the node's\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n"
    "search corp.example. lab.example\noptions edns0 attempts:2\n"
)


def a_pod(namespace: str = "shop", **spec: Any) -> Object:
    return {"metadata": {"name": "p", "namespace": namespace, "uid": "u1"}, "spec": spec}


def test_the_node_file_is_read_as_upstream_reads_it() -> None:
    node_file = HOST
    assert node_file == ResolverConfig(
        servers=("192.0.2.53", "192.0.2.54"),
        searches=("corp.example", "lab.example"),
        options=("edns0", "attempts:2"),
    )


def test_cluster_first_uses_the_cluster_dns_and_search_path() -> None:
    config, warnings = pod_resolver(a_pod(), SETTINGS, HOST)
    assert config.text() == (
        "nameserver 127.96.0.10\n"
        "search shop.svc.cluster.local svc.cluster.local cluster.local corp.example lab.example\n"
        "options ndots:5\n"
    )
    assert warnings == []
    assert config.ndots == 5


def test_default_and_host_network_pods_get_the_nodes_file() -> None:
    assert pod_resolver(a_pod(dnsPolicy="Default"), SETTINGS, HOST)[0] == HOST
    assert pod_resolver(a_pod(hostNetwork=True), SETTINGS, HOST)[0] == HOST
    with_host_net = a_pod(hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet")
    assert pod_resolver(with_host_net, SETTINGS, HOST)[0].servers == ("127.96.0.10",)


def test_none_takes_the_dns_config_alone_and_dns_config_merges() -> None:
    dns_config = {
        "nameservers": ["127.96.0.10", "192.0.2.1"],
        "searches": ["my.dns.search.suffix", "svc.cluster.local"],
        "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}],
    }
    alone, _ = pod_resolver(a_pod(dnsPolicy="None", dnsConfig=dns_config), SETTINGS, HOST)
    assert alone == ResolverConfig(
        ("127.96.0.10", "192.0.2.1"),
        ("my.dns.search.suffix", "svc.cluster.local"),
        ("ndots:2", "edns0"),
    )
    merged, _ = pod_resolver(a_pod(dnsConfig=dns_config), SETTINGS, HOST)
    assert merged.servers == ("127.96.0.10", "192.0.2.1")  # duplicates dropped
    assert merged.searches[-1] == "my.dns.search.suffix"
    assert merged.options == ("ndots:2", "edns0")  # the pod's ndots replaces the default
    assert merged.ndots == 2


def test_limits_are_cut_with_dns_config_forming_warnings() -> None:
    many = {"nameservers": ["192.0.2.1", "192.0.2.2", "192.0.2.3"]}
    config, warnings = pod_resolver(a_pod(dnsConfig=many), SETTINGS, HOST)
    assert config.servers == ("127.96.0.10", "192.0.2.1", "192.0.2.2")
    assert warnings == [
        (
            "DNSConfigForming",
            "Nameserver limits were exceeded, some nameservers have been omitted, the applied "
            "nameserver line is: 127.96.0.10 192.0.2.1 192.0.2.2",
        )
    ]
    searches = {"searches": [f"d{i}.example" for i in range(40)]}
    config, warnings = pod_resolver(a_pod(dnsConfig=searches), SETTINGS, HOST)
    assert len(config.searches) == 32
    assert warnings[0][1].startswith("Search Line limits were exceeded")


def test_without_a_cluster_dns_cluster_first_falls_back_to_default() -> None:
    config, warnings = pod_resolver(a_pod(), ClusterNetworking(), HOST)
    assert config == HOST
    assert warnings == [
        (
            "MissingClusterDNS",
            'pod: "p_shop(u1)". kubelet does not have ClusterDNS IP configured and cannot '
            'create Pod using "ClusterFirst" policy. Falling back to "Default" policy.',
        )
    ]


def test_the_hook_is_told_the_real_port_only_for_the_cluster_dns() -> None:
    plan = NetworkPlan(service_block="127.96.0.0/16")
    fallback = ClusterNetworking.for_network(plan, low_ports=False)
    assert fallback.cluster_dns == ("127.96.0.10",)
    assert fallback.dns_port == LOW_PORT_OFFSET + 53
    config, _ = pod_resolver(a_pod(), fallback, HOST)
    assert hook_env(config, fallback) == {
        "MINIKUBE_PY_DNS": f"127.96.0.10:{LOW_PORT_OFFSET + 53}",
        "MINIKUBE_PY_DNS_SEARCH": " ".join(config.searches),
        "MINIKUBE_PY_DNS_NDOTS": "5",
        "MINIKUBE_PY_DNS_DOMAIN": "cluster.local",
        "MINIKUBE_PY_LOW_PORT_OFFSET": str(LOW_PORT_OFFSET),
        "MINIKUBE_PY_CLUSTER_CIDRS": f"127.96.0.0/16,{plan.node_block},{plan.load_balancer_block}",
    }
    privileged = ClusterNetworking.for_network(plan, low_ports=True)
    assert privileged.dns_port == 53 and privileged.low_port_offset is None
    default_pod, _ = pod_resolver(a_pod(dnsPolicy="Default"), privileged, HOST)
    assert hook_env(default_pod, privileged) == {}  # the host's resolver, as the file says


def test_the_file_is_written_into_the_container_root(tmp_path: Path) -> None:
    image = tmp_path / "image"
    (image / "etc").mkdir(parents=True)
    (image / "etc" / "resolv.conf").write_text("nameserver 192.0.2.9\n")
    paths = ContainerPaths.of(tmp_path / "pod", "c", 0)
    text = "search shop.svc.cluster.local\nnameserver 127.96.0.10\noptions ndots:5\n"
    prepare_root(
        image,
        paths,
        mounts=(),
        working_dir="/",
        termination_message_path="/dev/x",
        resolv_conf=text,
    )
    assert (paths.root / "etc" / "resolv.conf").read_text() == text
    assert (image / "etc" / "resolv.conf").read_text() == "nameserver 192.0.2.9\n"  # untouched


async def test_the_kubelet_gives_each_container_its_resolver(
    client: Client, fake: FakeRuntime, clock: FakeClock, tmp_path: Path
) -> None:
    networking = ClusterNetworking(
        cluster_dns=("127.96.0.10",), dns_port=64565, resolv_conf=str(tmp_path / "missing")
    )
    kubelet = Kubelet(
        client, NODE, fake, directory=tmp_path / "node", clock=clock, networking=networking
    )
    task = asyncio.ensure_future(kubelet.run())
    try:
        await client.create(PODS, "default", pod(dnsConfig={"nameservers": ["a", "b", "c"]}))
        config = None
        for _ in range(1000):  # bounded: 10 s
            if fake.containers:
                config = next(iter(fake.containers.values())).config
                break
            await asyncio.sleep(0.01)
        assert config is not None, "the container did not start"
        assert config.resolv_conf == (
            "nameserver 127.96.0.10\nnameserver a\nnameserver b\n"
            "search default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"
        )
        assert config.env["MINIKUBE_PY_DNS"] == "127.96.0.10:64565"
        assert "MINIKUBE_PY_LOW_PORT_OFFSET" not in config.env
        events = (await client.list(EVENTS, "default"))["items"]
        assert [e["reason"] for e in events if e["type"] == "Warning"] == ["DNSConfigForming"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_real_pod_finds_a_service_by_name_and_by_its_variables(
    client: Client,
    tmp_path: Path,
    no_leftovers: None,  # noqa: F811
) -> None:
    """Kubelet, process runtime, start-up hook and busybox's nslookup together."""
    service = await client.create(
        SERVICES,
        "default",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "backend"},
            "spec": {"selector": {"app": "b"}, "ports": [{"port": 80}]},
        },
    )
    ip = service["spec"]["clusterIP"]
    zone: dict[str, list[str] | str] = {"backend.default.svc.cluster.local": [ip]}
    runtime = ProcessRuntime(tmp_path / "runtime", ImageStore(tmp_path / "images"))
    with fake_dns(loopback_address(), zone) as dns:
        networking = ClusterNetworking(
            cluster_dns=(dns.address,), dns_port=dns.port, resolv_conf=str(tmp_path / "none")
        )
        kubelet = Kubelet(client, NODE, runtime, directory=tmp_path / "node", networking=networking)
        task = asyncio.ensure_future(kubelet.run())
        try:
            script = (
                "nslookup backend && echo host=$BACKEND_SERVICE_HOST"
                " && cat $MINIKUBE_PY_ROOT/etc/resolv.conf"  # the host's shell: the root's path
            )
            container = {"name": "web", "image": "busybox", "command": ["sh", "-c", script]}
            await client.create(PODS, "default", pod(restartPolicy="Never", containers=[container]))
            phase = None
            for _ in range(1000):  # bounded: 10 s
                current = await client.get(PODS, "default", "web")
                phase = (current.get("status") or {}).get("phase")
                if phase in ("Succeeded", "Failed"):
                    break
                await asyncio.sleep(0.01)
            streams = KubeletStreams(runtime, kubelet.pod)
            chunks = streams.logs("default", "web", "web", LogOptions())
            output = b"".join([chunk async for chunk in chunks]).decode()
            assert phase == "Succeeded", output
            assert output == (
                f"Server:\t\t{dns.address}\nAddress:\t{dns.address}:{dns.port}\n\n"
                f"Name:\tbackend.default.svc.cluster.local\nAddress: {ip}\n\nhost={ip}\n"
                f"nameserver {dns.address}\n"
                "search default.svc.cluster.local svc.cluster.local cluster.local\n"
                "options ndots:5\n"
            )
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await runtime.close()
