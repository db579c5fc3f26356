"""``minikube-py addons list|enable|disable``: minikube's addon commands, on a running profile.

minikube keeps which addons are on in the profile's configuration; minikube_py keeps it in the
cluster (the ConfigMap ``kube-system/minikube-py-addons``, ``cluster/addons.py``), so these
commands are API clients of the profile's running API server: ``enable`` patches
``{"ingress": "true"}`` into that record and waits until the cluster's addon manager says the
component runs (minikube's "Verifying ingress addon..."), ``disable`` patches ``"false"``,
``list`` reads it. They find the server through the file ``serve`` writes into the profile
directory when it serves (``serving.json``: the URL and the kubeconfig it wrote, whose context
is named after the profile). Output follows minikube's plain (non-emoji) style.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import aiohttp
import attrs
import click

from minikube_py.api.errors import ApiError
from minikube_py.cli.background import running_pid
from minikube_py.cli.common import profile_option, table
from minikube_py.client.http import HttpClient
from minikube_py.client.kubeconfig import KubeconfigError
from minikube_py.client.protocol import CONFIGMAPS, Object
from minikube_py.cluster import ClusterConfig, ClusterError
from minikube_py.cluster.addons import (
    CATALOG,
    CONFIG_MAP,
    NAMESPACE,
    Addon,
    addon_error,
    enabled_addons,
    record_addons,
    running_addons,
)

T = TypeVar("T")
SERVING_FILE = "serving.json"
_VERIFY_SECONDS = 40.0  # a little over the manager's own limit for a component to listen
_OWNERS = "https://github.com/kubernetes/minikube/blob/master/OWNERS"
_PROFILE = profile_option  # the active profile by default, as every command


def record_serving(directory: Path, url: str, kubeconfig: Path | None) -> None:
    """Called by ``serve`` once the API server answers: where this profile's cluster is."""
    record = {"url": url, "kubeconfig": str(kubeconfig) if kubeconfig else None}
    (directory / SERVING_FILE).write_text(json.dumps(record))


@click.group()
def addons() -> None:
    """Enable or disable a minikube-py addon."""


@addons.command("list")
@_PROFILE
def list_addons(profile: str) -> None:
    """Lists all available addons as well as their current statuses (enabled/disabled)."""
    record = _run(_target(profile), lambda client: _read(client))
    enabled = enabled_addons(record)
    rows = [
        [name, profile, _status(name in enabled), addon.maintainer]
        for name, addon in sorted(CATALOG.items())
    ]
    click.echo(table(["ADDON NAME", "PROFILE", "STATUS", "MAINTAINER"], rows))


@addons.command()
@click.argument("name")
@_PROFILE
def enable(name: str, profile: str) -> None:
    """Enables the addon NAME within minikube-py."""
    addon, target = _addon(name), _target(profile)
    click.echo(
        f"* {name} is an addon maintained by {addon.maintainer}. For any concerns contact "
        "minikube on GitHub.\n"
        f"You can view the list of minikube maintainers at: {_OWNERS}"
    )
    if not addon.always_on:
        click.echo(f"* Verifying {name} addon...")
        _run(target, lambda client: _switch(client, name, on=True))
    click.echo(f"* The '{name}' addon is enabled")


@addons.command()
@click.argument("name")
@_PROFILE
def disable(name: str, profile: str) -> None:
    """Disables the addon NAME within minikube-py."""
    addon, target = _addon(name), _target(profile)
    if addon.always_on:
        click.echo(
            f"* minikube-py keeps the '{name}' addon on: its controller manager runs it in "
            "every cluster"
        )
        return
    _run(target, lambda client: _switch(client, name, on=False))
    click.echo(f"* The '{name}' addon is disabled")


def _addon(name: str) -> Addon:
    addon = CATALOG.get(name)
    if addon is None:
        raise click.ClickException(
            f"{name} is not a valid addon: the addons are {', '.join(sorted(CATALOG))}"
        )
    return addon


async def _read(client: HttpClient) -> Object | None:
    try:
        return await client.get(CONFIGMAPS, NAMESPACE, CONFIG_MAP)
    except ApiError as error:
        if error.code == 404:
            return None  # no addon ever recorded: the defaults
        raise


async def _switch(client: HttpClient, name: str, *, on: bool) -> None:
    """Record the choice, then wait (bounded) until the addon manager has acted on it."""
    await record_addons(client, {name: on})
    deadline = time.monotonic() + _VERIFY_SECONDS
    while time.monotonic() < deadline:
        record = await _read(client)
        if (name in running_addons(record)) == on:
            return
        error = addon_error(record)
        if on and error.startswith(f"{name}:"):
            raise ClusterError(f"the '{name}' addon could not start: {error[len(name) + 2 :]}")
        await asyncio.sleep(0.1)
    state = "start" if on else "stop"
    raise ClusterError(f"the '{name}' addon did not {state} within {_VERIFY_SECONDS:.0f} s")


@attrs.frozen
class _Target:
    """A running profile's API server, as its kubeconfig names it."""

    profile: str
    kubeconfig: str | None

    @property
    def not_running(self) -> str:
        return (
            f'The "{self.profile}" cluster is not running. To start a cluster, run: '
            f'"minikube-py start -p {self.profile}"'
        )


def _target(profile: str) -> _Target:
    """The profile's running cluster, or a one-line error (before anything is printed)."""
    directory = ClusterConfig(profile=profile).directory
    try:
        serving = json.loads((directory / SERVING_FILE).read_text())
    except (OSError, ValueError):
        serving = None
    target = _Target(profile, serving.get("kubeconfig") if isinstance(serving, dict) else None)
    if running_pid(directory) is None or not isinstance(serving, dict):
        raise click.ClickException(target.not_running)
    return target


def _run(target: _Target, action: Callable[[HttpClient], Awaitable[T]]) -> T:
    """Run ``action`` against the profile's API server; errors in one line."""

    async def main() -> T:
        async with HttpClient.from_kubeconfig(target.kubeconfig, target.profile) as client:
            return await action(client)

    try:
        return asyncio.run(main())
    except (aiohttp.ClientError, OSError):
        raise click.ClickException(target.not_running) from None
    except (ApiError, ClusterError, KubeconfigError) as error:
        raise click.ClickException(str(error)) from None


def _status(enabled: bool) -> str:
    # As minikube: the icon, or three spaces where it would be ("emoji indentation").
    return "enabled ✅" if enabled else "disabled    "
