"""Addons: the record in the cluster, the addon manager acting on it live, and the commands.

The in-process tests patch the record (``kube-system/minikube-py-addons``) through an API
client, as ``kubectl`` could, and watch the Ingress controller come and go on the
control-plane node's address, port ``listen_port(80)`` (the cluster's own address slot, so
no other cluster's listener can answer). The command-line test starts a profile in the
background with ``start --addons ingress`` and drives it with ``addons list|enable|disable``,
across a restart.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner

from minikube_py.cli import main
from minikube_py.cli.background import stop_background
from minikube_py.client import CONFIGMAPS, INGRESSES, NODES, Client
from minikube_py.client.http import HttpClient
from minikube_py.cluster import ClusterError, running_cluster
from minikube_py.cluster.addons import (
    CONFIG_MAP,
    ERROR_ANNOTATION,
    NAMESPACE,
    RUNNING_ANNOTATION,
    check_addons,
)
from minikube_py.config import LOW_PORT_OFFSET, listen_port
from tests.clusters import API_CONTROLLERS, ephemeral_config

WAIT = 20.0  # seconds the manager may take to act (it takes well under one)
WEB_INGRESS = {
    "metadata": {"name": "web"},
    "spec": {
        "ingressClassName": "nginx",
        "defaultBackend": {"service": {"name": "web", "port": {"number": 8080}}},
    },
}


def listening(address: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2.0)
        return probe.connect_ex((address, port)) == 0


async def until(check: Any, what: str) -> None:
    """Poll a synchronous ``check`` until true, at most ``WAIT`` seconds."""
    deadline = time.monotonic() + WAIT
    while not await asyncio.to_thread(check):
        assert time.monotonic() < deadline, f"not within {WAIT} s: {what}"
        await asyncio.sleep(0.05)


async def ingress_addresses(client: Client) -> list[Any]:
    ingress = await client.get(INGRESSES, "default", "web")
    return list(ingress.get("status", {}).get("loadBalancer", {}).get("ingress") or [])


async def until_equal(read: Callable[[], Awaitable[Any]], expected: Any, what: str) -> None:
    """Read until ``expected`` comes back, at most ``WAIT`` seconds."""
    deadline = time.monotonic() + WAIT
    while (value := await read()) != expected:
        assert time.monotonic() < deadline, f"not within {WAIT} s: {what} (last: {value!r})"
        await asyncio.sleep(0.05)


async def annotation(client: Client) -> str:
    record = await client.get(CONFIGMAPS, NAMESPACE, CONFIG_MAP)
    return str(record["metadata"].get("annotations", {}).get(RUNNING_ANNOTATION, ""))


async def test_the_ingress_controller_follows_the_record_live(tmp_path: Path) -> None:
    async with running_cluster(ephemeral_config(tmp_path, API_CONTROLLERS)) as cluster:
        address, port = cluster.network.node_address(0), listen_port(80)
        client = cluster.api_server.client("addons-test")
        try:
            assert cluster.networking.ingress is None
            assert not listening(address, port)
            record = {"metadata": {"name": CONFIG_MAP}, "data": {"ingress": "true"}}
            await client.create(CONFIGMAPS, NAMESPACE, record)
            await until(lambda: listening(address, port), "the controller listens")
            # the manager records the controller once it says it is ready, a moment after
            # its listener accepts: wait for that, not only for the port
            await until(lambda: cluster.networking.ingress is not None, "the manager has it")
            assert cluster.networking.ingress is not None
            assert cluster.networking.ingress.http_port == port
            await until_equal(lambda: annotation(client), "ingress", "the manager says it runs")
            await client.create(INGRESSES, "default", WEB_INGRESS)
            await until_equal(
                lambda: ingress_addresses(client), [{"ip": address}], "the Ingress's address"
            )

            patch = {"data": {"ingress": "false"}}
            await client.patch(CONFIGMAPS, NAMESPACE, CONFIG_MAP, patch)
            await until(lambda: not listening(address, port), "the controller stops")
            assert cluster.networking.ingress is None
            await until_equal(lambda: annotation(client), "", "the manager says it stopped")
            assert await ingress_addresses(client) == []  # cleared as the controller stopped
        finally:
            await client.close()


async def test_an_addon_that_cannot_start_is_reported_in_the_record(tmp_path: Path) -> None:
    async with running_cluster(ephemeral_config(tmp_path, API_CONTROLLERS)) as cluster:
        address = cluster.network.node_address(0)
        holders = []
        for port in sorted({listen_port(80), LOW_PORT_OFFSET + 80}):  # the port and its fallback
            holder = socket.socket()
            holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            holder.bind((address, port))
            holder.listen()
            holders.append(holder)
        client = cluster.api_server.client("addons-test")
        try:
            record = {"metadata": {"name": CONFIG_MAP}, "data": {"ingress": "true"}}
            await client.create(CONFIGMAPS, NAMESPACE, record)

            async def error() -> str:
                found = await client.get(CONFIGMAPS, NAMESPACE, CONFIG_MAP)
                return str(found["metadata"].get("annotations", {}).get(ERROR_ANNOTATION, ""))

            deadline = time.monotonic() + WAIT
            while not (said := await error()):
                assert time.monotonic() < deadline, "the manager never reported the failure"
                await asyncio.sleep(0.05)
            assert said.startswith("ingress: the Ingress cannot listen on "), said
            assert cluster.networking.ingress is None and await annotation(client) == ""
        finally:
            for holder in holders:
                holder.close()
            await client.close()


async def test_the_addons_a_cluster_starts_with_are_recorded_and_running(
    tmp_path: Path,
) -> None:
    config = attrs.evolve(ephemeral_config(tmp_path, API_CONTROLLERS), addons=("ingress",))
    async with running_cluster(config) as cluster:
        # ready before the cluster is: no waiting here
        assert listening(cluster.network.node_address(0), listen_port(80))
        client = cluster.api_server.client("addons-test")
        try:
            record = await client.get(CONFIGMAPS, NAMESPACE, CONFIG_MAP)
            assert record["data"] == {"ingress": "true"}
        finally:
            await client.close()


def test_an_unknown_addon_is_refused_in_one_line() -> None:
    with pytest.raises(ClusterError, match="unknown addon dashboard: the addons are "):
        check_addons(["dashboard"])
    result = CliRunner().invoke(main, ["addons", "enable", "dashboard"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: dashboard is not a valid addon: the addons are default-storageclass, "
        "ingress, storage-provisioner"
    ]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MINIKUBE_PY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "kube" / "config"))
    return tmp_path / "home"


def test_the_commands_fail_in_one_line_when_the_profile_is_not_running(home: Path) -> None:
    for args in (["list"], ["enable", "ingress"], ["disable", "ingress"]):
        result = CliRunner().invoke(main, ["addons", *args, "-p", "idle"])
        assert result.exit_code == 1, result.output
        assert result.output.strip().splitlines() == [
            'Error: The "idle" cluster is not running. To start a cluster, run: '
            '"minikube-py start -p idle"'
        ]


def node_address(kubeconfig: Path, profile: str) -> str:
    async def ask() -> str:
        async with HttpClient.from_kubeconfig(kubeconfig, profile) as client:
            node = await client.get(NODES, None, profile)
            return str(node["status"]["addresses"][0]["address"])

    return asyncio.run(ask())


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_start_with_addons_then_enable_and_disable_across_a_restart(
    home: Path, tmp_path: Path
) -> None:
    directory, port = home / "profiles" / "demo", listen_port(80)
    start = ["start", "-p", "demo", "--address", "127.0.0.1", "--port", "0"]
    try:
        started = cli(*start, "--addons", "ingress")
        assert "* Enabled addons: storage-provisioner, default-storageclass, ingress" in started
        address = node_address(tmp_path / "kube" / "config", "demo")
        assert listening(address, port)
        table = cli("addons", "list", "-p", "demo").splitlines()
        assert table[1] == "|      ADDON NAME      | PROFILE |   STATUS   | MAINTAINER |"
        assert table[3:6] == [  # the check mark takes two columns, as tablewriter counts it
            "| default-storageclass | demo    | enabled ✅ | Kubernetes |",
            "| ingress              | demo    | enabled ✅ | Kubernetes |",
            "| storage-provisioner  | demo    | enabled ✅ | minikube   |",
        ]
        assert table[0] == table[2] == table[6] and set(table[0]) == {"|", "-"}

        assert cli("addons", "disable", "ingress", "-p", "demo") == (
            "* The 'ingress' addon is disabled\n"
        )
        assert not listening(address, port)  # stopped before the command returned
        kept = cli("addons", "disable", "storage-provisioner", "-p", "demo")
        assert "keeps the 'storage-provisioner' addon on" in kept

        assert cli("stop", "-p", "demo").endswith("* 1 node stopped.\n")
        cli(*start)  # the record survives the restart: ingress stays disabled
        assert "| ingress              | demo    | disabled     |" in cli(
            "addons", "list", "-p", "demo"
        )
        assert not listening(address, port)
        assert cli("addons", "enable", "ingress", "-p", "demo").splitlines() == [
            "* ingress is an addon maintained by Kubernetes. For any concerns contact minikube "
            "on GitHub.",
            "You can view the list of minikube maintainers at: "
            "https://github.com/kubernetes/minikube/blob/master/OWNERS",
            "* Verifying ingress addon...",
            "* The 'ingress' addon is enabled",
        ]
        assert listening(address, port)
    finally:
        stop_background(directory)  # whatever happened above, leave no cluster behind
    assert not listening(address, port)
