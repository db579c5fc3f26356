"""``minikube-py node add|list|stop|start|delete``: the nodes of a running profile.

``list`` reads the Node objects. The others ask the running cluster's node manager
(``cluster/nodectl.py``) through its record, the ConfigMap ``kube-system/minikube-py-nodes``:
write a request with a fresh id, then wait (bounded) until the answer with that id is there.
Output follows minikube's ``node`` commands in its plain style.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import click

from minikube_py.api.errors import ApiError
from minikube_py.cli.common import (
    EX_GUEST_NOT_FOUND,
    call_api,
    fail,
    profile_option,
    ready_nodes,
    step,
)
from minikube_py.cli.profiles import profile_settings, save_profile_settings
from minikube_py.cli.status import cluster_nodes, internal_ip
from minikube_py.client.http import HttpClient
from minikube_py.client.protocol import CONFIGMAPS
from minikube_py.cluster import ClusterError
from minikube_py.cluster.nodectl import CONFIG_MAP, NAMESPACE, result_of

_ANSWER_SECONDS = 30.0
_READY_SECONDS = 60.0


async def _ask(client: HttpClient, action: str, name: str) -> dict[str, Any]:
    """Write the request, wait for the node manager's answer, then (add, start) for Ready."""
    request = json.dumps({"id": uuid.uuid4().hex, "action": action, "node": name})
    patch = {"data": {"request": request}}
    try:
        await client.patch(CONFIGMAPS, NAMESPACE, CONFIG_MAP, patch)
    except ApiError as error:
        if error.code != 404:
            raise
        created = {"metadata": {"name": CONFIG_MAP}, "data": {"request": request}}
        await client.create(CONFIGMAPS, NAMESPACE, created)
    wanted = json.loads(request)["id"]
    deadline = time.monotonic() + _ANSWER_SECONDS
    while time.monotonic() < deadline:
        result = result_of(await client.get(CONFIGMAPS, NAMESPACE, CONFIG_MAP))
        if result.get("id") == wanted:
            if not result.get("ok"):
                raise ClusterError(str(result.get("message")))
            if action in ("add", "start"):
                await _wait_ready(client, str(result["node"]))
            return result
        await asyncio.sleep(0.1)
    raise ClusterError(
        f"the cluster did not act on 'node {action}' within {_ANSWER_SECONDS:.0f} s "
        "(is it a minikube-py serve process of this version?)"
    )


async def _wait_ready(client: HttpClient, name: str) -> None:
    deadline = time.monotonic() + _READY_SECONDS
    while time.monotonic() < deadline:
        nodes, _ = await cluster_nodes(client)
        if name in ready_nodes(nodes)[0]:
            return
        await asyncio.sleep(0.1)
    raise ClusterError(f"node {name} was not Ready within {_READY_SECONDS:.0f} s")


def _full_name(profile: str, name: str) -> str:
    """minikube names nodes ``m02``; the Node object is ``<profile>-m02``."""
    return name if name == profile or name.startswith(f"{profile}-") else f"{profile}-{name}"


def _short(profile: str, name: str) -> str:
    return name.removeprefix(f"{profile}-")


@click.group()
def node() -> None:
    """Add, remove, or otherwise manage nodes."""


@node.command("list")
@profile_option
def list_nodes(profile: str) -> None:
    """List existing minikube-py nodes: name and address, tab-separated."""
    nodes, _ = call_api(profile, cluster_nodes)
    for item in nodes:
        click.echo(f"{item['metadata']['name']}\t{internal_ip(item)}")


@node.command()
@profile_option
def add(profile: str) -> None:
    """Adds a node to the given cluster."""
    count = int(profile_settings(profile).get("nodes") or 1)
    step(f"Adding node m{count + 1:02d} to cluster {profile} as [worker]")
    result = _run(profile, "add", "")
    name = _short(profile, str(result["node"]))
    save_profile_settings(profile, nodes=count + 1)
    step(f"Successfully added {name} to {profile}!")


def _run(profile: str, action: str, name: str) -> dict[str, Any]:
    try:
        result: dict[str, Any] = call_api(profile, lambda client: _ask(client, action, name))
    except click.ClickException as error:
        if "Could not find node" in error.message:
            fail([f"retrieving node: {error.message}"], EX_GUEST_NOT_FOUND)
        raise
    return result


@node.command()
@click.argument("name")
@profile_option
def stop(name: str, profile: str) -> None:
    """Stops a node in a cluster (its kubelet and containers end; the Node stays)."""
    full = _full_name(profile, name)
    step(f'Stopping node "{full}"  ...')
    _run(profile, "stop", full)
    step(f"Successfully stopped node {_short(profile, full)}")


@node.command()
@click.argument("name")
@profile_option
def start(name: str, profile: str) -> None:
    """Starts a node in a cluster."""
    full = _full_name(profile, name)
    step(f'Starting "{full}" worker node in "{profile}" cluster')
    _run(profile, "start", full)
    step(f"Successfully started node {_short(profile, full)}!")


@node.command()
@click.argument("name")
@profile_option
def delete(name: str, profile: str) -> None:
    """Deletes a node from a cluster."""
    full = _full_name(profile, name)
    step(f"Deleting node {_short(profile, full)} from cluster {profile}")
    _run(profile, "delete", full)
    count = int(profile_settings(profile).get("nodes") or 1)
    save_profile_settings(profile, nodes=max(1, count - 1))
    step(f"Node {_short(profile, full)} was successfully deleted.")
