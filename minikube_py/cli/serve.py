"""``minikube-py serve``: run one cluster in the foreground until SIGINT or SIGTERM.

``start`` runs this same command as a background process; a test or a service manager may
run it directly. Before the cluster starts, ``serve`` claims its address slot
(``minikube_py.slots``), preferring the one ``--slot`` names — the slot the profile had last
time, so its node and service addresses stay put across a stop and a start — and its API
server port: ``--port`` if that port is free on the node address, else the next free one
(8443 can be taken, e.g. by a real minikube). What it got is recorded in the profile's
``profile.json`` and ``serving.json`` for the other commands.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import signal
import socket
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, Literal

import attrs
import click

from minikube_py.api.errors import ApiError
from minikube_py.cli.addons import record_serving
from minikube_py.cli.common import addon_names, read_json, ready_nodes, write_json
from minikube_py.cli.profiles import PROFILE_FILE
from minikube_py.client.protocol import CONFIGMAPS, NODES, Client
from minikube_py.cluster import ClusterConfig, ClusterError, running_cluster
from minikube_py.cluster.addon_catalog import CONFIG_MAP as ADDONS_RECORD
from minikube_py.cluster.addon_catalog import NAMESPACE as ADDONS_NAMESPACE
from minikube_py.cluster.addon_catalog import enabled_addons
from minikube_py.cluster.nodectl import NodeControl
from minikube_py.config import ControllerSettings
from minikube_py.logs import configure_logging
from minikube_py.slots import NoFreeSlot, claimed_slot
from minikube_py.store import StoreError

_PORT_TRIES = 100
_GC_OFF_SECONDS = 30.0  # the collector stays off at start-up until Ready, or this long


@click.command()
@click.option("-p", "--profile", default="minikube", show_default=True, help="Profile name.")
@click.option("--state-dir", type=click.Path(path_type=Path), help="State directory.")
@click.option("--address", help="Address to serve on (default: the first node's, 127.49.0.2).")
@click.option("--port", default=8443, show_default=True, help="HTTPS port (0: a free one).")
@click.option(
    "--kubeconfig", type=click.Path(path_type=Path), help="Write a standalone kubeconfig."
)
@click.option("--store", "store_url", help="Store URL (default: SQLite in the state directory).")
@click.option("--nodes", default=1, show_default=True, help="Number of nodes.")
@click.option("--cpus", help="CPUs per node, e.g. 2 (default: the machine's).")
@click.option("--memory", help="Memory per node, e.g. 4Gi (default: the machine's).")
@click.option("--slot", type=int, default=0, help="Preferred address slot (minikube_py.slots).")
@click.option(
    "--runtime",
    type=click.Choice(["process", "fake"]),
    default="process",
    show_default=True,
    help="Containers as real processes, or fake ones that run at once (for scale tests).",
)
@click.option(
    "--crash-backoff",
    type=float,
    default=10.0,
    show_default=True,
    help="First restart back-off in seconds (upstream: 10; shorter for tests).",
)
@click.option(
    "--controllers",
    default="*",
    show_default=True,
    help="Controllers to run, as kube-controller-manager's flag: '*' all, 'name' one, "
    "'-name' not that one (e.g. '*,-deployment').",
)
@click.option("--addons", default="", help="Addons to run, comma-separated (ingress).")
def serve(
    profile: str,
    state_dir: Path | None,
    address: str | None,
    port: int,
    kubeconfig: Path | None,
    store_url: str | None,
    nodes: int,
    cpus: str | None,
    memory: str | None,
    slot: int,
    runtime: Literal["process", "fake"],
    crash_backoff: float,
    controllers: str,
    addons: str,
) -> None:
    """Run the cluster in the foreground until interrupted (SIGINT / SIGTERM)."""
    config = ClusterConfig(
        profile=profile,
        state_dir=state_dir,
        address=address,
        port=port,
        store_url=store_url,
        kubeconfig=kubeconfig,
        nodes=nodes,
        cpus=cpus,
        memory=memory,
        runtime=runtime,
        crash_backoff=crash_backoff,
        controllers=ControllerSettings(tuple(n.strip() for n in controllers.split(",") if n)),
        addons=addon_names(addons),
    )
    configure_logging(json_file=config.directory / "cluster.log", console=False)
    try:
        with claimed_slot(slot) as plan:
            host = address or plan.node_address(0)
            config = attrs.evolve(config, network=plan, port=_free_port(host, port))
            _run_loop(_serve(config))
    except NoFreeSlot as error:
        raise click.ClickException(str(error)) from None
    except (ClusterError, StoreError, OSError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    finally:
        gc.enable()  # ended before Ready, maybe: the process (a test's, say) goes on


def _free_port(host: str, port: int) -> int:
    """``port`` if nothing listens on it at ``host``, else the next free one above it."""
    if port == 0:
        return 0
    for candidate in range(port, min(port + _PORT_TRIES, 65536)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
            try:
                probe.bind((host, candidate))
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    continue
                return port  # another failure: let the server report it
            return candidate
    return port


def _record(config: ClusterConfig, url: str) -> None:
    """Where this run is: the next ``start`` asks for the same slot and port again."""
    path = config.directory / PROFILE_FILE
    settings = read_json(path)
    plan = config.network
    host, _, port = url.removeprefix("https://").rpartition(":")
    settings.update(
        name=config.profile, address=host, port=int(port), slot=plan.slot if plan else 0
    )
    write_json(path, settings)


def _run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` on uvloop where it is installed: its C transports and TLS leave more of
    the one core a Python process has to the API server itself."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


async def _serve(config: ClusterConfig) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    def serving(url: str, kubeconfig: Path | None) -> None:
        # As soon as the API server answers (upstream's readyz): the nodes and controllers
        # are still starting, and say so in the next line.
        record_serving(config.directory, url, kubeconfig)  # how the commands find the server
        _record(config, url)
        click.echo(f"minikube-py: serving {url} (kubeconfig: {kubeconfig})")

    async with running_cluster(config, on_serving=serving) as cluster:
        # ``node add|stop|start|delete`` reach this process's nodes through the API
        client = cluster.api_server.client("minikube-py-nodes")
        nodectl = asyncio.create_task(NodeControl(client, cluster.nodes).run(), name="nodectl")
        names = ", ".join(agent.node.name for agent in cluster.agents)
        click.echo(f"minikube-py: nodes registered: {names}")
        ready = asyncio.create_task(_announce_ready(client, len(cluster.agents)), name="ready")
        try:
            await stop.wait()
        finally:
            for task in (nodectl, ready):
                task.cancel()
            await asyncio.gather(nodectl, ready, return_exceptions=True)
            await client.close()
    click.echo("minikube-py: stopped")


async def _announce_ready(client: Client, count: int) -> None:
    """Print ``ready: <nodes> (addons: …)`` once every node is Ready — the line ``start``
    waits for, as ``minikube start`` waits for its node — with the addons the cluster's record
    enables, which ``start`` reports."""
    loop = asyncio.get_running_loop()
    collector_deadline = loop.time() + _GC_OFF_SECONDS
    while True:
        ready, waiting = ready_nodes((await client.list(NODES)).get("items") or [])
        if len(ready) >= count and not waiting:
            break
        if loop.time() > collector_deadline:
            gc.enable()  # not Ready yet: the collector cannot wait any longer for it
        await asyncio.sleep(0.02)  # an in-process list: cheap, and Ready comes within moments
    try:
        record = await client.get(CONFIGMAPS, ADDONS_NAMESPACE, ADDONS_RECORD)
    except ApiError:
        record = None
    addons = ", ".join(sorted(enabled_addons(record)))
    click.echo(f"minikube-py: ready: {', '.join(ready)} (addons: {addons})")
    _tune_garbage_collection()  # after the line: ``start`` need not wait for a collection


def _tune_garbage_collection() -> None:
    """A server process holds many long-lived objects (modules, the OpenAPI definitions,
    cached objects) and allocates many short-lived ones per request. Freezing what start-up
    made keeps full collections from walking it again, and a larger first generation makes
    the collector run less often while a big list is decoded; both shorten latency spikes.
    Only the ``serve`` process does this: an embedding program keeps its own settings.

    The collector was off since the command was chosen (``minikube_py.cli``): start-up builds
    only objects that live as long as the process — modules, classes, the registry — so
    collecting while it runs is wasted time; it is collected once, here, and switched on."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    gc.enable()
