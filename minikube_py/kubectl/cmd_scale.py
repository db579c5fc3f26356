"""``kubectl scale``: set the number of replicas of a Deployment, ReplicaSet, StatefulSet,
ReplicationController (or a custom resource with a scale subresource).

kubectl never edits ``spec.replicas`` of the object itself: it writes the object's ``scale``
subresource, an ``autoscaling/v1`` ``Scale`` that every scalable kind serves, with a merge
patch ``{"spec":{"replicas":N}}``. ``--current-replicas=M`` makes it conditional: kubectl reads
the Scale, refuses if its replicas are not M (``Expected replicas to be M, was K``), and
writes it back whole, so the resourceVersion it read guards against a change in between.
The objects are named as for ``get`` (``TYPE NAME``, ``TYPE/NAME``) or picked with ``-l`` or
``--all``; each one scaled prints ``deployment.apps/web scaled``.
"""

from __future__ import annotations

import argparse
from typing import Any

from minikube_py.api.errors import ApiError
from minikube_py.kubectl.cmd_get import error_line
from minikube_py.kubectl.naming import object_name
from minikube_py.kubectl.output import only_names_output
from minikube_py.kubectl.session import KubectlError, Session
from minikube_py.kubectl.targets import wanted_of


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    scale = commands.add_parser(
        "scale", parents=parents, help="Set a new size for a deployment, replica set, ..."
    )
    scale.add_argument("args", nargs="*")
    scale.add_argument("--replicas", type=int, default=None)
    scale.add_argument("--current-replicas", type=int, default=-1)
    scale.add_argument("-l", "--selector", default="")
    scale.add_argument("--all", action="store_true")
    scale.add_argument("-o", "--output", default="")
    scale.set_defaults(run=run)


def _go_errors(errors: list[ApiError]) -> str:
    """An aggregate of errors as Go writes it: one message alone, several in brackets."""
    messages = [error.message for error in errors]
    return messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"


async def run(session: Session, args: argparse.Namespace) -> int:
    if args.replicas is None:
        raise KubectlError('required flag(s) "replicas" not set')
    if args.replicas < 0:
        raise KubectlError(
            "The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0"
        )
    only_names_output(args.output)
    if not args.args:
        raise KubectlError("You must provide one or more resources by argument or filename.")
    wanted = await wanted_of(session, args.args)
    named = any(one.name is not None for one in wanted)
    if named and (args.selector or args.all):
        raise KubectlError("name cannot be provided when a selector is specified")
    if not named and not (args.selector or args.all):
        raise KubectlError("resource(s) were provided, but no name was specified")
    # kubectl reads every object first; the ones that exist are scaled, the rest reported
    objects: list[tuple[Any, str, str | None]] = []
    errors: list[ApiError] = []
    for one in wanted:
        namespace = session.namespace_of(one.resource)
        try:
            if one.name is not None:
                await session.get_json(one.resource.gvr.path(namespace, one.name))
                objects.append((one.resource, one.name, namespace))
                continue
            params = {"labelSelector": args.selector} if args.selector else None
            listed = await session.get_json(one.resource.gvr.path(namespace), params)
            for item in listed.get("items") or []:
                objects.append((one.resource, item["metadata"]["name"], namespace))
        except ApiError as error:
            errors.append(error)
    if not objects:
        raise KubectlError(f"no objects passed to scale {_go_errors(errors)}".rstrip())
    for resource, name, namespace in objects:
        path = resource.gvr.path(namespace, name, "scale")
        if args.current_replicas >= 0:
            current = await session.get_json(path)
            was = (current.get("spec") or {}).get("replicas", 0)
            if was != args.current_replicas:
                raise KubectlError(f"Expected replicas to be {args.current_replicas}, was {was}")
            current.setdefault("spec", {})["replicas"] = args.replicas
            await session.client.request("PUT", path, body=current)
        else:
            await session.client.request(
                "PATCH",
                path,
                body={"spec": {"replicas": args.replicas}},
                content_type="application/merge-patch+json",
            )
        shown = object_name(resource, name)
        session.write(f"{shown}\n" if args.output == "name" else f"{shown} scaled\n")
    for failure in errors:
        session.err.write(error_line(failure))
    return 1 if errors else 0
