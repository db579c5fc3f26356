"""``kubectl config current-context``: the context the kubeconfig names as current.

kubectl's ``config`` commands read and edit the kubeconfig file alone — no server is asked.
Only ``current-context`` is built in; ``minikube-py update-context`` and ``config view`` of
minikube-py cover the rest of what a minikube user needs.
"""

from __future__ import annotations

import argparse
from typing import Any

from minikube_py.kubectl.session import KubectlError, Session


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    config = commands.add_parser("config", parents=parents, help="Modify kubeconfig files")
    verbs = config.add_subparsers(dest="config_verb", metavar="SUBCOMMAND", required=True)
    current = verbs.add_parser(
        "current-context", parents=parents, help="Display the current-context"
    )
    current.set_defaults(run=current_context, needs_server=False)


async def current_context(session: Session, args: argparse.Namespace) -> int:
    name = session.config().get("current-context")
    if not name:
        raise KubectlError("current-context is not set")
    session.write(f"{name}\n")
    return 0
