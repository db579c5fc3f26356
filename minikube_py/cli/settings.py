"""``minikube-py config set|get|unset|view``: defaults for ``start``, kept across runs.

As minikube's ``config`` command: ``config set cpus 4`` stores the value in
``~/.minikube_py/config.json`` and a later ``start`` of a new profile uses it when no flag
says otherwise (an existing profile keeps what it was created with, as minikube warns). The
``profile`` key is the active profile (``minikube-py profile NAME`` sets the same key).
"""

from __future__ import annotations

import click

from minikube_py.cli.common import EX_USAGE, fail, home, read_json, step, write_json

# minikube's settings that mean something here, with what a value must look like
SETTINGS = {
    "cpus": "a number of CPUs per node, e.g. 2",
    "memory": "memory per node, e.g. 4Gi or 4096",
    "nodes": "a number of nodes, e.g. 2",
    "profile": "the active profile's name",
    "kubernetes-version": "v1.32.x",
    "driver": "accepted and ignored (minikube-py)",
    "container-runtime": "accepted and ignored (process)",
}
_KEYS = {"kubernetes-version": "kubernetes_version", "container-runtime": "container_runtime"}


def _path() -> str:
    return str(home() / "config.json")


def _check(name: str, value: str | None = None) -> str:
    if name not in SETTINGS:
        fail(
            [
                f'Exiting due to MK_USAGE: Set failed: find settings for "{name}": property name '
                f'"{name}" not found (known: {", ".join(sorted(SETTINGS))})'
            ],
            EX_USAGE,
        )
    if value is not None and name in ("cpus", "nodes") and not value.isdigit():
        fail([f'Exiting due to MK_USAGE: Set failed: "{value}" is not {SETTINGS[name]}'], EX_USAGE)
    return _KEYS.get(name, name)


@click.group()
def config() -> None:
    """Modify persistent configuration values (the defaults of start)."""


@config.command("set")
@click.argument("name")
@click.argument("value")
def set_value(name: str, value: str) -> None:
    """Sets an individual value in the minikube-py config file."""
    key = _check(name, value)
    settings = read_json(home() / "config.json")
    settings[key] = int(value) if name in ("cpus", "nodes") else value
    write_json(home() / "config.json", settings)
    if name != "profile":
        step(
            "These changes will take effect upon a minikube-py delete and then a minikube-py start"
        )


@config.command("get")
@click.argument("name")
def get_value(name: str) -> None:
    """Gets the value of NAME from the minikube-py config file."""
    key = _check(name)
    value = read_json(home() / "config.json").get(key)
    if value is None:
        raise click.ClickException("specified key could not be found in config")
    click.echo(value)


@config.command("unset")
@click.argument("name")
def unset_value(name: str) -> None:
    """Unsets an individual value in the minikube-py config file."""
    key = _check(name)
    settings = read_json(home() / "config.json")
    settings.pop(key, None)
    write_json(home() / "config.json", settings)


@config.command("view")
def view() -> None:
    """Display values currently set in the minikube-py config file."""
    reverse = {key: name for name, key in _KEYS.items()}
    for key, value in sorted(read_json(home() / "config.json").items()):
        click.echo(f"- {reverse.get(key, key)}: {value}")
