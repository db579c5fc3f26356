"""Profiles: ``minikube-py profile list`` and ``profile NAME``, and what a profile remembers.

A profile is one cluster with a name (``minikube`` unless ``-p`` says otherwise) and a
directory, ``~/.minikube_py/profiles/<name>``, holding its store, certificates, pods and logs.
As minikube keeps ``config.json`` per profile, ``start`` writes ``profile.json`` there: the
choices the cluster was started with (nodes, CPUs, memory, addons, store) and where it ran
(its address slot and API server port), so the next ``start`` brings the same cluster back
at the same addresses. The *active* profile — the one commands use without ``-p`` — is kept
in ``~/.minikube_py/config.json`` beside ``minikube-py config`` settings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from minikube_py.cli.common import (
    EX_GUEST_NOT_FOUND,
    active_profile,
    fail,
    home,
    profile_directory,
    profile_exists,
    read_json,
    serving_url,
    step,
    table,
    write_json,
)
from minikube_py.config import KUBERNETES_VERSION

PROFILE_FILE = "profile.json"
DRIVER = "minikube-py"  # the "VM Driver" column: no VM, no container, one Python process
RUNTIME = "process"  # containers are host processes (cluster/nodes.py)


def profile_settings(profile: str) -> dict[str, Any]:
    """What ``profile`` was last started with (``{}`` for a new profile)."""
    return read_json(profile_directory(profile) / PROFILE_FILE)


def save_profile_settings(profile: str, **changes: Any) -> dict[str, Any]:
    """Merge ``changes`` into the profile's record (``None`` values are left out)."""
    settings = profile_settings(profile)
    settings.update({key: value for key, value in changes.items() if value is not None})
    settings["name"] = profile
    write_json(profile_directory(profile) / PROFILE_FILE, settings)
    return settings


def profile_names() -> list[str]:
    """Every profile ``start`` made, by name."""
    root = home() / "profiles"
    if not root.is_dir():
        return []
    return sorted(entry.name for entry in root.iterdir() if profile_exists(entry.name))


def set_active_profile(profile: str | None) -> None:
    """Make ``profile`` the active one (``None``: back to the default)."""
    path = home() / "config.json"
    config = read_json(path)
    if profile is None:
        config.pop("profile", None)
    else:
        config["profile"] = profile
    write_json(path, config)


def _address_and_port(directory: Path, settings: dict[str, Any]) -> tuple[str, str]:
    """The API server's address and port: from the running server, else as last run."""
    url = serving_url(directory) or read_json(directory / "serving.json").get("url")
    if isinstance(url, str) and url.startswith("https://"):
        host, _, port = url.removeprefix("https://").rstrip("/").rpartition(":")
        return host, port
    return str(settings.get("address", "")), str(settings.get("port", ""))


def _row(profile: str, active: str) -> list[str]:
    directory = profile_directory(profile)
    settings = profile_settings(profile)
    address, port = _address_and_port(directory, settings)
    status = "Running" if serving_url(directory) else "Stopped"  # the API server's state
    return [
        profile,
        DRIVER,
        RUNTIME,
        address,
        port,
        str(settings.get("kubernetes_version") or KUBERNETES_VERSION),
        status,
        str(settings.get("nodes") or 1),
        "*" if profile == active else "",
    ]


class _ProfileGroup(click.Group):
    """``profile list`` is a subcommand, ``profile NAME`` an argument: as minikube's."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            ctx.meta["profile_name"] = args[0]
            args = args[1:]
        return super().parse_args(ctx, args)


@click.group(cls=_ProfileGroup, invoke_without_command=True)
@click.pass_context
def profile(context: click.Context) -> None:
    """Get or list the current profiles (clusters); profile NAME makes NAME active."""
    if context.invoked_subcommand is not None:
        return
    name: str | None = context.meta.get("profile_name")
    if name is None:
        click.echo(active_profile())
        return
    if not profile_exists(name):
        step(
            f"if you want to create a profile you can by this command: minikube-py start -p {name}"
        )
    set_active_profile(name)
    step(f"minikube-py profile was successfully set to {name}")


@profile.command("list")
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table")
def list_profiles(output: str) -> None:
    """Lists all minikube-py profiles."""
    names = profile_names()
    active = active_profile()
    rows = [_row(name, active) for name in names]
    if output == "json":
        keys = ["Name", "Driver", "Runtime", "IP", "Port", "Version", "Status", "Nodes"]
        valid = [
            dict(zip(keys, row[:-1], strict=True)) | {"Active": row[-1] == "*"} for row in rows
        ]
        click.echo(json.dumps({"invalid": [], "valid": valid}))
        return
    if not rows:
        fail(["No minikube-py profile was found."], EX_GUEST_NOT_FOUND)
    header = ["Profile", "Driver", "Runtime", "IP", "Port", "Version", "Status", "Nodes", "Active"]
    click.echo(table(header, rows))
