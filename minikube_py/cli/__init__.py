"""The ``minikube-py`` command line: minikube's commands for clusters that run as processes.

Each command group lives in a module of its own — ``lifecycle.py`` (start, stop),
``deletion.py`` (delete), ``serve.py`` (the foreground cluster ``start`` runs),
``profiles.py``, ``status.py`` (status, ip, logs, update-context), ``service.py``,
``nodes.py``, ``settings.py`` (config), ``tools.py`` (kubectl, completion), ``images.py``
(image build|ls|rm|load) and ``addons.py`` — and is registered here. Errors are one
clear line and a non-zero exit, never a Python traceback: ``_Cli`` turns any exception a
command lets escape into such a line.
"""

from __future__ import annotations

from typing import Any

import click

from minikube_py import __version__
from minikube_py.cli.addons import addons
from minikube_py.cli.deletion import delete
from minikube_py.cli.images import image
from minikube_py.cli.lifecycle import start, stop
from minikube_py.cli.nodes import node
from minikube_py.cli.profiles import profile
from minikube_py.cli.serve import serve
from minikube_py.cli.service import service
from minikube_py.cli.settings import config
from minikube_py.cli.status import ip, logs, status, update_context
from minikube_py.cli.tools import completion, kubectl


class _Cli(click.Group):
    """The root group: an unexpected exception becomes ``Error: <what>`` and exit 1."""

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


for _command in (
    start,
    stop,
    delete,
    serve,
    status,
    ip,
    logs,
    update_context,
    profile,
    service,
    node,
    config,
    addons,
    image,
    kubectl,
    completion,
):
    main.add_command(_command)
