"""The ``minikube-py`` command line: minikube's commands for clusters that run as processes.

Each command group lives in a module of its own — ``lifecycle.py`` (start, stop),
``deletion.py`` (delete), ``serve.py`` (the foreground cluster ``start`` runs),
``profiles.py``, ``status.py`` (status, ip, logs, update-context), ``service.py``,
``nodes.py``, ``settings.py`` (config), ``tools.py`` (kubectl, completion), ``images.py``
(image build|ls|rm|load) and ``addons.py`` — and is registered here by name, imported only
when it runs: ``start`` need not load the API server, nor ``version`` anything. Errors are one
clear line and a non-zero exit, never a Python traceback: ``_Cli`` turns any exception a
command lets escape into such a line.
"""

from __future__ import annotations

import gc
import importlib
from typing import Any

import click

from minikube_py import __version__

# command name -> the module defining it (the function is named as the command, "-" as "_")
_COMMANDS = {
    "start": "lifecycle",
    "stop": "lifecycle",
    "delete": "deletion",
    "serve": "serve",
    "status": "status",
    "ip": "status",
    "logs": "status",
    "update-context": "status",
    "profile": "profiles",
    "service": "service",
    "node": "nodes",
    "config": "settings",
    "addons": "addons",
    "image": "images",
    "kubectl": "tools",
    "completion": "tools",
}


class _Cli(click.Group):
    """The root group: commands loaded on demand; an unexpected exception becomes ``Error:
    <what>`` and exit 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = _COMMANDS.get(cmd_name)
        if module is None:
            return super().get_command(ctx, cmd_name)
        loaded = importlib.import_module(f"{__name__}.{module}")
        command: click.Command = getattr(loaded, cmd_name.replace("-", "_"))
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] == "serve":  # about to run a server: serve._tune_garbage_collection
            gc.disable()  # (here, not in get_command, which --help calls for every command)
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            raise click.Abort() from None
        except Exception as error:
            message = str(error) or type(error).__name__
            raise click.ClickException(message.splitlines()[0]) from None


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """minikube-py: a local Kubernetes cluster in one Python process."""


@main.command()
def version() -> None:
    """Print the version of minikube-py."""
    click.echo(f"minikube-py version: v{__version__}")
