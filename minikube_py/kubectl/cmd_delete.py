"""``kubectl delete``: delete named objects, a file's objects, or every object a selector picks.

What to delete comes as ``TYPE NAME...``, ``TYPE/NAME...``, ``-f FILE`` or ``TYPE`` with
``-l``/``--field-selector``/``--all`` (kubectl lists those first, then deletes them one by one —
it never asks the server for a collection delete). Each delete is a ``DELETE`` carrying
``DeleteOptions``: ``propagationPolicy`` from ``--cascade`` (Background unless told otherwise:
dependents are garbage-collected afterwards; Foreground: the owner waits for them; Orphan: they
stay) and ``gracePeriodSeconds`` from ``--grace-period``/``--now``/``--force``. A line per object
says it went (``configmap "web" deleted``), then — ``--wait`` being on by default — kubectl waits
until every deleted object is really gone: a pod until its containers stopped and the kubelet
removed it, an object with finalizers until they are done.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from dataclasses import dataclass
from typing import Any

from minikube_py.api.errors import ApiError
from minikube_py.client.discovery import Resource
from minikube_py.kubectl import manifests
from minikube_py.kubectl.cmd_get import error_line
from minikube_py.kubectl.naming import object_name, quoted_name
from minikube_py.kubectl.output import only_names_output
from minikube_py.kubectl.session import KubectlError, Session
from minikube_py.kubectl.targets import Wanted, wanted_of
from minikube_py.kubectl.watching import seconds

FORCE_WARNING = (
    "Warning: Immediate deletion does not wait for confirmation that the running resource has "
    "been terminated. The resource may continue to run on the cluster indefinitely.\n"
)
_NOTHING_GIVEN = (
    "You must provide one or more resources by argument or filename.\n"
    "Example resource specifications include:\n"
    "   '-f rsrc.yaml'\n"
    "   '--filename=rsrc.json'\n"
    "   '<resource> <name>'\n"
    "   '<resource>'"
)
_CASCADES = {"background": "Background", "foreground": "Foreground", "orphan": "Orphan"}
_LEGACY_CASCADES = {"true": "background", "false": "orphan"}
WAIT_FOREVER = 7 * 24 * 3600.0  # --timeout=0: "forever", as long as kubectl's week


def flag(value: str) -> bool:
    """A Go boolean flag's value: ``--wait``, ``--wait=false``."""
    if value.lower() in ("true", "1", "t"):
        return True
    if value.lower() in ("false", "0", "f"):
        return False
    raise KubectlError(f'invalid argument "{value}": strconv.ParseBool: parsing "{value}"')


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    delete = commands.add_parser("delete", parents=parents, help="Delete resources")
    delete.add_argument("args", nargs="*")
    delete.add_argument("-f", "--filename", action="append", default=[])
    delete.add_argument("-R", "--recursive", action="store_true")
    delete.add_argument("-l", "--selector", default="")
    delete.add_argument("--field-selector", default="")
    delete.add_argument("--all", action="store_true")
    delete.add_argument("-A", "--all-namespaces", action="store_true")
    delete.add_argument("--grace-period", type=int, default=-1)
    delete.add_argument("--now", action="store_true")
    delete.add_argument("--force", action="store_true")
    delete.add_argument("--wait", nargs="?", const="true", default="true")
    delete.add_argument("--ignore-not-found", nargs="?", const="true", default=None)
    delete.add_argument("--cascade", nargs="?", const="background", default="background")
    delete.add_argument("--timeout", default="0s")
    delete.add_argument("-o", "--output", default="")
    delete.add_argument("--dry-run", nargs="?", const="client", default="none")
    delete.set_defaults(run=run)


@dataclass(frozen=True)
class Target:
    """One object to delete."""

    resource: Resource
    namespace: str | None
    name: str
    source: str = ""  # the file that named it (-f), for kubectl's error message


def _grace_period(args: argparse.Namespace) -> int | None:
    """``gracePeriodSeconds`` to send (None: the object's own), checked as kubectl does."""
    grace: int = args.grace_period
    if args.now:
        if grace != -1:
            raise KubectlError("--now and --grace-period cannot be specified together")
        grace = 1
    if args.force and grace > 0:
        raise KubectlError("--force and --grace-period greater than 0 cannot be specified together")
    if grace == 0 and not args.force:
        grace = 1  # kubectl turns a bare --grace-period=0 into 1 to avoid accidental loss
    if args.force and grace < 0:
        grace = 0
    return None if grace < 0 else grace


def _propagation(session: Session, value: str) -> str:
    if value.lower() in _LEGACY_CASCADES:
        replacement = _LEGACY_CASCADES[value.lower()]
        session.err.write(
            f"warning: --cascade={value} is deprecated (boolean value) and can be replaced "
            f"with --cascade={replacement}.\n"
        )
        value = replacement
    if value not in _CASCADES:
        raise KubectlError(
            f'invalid cascade value ({value}). Must be "background", "foreground", or "orphan"'
        )
    return _CASCADES[value]


async def _targets(session: Session, args: argparse.Namespace) -> list[Target]:
    """Every object the arguments, files and selectors name, in kubectl's order."""
    targets: list[Target] = []
    reading = manifests.read(args.filename, recursive=args.recursive, stdin=session.stdin)
    for problem in reading.errors:
        raise KubectlError(problem)
    for manifest in reading.manifests:
        placed = await manifests.place(session, manifest)
        targets.append(Target(placed.resource, placed.namespace, placed.name, placed.source))
    if not args.args:
        if not args.filename:
            raise KubectlError(_NOTHING_GIVEN)
        return targets
    wanted = await wanted_of(session, args.args)
    named = [w for w in wanted if w.name is not None]
    if named and (args.selector or args.all):
        raise KubectlError("name cannot be provided when a selector is specified")
    if args.all and args.selector:
        raise KubectlError("setting 'all' parameter but found a non empty selector. ")
    if not named and not (args.selector or args.field_selector or args.all):
        raise KubectlError("resource(s) were provided, but no name was specified")
    for one in wanted:
        if one.name is not None:
            targets.append(Target(one.resource, session.namespace_of(one.resource), one.name))
        else:
            targets += await _listed(session, args, one)
    return targets


async def _listed(session: Session, args: argparse.Namespace, wanted: Wanted) -> list[Target]:
    resource = wanted.resource
    namespace = None if args.all_namespaces else session.namespace_of(resource)
    params = {
        k: v
        for k, v in (("labelSelector", args.selector), ("fieldSelector", args.field_selector))
        if v
    }
    listed = await session.get_json(resource.gvr.path(namespace), params)
    return [
        Target(resource, item["metadata"].get("namespace"), item["metadata"]["name"])
        for item in listed.get("items") or []
    ]


async def run(session: Session, args: argparse.Namespace) -> int:
    propagation = _propagation(session, args.cascade)
    grace = _grace_period(args)
    wait = flag(args.wait)
    ignore_not_found = flag(args.ignore_not_found) if args.ignore_not_found else args.all
    only_names_output(args.output)
    if args.dry_run not in ("none", "server", "client"):
        raise KubectlError(
            f'Invalid dry-run value ({args.dry_run}). Must be "none", "server", or "client".'
        )
    targets = await _targets(session, args)
    if args.force and grace == 0:
        session.err.write(FORCE_WARNING)
    if not targets:
        session.write("No resources found\n")
        return 0
    errors: list[str] = []
    deleted: list[tuple[Target, str]] = []
    verb = "force deleted" if args.force and grace == 0 else "deleted"
    verb += {"none": "", "client": " (dry run)", "server": " (server dry run)"}[args.dry_run]
    for target in targets:
        if args.all_namespaces and session.namespace_flag and target.namespace:
            # kubectl's quirk: with -A, an explicit -n is compared with every object's namespace
            errors.append(
                f'the namespace from the provided object "{target.namespace}" does not match '
                'the namespace "". You must pass \'--namespace='
                f"{target.namespace}' to perform this operation.\n"
            )
            continue
        try:
            gone = {}  # a client-side dry run asks the server nothing
            if args.dry_run != "client":
                gone = await session.client.delete(
                    target.resource.gvr,
                    target.namespace,
                    target.name,
                    propagation_policy=propagation,
                    grace_period_seconds=grace,
                    dry_run=args.dry_run == "server",
                )
        except ApiError as error:
            if target.source:
                error = manifests.with_source(error, "deleting", target.source)
            if not (error.code == 404 and ignore_not_found):
                errors.append(error_line(error))
            continue
        if args.output == "name":
            session.write(object_name(target.resource, target.name) + "\n")
        else:
            session.write(f"{quoted_name(target.resource, target.name)} {verb}\n")
        # the deleted object, or a Status whose details name the uid (kinds deleted at once)
        uid = (gone.get("metadata") or {}).get("uid") or (gone.get("details") or {}).get("uid")
        deleted.append((target, str(uid or "")))
    if wait and args.dry_run == "none":
        limit = seconds(args.timeout) or WAIT_FOREVER
        deadline = time.monotonic() + limit
        for target, uid in deleted:
            await _wait_gone(session, target, uid, deadline)
    for failure in errors:
        session.err.write(failure)
    return 1 if errors else 0


async def _wait_gone(session: Session, target: Target, uid: str, deadline: float) -> None:
    """Until the object named ``target`` with ``uid`` is gone (a newcomer of that name does
    not count), watching it rather than asking again and again."""
    path = target.resource.gvr.path(target.namespace, target.name)
    while (left := deadline - time.monotonic()) > 0:
        try:
            current = await session.get_json(path)
        except ApiError as error:
            if error.code == 404:
                return
            raise
        metadata = current.get("metadata") or {}
        if uid and metadata.get("uid") != uid:
            return
        events = session.client.watch(
            target.resource.gvr,
            target.namespace,
            resource_version=str(metadata.get("resourceVersion") or ""),
            field_selector=f"metadata.name={target.name}",
            timeout_seconds=max(1, min(int(left), 60)),
        )
        async with contextlib.aclosing(events):
            async for event_type, _ in events:
                if event_type == "DELETED":
                    return
    raise KubectlError(
        f"timed out waiting for the condition on {object_name(target.resource, target.name)}"
    )
