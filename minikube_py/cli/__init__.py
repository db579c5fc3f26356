"""The ``minikube-py`` command line.

It grows with the cluster: today it prepares a profile's state directory and its store (the
cluster's etcd); the API server, nodes and the rest of minikube's commands arrive with later
issues. Errors are one clear line and a non-zero exit, never a Python traceback.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import click

from minikube_py import __version__
from minikube_py.cluster import ClusterConfig, ClusterError, running_cluster
from minikube_py.logs import configure_logging
from minikube_py.store import Encryption, StoreError, load_or_create_key, open_store


def _home() -> Path:
    return Path(os.environ.get("MINIKUBE_PY_HOME", Path.home() / ".minikube_py"))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """minikube-py: a local Kubernetes cluster in one Python process."""


@main.command()
def version() -> None:
    """Print the version of minikube-py."""
    click.echo(f"minikube-py version: v{__version__}")


@main.command()
@click.option("-p", "--profile", default="minikube", show_default=True, help="Profile name.")
def start(profile: str) -> None:
    """Start a cluster (today: its state directory and store)."""
    state = _home() / "profiles" / profile
    try:
        configure_logging(json_file=state / "cluster.log", console=False)
        revision = asyncio.run(_prepare_store(state))
    except (StoreError, OSError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f'* minikube-py v{__version__} on profile "{profile}"')
    click.echo(f"* Store ready: {state / 'state.db'} (revision {revision})")
    click.echo(
        "* Not a background cluster yet: run `python3 -m minikube_py serve` for the API "
        "server in the foreground; nodes and pods arrive with the next releases."
    )


async def _prepare_store(state: Path) -> int:
    key = load_or_create_key(state / "encryption.key")
    store = await open_store(f"sqlite:///{state / 'state.db'}", encryption=Encryption(key))
    try:
        return await store.current_revision()
    finally:
        await store.close()


@main.command()
@click.option("-p", "--profile", default="minikube", show_default=True, help="Profile name.")
@click.option("--state-dir", type=click.Path(path_type=Path), help="State directory.")
@click.option("--address", default="127.49.0.2", show_default=True, help="Address to serve on.")
@click.option("--port", default=8443, show_default=True, help="HTTPS port (0: a free one).")
@click.option(
    "--kubeconfig", type=click.Path(path_type=Path), help="Write a standalone kubeconfig."
)
@click.option("--store", "store_url", help="Store URL (default: SQLite in the state directory).")
def serve(
    profile: str,
    state_dir: Path | None,
    address: str,
    port: int,
    kubeconfig: Path | None,
    store_url: str | None,
) -> None:
    """Run the cluster in the foreground until interrupted (SIGINT / SIGTERM)."""
    config = ClusterConfig(
        profile=profile,
        state_dir=state_dir,
        address=address,
        port=port,
        store_url=store_url,
        kubeconfig=kubeconfig,
    )
    configure_logging(json_file=config.directory / "cluster.log", console=False)
    try:
        _run_loop(_serve(config))
    except (ClusterError, StoreError, OSError, ValueError) as error:
        raise click.ClickException(str(error)) from None


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
    async with running_cluster(config) as cluster:
        click.echo(f"minikube-py: serving {cluster.url} (kubeconfig: {cluster.kubeconfig})")
        await stop.wait()
    click.echo("minikube-py: stopped")
