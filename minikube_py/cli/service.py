"""``minikube-py service NAME [--url]`` and ``service list``: where to reach a Service.

A NodePort (or LoadBalancer) Service is reachable on every node's address at its node port,
so minikube prints ``http://<node address>:<nodePort>``; here the node address is a loopback
address of the profile's address slot (``minikube-py ip``) where the service proxy really
listens. A Service without a node port (ClusterIP) gets minikube's "has no node port" line.
minikube opens the URL in a browser without ``--url``; minikube_py prints it either way.
"""

from __future__ import annotations

from typing import Any

import click

from minikube_py.api.errors import ApiError
from minikube_py.cli.common import EX_SVC_NOT_FOUND, call_api, fail, profile_option, step, table
from minikube_py.cli.status import cluster_nodes, internal_ip
from minikube_py.client.http import HttpClient
from minikube_py.client.protocol import SERVICES, Object


def urls(service: Object, address: str, scheme: str = "http") -> list[tuple[str, str]]:
    """(target port as minikube shows it, URL) for each port with a node port."""
    found = []
    for port in (service.get("spec") or {}).get("ports") or []:
        if port.get("nodePort"):
            shown = f"{port['name']}/{port['port']}" if port.get("name") else str(port["port"])
            found.append((shown, f"{scheme}://{address}:{port['nodePort']}"))
    return found


async def _lookup(client: HttpClient, namespace: str | None, name: str | None) -> Any:
    nodes, _ = await cluster_nodes(client)
    address = internal_ip(nodes[0]) if nodes else ""
    if name is None:
        return address, list((await client.list(SERVICES, namespace)).get("items") or [])
    try:
        return address, [await client.get(SERVICES, namespace, name)]
    except ApiError as error:
        if error.code == 404:
            return address, []
        raise


class _ServiceGroup(click.Group):
    """``service list`` is a subcommand, ``service NAME`` the command itself: as minikube."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        names = [a for a in args if not a.startswith("-")]
        if names and names[0] not in self.commands:
            ctx.meta["service_args"] = args
            return []
        return super().parse_args(ctx, args)


@click.group(cls=_ServiceGroup, invoke_without_command=True)
@click.pass_context
def service(context: click.Context) -> None:
    """Returns a URL to connect to a service: service NAME [--url] [-n NS]."""
    if context.invoked_subcommand is not None:
        return
    args = context.meta.get("service_args")
    if not args:
        raise click.UsageError("You must specify a service name")
    with open_service.make_context("service", list(args), parent=context) as inner:
        open_service.invoke(inner)


@click.command("service")
@click.argument("name")
@profile_option
@click.option("-n", "--namespace", default="default", show_default=True)
@click.option("--url", "url_mode", is_flag=True, help="Print the URL (always done here).")
@click.option("--https", is_flag=True, help="Use https instead of http in the URL.")
def open_service(name: str, profile: str, namespace: str, url_mode: bool, https: bool) -> None:
    address, found = call_api(profile, lambda client: _lookup(client, namespace, name))
    if not found:
        fail(
            [
                f"Service '{name}' was not found in '{namespace}' namespace.",
                f"You may select another namespace by using 'minikube-py service {name} -n "
                "<namespace>'. Or list out all the services using 'minikube-py service list'",
            ],
            EX_SVC_NOT_FOUND,
        )
    pairs = urls(found[0], address, "https" if https else "http")
    if not pairs:
        step(f"service {namespace}/{name} has no node port")
        return
    if not url_mode:
        rows = [[namespace, name, target, url] for target, url in pairs]
        click.echo(table(["NAMESPACE", "NAME", "TARGET PORT", "URL"], rows))
    for _, url in pairs:
        click.echo(url)


@service.command("list")
@profile_option
@click.option("-n", "--namespace", help="The services namespace (default: all).")
def list_services(profile: str, namespace: str | None) -> None:
    """Lists the URLs for the services in your local cluster."""
    address, services = call_api(profile, lambda client: _lookup(client, namespace, None))
    rows = []
    for item in sorted(services, key=lambda s: (s["metadata"]["namespace"], s["metadata"]["name"])):
        meta = item["metadata"]
        pairs = urls(item, address)
        if not pairs:
            rows.append([meta["namespace"], meta["name"], "No node port", ""])
        for target, url in pairs:
            rows.append([meta["namespace"], meta["name"], target, url])
    click.echo(table(["NAMESPACE", "NAME", "TARGET PORT", "URL"], rows))
