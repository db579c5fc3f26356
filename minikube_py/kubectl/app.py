"""The built-in kubectl's command line: global flags, one sub-parser per command, kubectl's
error lines and exit codes.

kubectl accepts its global flags (``-n``, ``--context``, ``--kubeconfig``) before or after the
command, so every sub-parser inherits them from one parent parser. Errors end a run with exit
code 1 and one line, as kubectl prints them: ``Error from server (NotFound): pods "web" not
found`` for what the API server refused (its ``Status``; an ``Invalid`` one as ``The
Deployment "web" is invalid: …``), ``error: <message>`` for what kubectl itself found wrong,
and ``The connection to the server … was refused`` when nothing listens.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import pkgutil
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TextIO

import aiohttp

from minikube_py.api.errors import ApiError
from minikube_py.client.discovery import UnknownResource
from minikube_py.client.kubeconfig import KubeconfigError
from minikube_py.kubectl import manifests
from minikube_py.kubectl.session import KubectlError, Session


def command_modules() -> list[ModuleType]:
    """Every ``cmd_<name>`` module of this package; each adds its parsers in
    ``register(commands, parents)``, so a new command is a new module and nothing else."""
    package = Path(__file__).parent
    names = sorted(info.name for info in pkgutil.iter_modules([str(package)]))
    return [importlib.import_module(f"{__package__}.{n}") for n in names if n.startswith("cmd_")]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is kubectl's ``error: ...`` line, not a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise KubectlError(message)


def parser() -> argparse.ArgumentParser:
    """The whole command line: global flags and every command's sub-parser."""
    common = _Parser(add_help=False)
    common.add_argument("-n", "--namespace", default=argparse.SUPPRESS)
    common.add_argument("--context", default=argparse.SUPPRESS)
    common.add_argument("--kubeconfig", default=argparse.SUPPRESS)
    top = _Parser(prog="kubectl", parents=[common])
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in command_modules():
        module.register(commands, [common])
    return top


async def _run(session: Session, args: argparse.Namespace) -> int:
    try:
        code: int = await args.run(session, args)
        return code
    finally:
        await session.close()


def main(
    argv: Sequence[str],
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one kubectl command line (without the leading ``kubectl``); the exit code."""
    session = Session(stdin=stdin, stdout=stdout, stderr=stderr)
    try:
        args = parser().parse_args(list(argv))
        if getattr(args, "kubeconfig", None):
            session.kubeconfig = Path(args.kubeconfig)
        session.context_flag = getattr(args, "context", None)
        session.namespace_flag = getattr(args, "namespace", None)
        return asyncio.run(_run(session, args))
    except ApiError as error:
        session.err.write(manifests.failure_text(error))
    except aiohttp.ClientConnectorError as error:
        where = f"{error.host}:{error.port}"
        refused = isinstance(error.os_error, ConnectionRefusedError)
        session.err.write(
            f"The connection to the server {where} was refused - did you specify the right "
            "host or port?\n"
            if refused
            else f"Unable to connect to the server: {error.os_error}\n"
        )
    except (aiohttp.ClientError, OSError) as error:
        session.err.write(f"Unable to connect to the server: {error}\n")
    except (KubectlError, KubeconfigError, UnknownResource) as error:
        session.err.write(f"error: {error}\n")
    except KeyboardInterrupt:
        return 130
    return 1
