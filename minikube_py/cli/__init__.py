"""The ``minikube-py`` command line.

It grows with the cluster: today ``start`` / ``stop`` run a profile's cluster in the
background, ``serve`` runs it in the foreground, and ``addons list|enable|disable``
(``addons.py``) switch addons on the running cluster; the rest of minikube's commands arrive
with later issues. Errors are one clear line and a non-zero exit,
never a Python traceback.
"""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, Literal

import click

from minikube_py import __version__
from minikube_py.cli.addons import addons as addons_group
from minikube_py.cli.addons import record_serving
from minikube_py.cli.background import running_pid, start_background, stop_background
from minikube_py.cluster import ClusterConfig, ClusterError, running_cluster
from minikube_py.cluster.addons import check_addons
from minikube_py.config import ControllerSettings
from minikube_py.logs import configure_logging
from minikube_py.store import StoreError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """minikube-py: a local Kubernetes cluster in one Python process."""


main.add_command(addons_group)


@main.command()
def version() -> None:
    """Print the version of minikube-py."""
    click.echo(f"minikube-py version: v{__version__}")


@main.command()
@click.option("-p", "--profile", default="minikube", show_default=True, help="Profile name.")
@click.option("--address", help="Address to serve on (default: the first node's, 127.49.0.2).")
@click.option("--port", default=8443, show_default=True, help="HTTPS port (0: a free one).")
@click.option("--addons", default="", help="Addons to enable, comma-separated (ingress).")
def start(profile: str, address: str | None, port: int, addons: str) -> None:
    """Start a cluster in the background and point kubectl at it."""
    directory = ClusterConfig(profile=profile).directory
    chosen = _addon_names(addons)
    try:
        check_addons(chosen)
    except ClusterError as error:
        raise click.ClickException(str(error)) from None
    if running_pid(directory) is not None:
        click.echo(f'* The "{profile}" cluster is already running.')
        return
    click.echo(f'* minikube-py v{__version__} on profile "{profile}"')
    click.echo("* Starting control plane (store, API server) ...")
    args = ["--profile", profile, "--port", str(port)]
    if address:
        args += ["--address", address]
    if chosen:
        args += ["--addons", ",".join(chosen)]
    try:
        url, kubeconfig = start_background(directory, args)
    except (ClusterError, OSError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"* API server at {url}, kubeconfig {kubeconfig}")
    # minikube's line: the two always-on addons first, then the ones asked for
    click.echo(f"* Enabled addons: {', '.join(_ALWAYS_ON + chosen)}")
    click.echo(
        f'* Done! kubectl is now configured to use "{profile}" cluster and "default" '
        "namespace by default"
    )


@main.command()
@click.option("-p", "--profile", default="minikube", show_default=True, help="Profile name.")
def stop(profile: str) -> None:
    """Stop a cluster started with ``start`` (its state stays for the next start)."""
    directory = ClusterConfig(profile=profile).directory
    if stop_background(directory):
        click.echo(f'* Stopped the "{profile}" cluster.')
    else:
        click.echo(f'* The "{profile}" cluster is not running.')


@main.command()
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
        addons=_addon_names(addons),
    )
    configure_logging(json_file=config.directory / "cluster.log", console=False)
    try:
        _run_loop(_serve(config))
    except (ClusterError, StoreError, OSError, ValueError) as error:
        raise click.ClickException(str(error)) from None


_ALWAYS_ON = ("storage-provisioner", "default-storageclass")


def _addon_names(addons: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in addons.split(",") if name.strip())


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
        record_serving(config.directory, url, kubeconfig)  # how ``addons`` finds the server
        click.echo(f"minikube-py: serving {url} (kubeconfig: {kubeconfig})")

    async with running_cluster(config, on_serving=serving) as cluster:
        _tune_garbage_collection()
        names = ", ".join(agent.node.name for agent in cluster.agents)
        click.echo(f"minikube-py: nodes registered: {names}")
        await stop.wait()
    click.echo("minikube-py: stopped")


def _tune_garbage_collection() -> None:
    """A server process holds many long-lived objects (modules, the OpenAPI definitions,
    cached objects) and allocates many short-lived ones per request. Freezing what start-up
    made keeps full collections from walking it again, and a larger first generation makes
    the collector run less often while a big list is decoded; both shorten latency spikes.
    Only the ``serve`` process does this: an embedding program keeps its own settings."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
