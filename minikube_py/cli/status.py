"""``minikube-py status``, ``ip``, ``logs`` and ``update-context``: looking at a profile.

``status`` prints minikube's block per node (``host``, ``kubelet``, ``apiserver``,
``kubeconfig``) and exits with minikube's bit flags: 1 the host (here: the cluster process)
is not running, 2 the kubelet or API server is not, 4 the kubeconfig does not point at the
cluster — so 7 for a stopped profile and 0 when all is well. The answers come from the
running API server: a node's kubelet runs when its Node is Ready.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click
import yaml

from minikube_py.api.errors import ApiError
from minikube_py.apiserver.kubeconfig import default_kubeconfig_path, write_kubeconfig
from minikube_py.apiserver.pki import Pki
from minikube_py.cli.common import (
    EX_GUEST_NOT_FOUND,
    call_api,
    example,
    fail,
    profile_directory,
    profile_option,
    ready_nodes,
    require_profile,
    require_running,
    serving_url,
    step,
)
from minikube_py.client.http import HttpClient
from minikube_py.client.protocol import CONFIGMAPS, NODES, Object
from minikube_py.cluster.nodectl import CONFIG_MAP, NAMESPACE, stopped_nodes

HOST_NOT_RUNNING, CLUSTER_NOT_RUNNING, K8S_NOT_RUNNING = 1, 2, 4  # minikube's status bits


async def cluster_nodes(client: HttpClient) -> tuple[list[Object], set[str]]:
    """The Node objects, control plane first, and the nodes stopped with ``node stop``."""
    nodes = list((await client.list(NODES)).get("items") or [])
    try:
        record: Object | None = await client.get(CONFIGMAPS, NAMESPACE, CONFIG_MAP)
    except ApiError:  # no record: no node was ever stopped
        record = None
    nodes.sort(key=lambda n: ("node-role.kubernetes.io/control-plane" not in _labels(n), _name(n)))
    return nodes, stopped_nodes(record)


def _labels(node: Object) -> dict[str, Any]:
    return (node.get("metadata") or {}).get("labels") or {}


def _name(node: Object) -> str:
    return str(node["metadata"]["name"])


def kubeconfig_state(profile: str, url: str) -> str:
    """``Configured`` when the kubeconfig's cluster entry for the profile points at ``url``."""
    path = default_kubeconfig_path()
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return "Misconfigured"
    for entry in config.get("clusters") or []:
        if isinstance(entry, dict) and entry.get("name") == profile:
            server = (entry.get("cluster") or {}).get("server")
            return "Configured" if server == url else "Misconfigured"
    return "Misconfigured"


@click.command()
@profile_option
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text")
def status(profile: str, output: str) -> None:
    """Gets the status of a local Kubernetes cluster.

    Exit status contains the status of minikube-py's host, cluster and Kubernetes encoded on
    its bits in this order from right to left: 7 meaning 1 (host NOK) + 2 (cluster NOK) + 4
    (Kubernetes NOK)."""
    directory = require_profile(profile)
    url = serving_url(directory)
    statuses: list[dict[str, str]] = []
    if url is None:
        statuses.append(dict.fromkeys(["Host", "Kubelet", "APIServer", "Kubeconfig"], "Stopped"))
        statuses[0] |= {"Name": profile, "Worker": ""}
    else:
        try:
            nodes, stopped = call_api(profile, cluster_nodes)
            api = "Running"
        except click.ClickException:
            nodes, stopped, api = [], set(), "Stopped"
        ready, _ = ready_nodes(nodes)
        config = kubeconfig_state(profile, url)
        for index, node in enumerate(nodes or [{"metadata": {"name": profile}}]):
            name = _name(node)
            host = "Stopped" if name in stopped else "Running"
            kubelet = "Running" if name in ready and host == "Running" else "Stopped"
            entry = {"Name": name, "Host": host, "Kubelet": kubelet}
            if index == 0:
                entry |= {"APIServer": api, "Kubeconfig": config, "Worker": ""}
            else:
                entry |= {"APIServer": "Irrelevant", "Kubeconfig": "Irrelevant", "Worker": "1"}
            statuses.append(entry)
    if output == "json":
        shown = [
            {k: v for k, v in s.items() if k != "Worker"} | {"Worker": bool(s["Worker"])}
            for s in statuses
        ]
        click.echo(json.dumps(shown[0] if len(shown) == 1 else shown))
    else:
        for entry in statuses:
            click.echo(_text(entry, profile))
    raise click.exceptions.Exit(exit_code(statuses))


def _text(entry: dict[str, str], profile: str) -> str:
    if entry["Worker"]:
        return (
            f"{entry['Name']}\ntype: Worker\nhost: {entry['Host']}\nkubelet: {entry['Kubelet']}\n"
        )
    text = (
        f"{entry['Name']}\ntype: Control Plane\nhost: {entry['Host']}\nkubelet: "
        f"{entry['Kubelet']}\napiserver: {entry['APIServer']}\nkubeconfig: {entry['Kubeconfig']}\n"
    )
    if entry["Kubeconfig"] == "Misconfigured":
        text += (
            "\nWARNING: Your kubectl is pointing to stale minikube-py cluster.\n"
            f"To fix the kubectl context, run `{example(profile, 'update-context')}`\n"
        )
    return text


def exit_code(statuses: list[dict[str, str]]) -> int:
    """minikube's: a bit for the host, one for kubelet/API server, one for the kubeconfig."""
    code = 0
    for entry in statuses:
        if entry["Host"] != "Running":
            code |= HOST_NOT_RUNNING
        if entry["Kubelet"] != "Running" or entry["APIServer"] not in ("Running", "Irrelevant"):
            code |= CLUSTER_NOT_RUNNING
        if entry["Kubeconfig"] not in ("Configured", "Irrelevant"):
            code |= K8S_NOT_RUNNING
    return code


def node_named(nodes: list[Object], profile: str, wanted: str | None) -> Object:
    """The node ``-n`` names (``m02`` or ``<profile>-m02``; default the control plane)."""
    if not wanted:
        return nodes[0]
    for node in nodes:
        if _name(node) in (wanted, f"{profile}-{wanted}"):
            return node
    fail([f"retrieving node: Could not find node {wanted}"], EX_GUEST_NOT_FOUND)


def internal_ip(node: Object) -> str:
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") == "InternalIP":
            return str(address.get("address"))
    return ""


@click.command()
@profile_option
@click.option("-n", "--node", "node_name", help="The node to get IP. Defaults to the primary.")
def ip(profile: str, node_name: str | None) -> None:
    """Retrieves the IP address of the specified node."""
    nodes, _ = call_api(profile, cluster_nodes)
    click.echo(internal_ip(node_named(nodes, profile, node_name)))


@click.command("update-context")
@profile_option
def update_context(profile: str) -> None:
    """Update the kubeconfig in use to point at the profile's cluster's IP and port."""
    url = require_running(profile)
    changed = kubeconfig_state(profile, url) != "Configured"
    pki = Pki.at(profile_directory(profile))
    write_kubeconfig(profile=profile, server=url, pki=pki)
    if changed:
        address = url.removeprefix("https://")
        step(f'"{profile}" context has been updated to point to {address}')
    else:
        step(f'No changes required for the "{profile}" context')
    step(f'Current context is "{profile}"')


def render(line: str) -> str:
    """A JSON log line as people read it: time, level, component, event, the rest."""
    try:
        record = json.loads(line)
    except ValueError:
        return line.rstrip("\n")
    if not isinstance(record, dict):
        return line.rstrip("\n")
    when = str(record.pop("timestamp", ""))
    level = str(record.pop("level", "")).upper()[:1]
    component = record.pop("component", "")
    event = record.pop("event", "")
    rest = " ".join(f"{key}={value}" for key, value in record.items())
    stamp = f"{when[5:7]}{when[8:10]} {when[11:23]}"  # klog's: I1127 14:05:05.888
    return f"{level}{stamp} [{component}] {event} {rest}".rstrip()


@click.command()
@profile_option
@click.option("-f", "--follow", is_flag=True, help="Show only the most recent logs, then follow.")
@click.option("-n", "--length", default=60, show_default=True, help="Number of lines back.")
def logs(profile: str, follow: bool, length: int) -> None:
    """Returns logs to debug a local Kubernetes cluster (the profile's cluster.log)."""
    path: Path = require_profile(profile) / "cluster.log"
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            for line in file.readlines()[-length:] if length > 0 else file.readlines():
                click.echo(render(line))
            while follow:  # until interrupted (Ctrl-C), as ``tail -f``
                line = file.readline()
                if line:
                    click.echo(render(line))
                else:
                    time.sleep(0.2)
    except FileNotFoundError:
        step(f'There are no logs for the "{profile}" cluster yet: {path}')
    except KeyboardInterrupt:
        return
