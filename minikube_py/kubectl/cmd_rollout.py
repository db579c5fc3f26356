"""``kubectl rollout status|history|undo|restart|pause|resume``: follow and steer a rollout.

A rollout is a Deployment (or DaemonSet, StatefulSet) replacing its pods with ones of a new
pod template. ``status`` watches it to the end (``rollout_status.py``); ``history`` and
``undo`` read and restore old revisions (``rollout_history.py``). The rest are one patch each,
made by kubectl itself: ``restart`` stamps ``kubectl.kubernetes.io/restartedAt`` into the pod
template's annotations — a new template, so the controller rolls every pod — and ``pause`` /
``resume`` set a Deployment's ``spec.paused``, which holds its controller from rolling out
template changes (a paused Deployment can be neither restarted nor rolled back).
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from minikube_py.client.discovery import Resource
from minikube_py.kubectl import naming, rollout_history, rollout_status, rollout_undo
from minikube_py.kubectl.session import KubectlError, Session

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
_RESTARTABLE = {("apps", "Deployment"), ("apps", "DaemonSet"), ("apps", "StatefulSet")}


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    rollout = commands.add_parser(
        "rollout", parents=parents, help="Manage the rollout of a resource"
    )
    verbs = rollout.add_subparsers(dest="rollout_verb", metavar="SUBCOMMAND", required=True)
    status = verbs.add_parser("status", parents=parents, help="Show the status of the rollout")
    status.add_argument("-w", "--watch", nargs="?", const="true", default="true")
    status.add_argument("--timeout", default="0s")
    status.add_argument("--revision", type=int, default=0)
    status.set_defaults(run=rollout_status.run_status)
    history = verbs.add_parser("history", parents=parents, help="View rollout history")
    history.add_argument("--revision", type=int, default=0)
    history.set_defaults(run=rollout_history.run_history)
    undo = verbs.add_parser("undo", parents=parents, help="Undo a previous rollout")
    undo.add_argument("--to-revision", type=int, default=0)
    undo.add_argument("--dry-run", nargs="?", const="unchanged", default="none")
    undo.set_defaults(run=rollout_undo.run_undo)
    restart = verbs.add_parser("restart", parents=parents, help="Restart a resource")
    restart.set_defaults(run=run_restart)
    pause = verbs.add_parser("pause", parents=parents, help="Mark the provided resource as paused")
    pause.set_defaults(run=run_pause)
    resume = verbs.add_parser("resume", parents=parents, help="Resume a paused resource")
    resume.set_defaults(run=run_resume)
    for verb in (status, history, undo, restart, pause, resume):
        verb.add_argument("words", nargs="*")


def _quoted(resource: Resource, name: str) -> str:
    """``deployments.apps "web"``: how kubectl's rollout errors name an object."""
    group = f".{resource.gvr.group}" if resource.gvr.group else ""
    return f'{resource.gvr.resource}{group} "{name}"'


def _rfc3339_now() -> str:
    """Go's ``time.Now().Format(time.RFC3339)``: local time, ``Z`` for UTC."""
    return datetime.now().astimezone().isoformat(timespec="seconds").replace("+00:00", "Z")


async def run_restart(session: Session, args: argparse.Namespace) -> int:
    for resource, obj in await rollout_history.targets(session, args.words):
        name = obj["metadata"]["name"]
        if (resource.gvr.group, resource.kind) not in _RESTARTABLE:
            raise KubectlError(f"{_quoted(resource, name)} restarting is not supported")
        if resource.kind == "Deployment" and (obj.get("spec") or {}).get("paused"):
            raise KubectlError(
                f"{_quoted(resource, name)} can't restart paused deployment "
                "(run rollout resume first)"
            )
        stamp = _rfc3339_now()
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        await session.client.patch(
            resource.gvr, session.namespace_of(resource), name, patch, patch_type="strategic"
        )
        session.write(f"{naming.object_name(resource, name)} restarted\n")
    return 0


async def _set_paused(session: Session, args: argparse.Namespace, paused: bool) -> int:
    verb, state = ("pausing", "already paused") if paused else ("resuming", "not paused")
    for resource, obj in await rollout_history.targets(session, args.words):
        name = obj["metadata"]["name"]
        if (resource.gvr.group, resource.kind) != ("apps", "Deployment"):
            raise KubectlError(f"{_quoted(resource, name)} {verb} is not supported")
        if bool((obj.get("spec") or {}).get("paused")) == paused:
            raise KubectlError(f"{_quoted(resource, name)} is {state}")
        await session.client.patch(
            resource.gvr,
            session.namespace_of(resource),
            name,
            {"spec": {"paused": paused}},
            patch_type="strategic",
        )
        done = "paused" if paused else "resumed"
        session.write(f"{naming.object_name(resource, name)} {done}\n")
    return 0


async def run_pause(session: Session, args: argparse.Namespace) -> int:
    return await _set_paused(session, args, True)


async def run_resume(session: Session, args: argparse.Namespace) -> int:
    return await _set_paused(session, args, False)
