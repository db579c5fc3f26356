"""``kubectl describe``: a readable, detailed account of objects and the events about them.

``describe TYPE NAME…`` describes the named objects, ``describe TYPE/NAME…`` the same in one
word each, ``describe TYPE`` (with ``-l`` or not, ``-A`` or not) every object listed; a
category such as ``all`` stands for its member types. When the command has exactly two words
and a name is not found, kubectl treats the second as a *prefix* and describes every object of
the type whose name starts with it (``describe pods web`` shows all of ``web-…``), failing with
the original ``NotFound`` only if nothing matches. Several descriptions are separated by a
blank line; names that do not exist are reported after the others, and the exit code is 1.

What a description holds depends on the kind: the kinds in ``DESCRIBERS`` have their own
describers, grouped in ``describe_<group>.py``, as kubectl has; every other kind, custom
resources included, gets the generic one, which prints the object's fields as an indented
tree. Each describer takes the object as fetched and asks for what else it shows (events,
endpoints, replica sets, pods on a node).
"""

from __future__ import annotations

import argparse
from typing import Any

from minikube_py.api.errors import ApiError
from minikube_py.client.discovery import Resource
from minikube_py.client.protocol import Object
from minikube_py.kubectl import (
    describe_batch,
    describe_generic,
    describe_namespaces,
    describe_nodes,
    describe_pods,
    describe_services,
    describe_storage,
    describe_workloads,
)
from minikube_py.kubectl.describe_writer import Describer
from minikube_py.kubectl.session import KubectlError, Session
from minikube_py.kubectl.targets import SLASH_AND_TYPE, resources_named

# (API group, kind) → the describer kubectl has for it; anything else is described generically.
DESCRIBERS: dict[tuple[str, str], Describer] = {
    ("", "Pod"): describe_pods.describe_pod,
    ("apps", "Deployment"): describe_workloads.describe_deployment,
    ("apps", "ReplicaSet"): describe_workloads.describe_replica_set,
    ("apps", "StatefulSet"): describe_workloads.describe_stateful_set,
    ("apps", "DaemonSet"): describe_workloads.describe_daemon_set,
    ("batch", "Job"): describe_batch.describe_job,
    ("batch", "CronJob"): describe_batch.describe_cron_job,
    ("", "Service"): describe_services.describe_service,
    ("", "Endpoints"): describe_services.describe_endpoints,
    ("discovery.k8s.io", "EndpointSlice"): describe_services.describe_endpoint_slice,
    ("networking.k8s.io", "Ingress"): describe_services.describe_ingress,
    ("", "Node"): describe_nodes.describe_node,
    ("", "ConfigMap"): describe_generic.describe_config_map,
    ("", "Namespace"): describe_namespaces.describe_namespace,
    ("", "ResourceQuota"): describe_namespaces.describe_resource_quota,
    ("", "PersistentVolumeClaim"): describe_storage.describe_claim,
    ("", "PersistentVolume"): describe_storage.describe_volume,
    ("storage.k8s.io", "StorageClass"): describe_storage.describe_storage_class,
    ("", "LimitRange"): describe_namespaces.describe_limit_range,
    ("", "Secret"): describe_generic.describe_secret,
    ("", "ServiceAccount"): describe_generic.describe_service_account,
}

NO_TYPE = (
    'You must specify the type of resource to describe. Use "kubectl api-resources" for a '
    "complete list of supported resources."
)


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    describe = commands.add_parser(
        "describe",
        parents=parents,
        help="Show details of a specific resource or group of resources",
    )
    describe.add_argument("args", nargs="*")
    describe.add_argument("-l", "--selector", default="")
    describe.add_argument("-A", "--all-namespaces", action="store_true")
    describe.add_argument("--show-events", nargs="?", const="true", default="true", type=go_bool)
    describe.set_defaults(run=run)


def go_bool(value: str) -> bool:
    """A boolean flag's value as Go's ``strconv.ParseBool`` reads it."""
    if value in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if value in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise argparse.ArgumentTypeError(f'invalid argument "{value}" for "--show-events" flag')


def describer_for(resource: Resource) -> Describer:
    """The kind's own describer, else the generic one."""
    return DESCRIBERS.get((resource.gvr.group, resource.kind), describe_generic.describe_object)


async def _targets(session: Session, words: list[str]) -> list[tuple[Resource, str | None]]:
    """``(resource, name)`` for each name asked for; name None means "list them all"."""
    if "/" in words[0]:
        targets: list[tuple[Resource, str | None]] = []
        for word in words:
            kind, slash, name = word.partition("/")
            if not slash:
                raise KubectlError(SLASH_AND_TYPE)
            targets.append((await session.resource(kind), name))
        return targets
    if any("/" in word for word in words[1:]):
        raise KubectlError(SLASH_AND_TYPE)
    if "," in words[0] and len(words) > 1:
        raise KubectlError("you may only specify a single resource type")
    resources = [
        r for kind in words[0].split(",") if kind for r in await resources_named(session, kind)
    ]
    if len(words) == 1:
        return [(resource, None) for resource in resources]
    return [(resources[0], name) for name in words[1:]]


async def _list(
    session: Session, resource: Resource, namespace: str | None, selector: str
) -> list[Object]:
    params = {"labelSelector": selector} if selector else None
    return await session.list_all(resource.gvr.path(namespace), params)


async def run(session: Session, args: argparse.Namespace) -> int:
    words: list[str] = args.args
    if not words:
        raise KubectlError(NO_TYPE)
    if args.selector and ("/" in words[0] or len(words) > 1):
        raise KubectlError("name cannot be provided when a selector is specified")
    if args.all_namespaces and ("/" in words[0] or len(words) > 1):
        raise KubectlError("a resource cannot be retrieved by name across all namespaces")
    targets = await _targets(session, words)
    found: list[tuple[Resource, Object]] = []
    errors: list[ApiError] = []
    for resource, name in targets:
        namespace = None if args.all_namespaces else session.namespace_of(resource)
        if name is None:
            listed = await _list(session, resource, namespace, args.selector)
            found.extend((resource, obj) for obj in listed)
            continue
        namespace = session.namespace_of(resource)
        try:
            found.append((resource, await session.get_json(resource.gvr.path(namespace, name))))
        except ApiError as error:
            errors.append(error)
    show_events: bool = args.show_events
    if len(words) == 2 and any(error.code == 404 for error in errors):
        # kubectl's fallback for exactly two words: the second is a name prefix.
        return await _describe_prefix(session, words, targets[0][0], errors, show_events)
    for index, (resource, obj) in enumerate(found):
        text = await describer_for(resource)(session, resource, obj, show_events)
        session.write(text if index == 0 else f"\n\n{text}")
    for failure in errors:
        session.err.write(f"Error from server ({failure.reason}): {failure.message}\n")
    if not found and not errors:
        where = "" if args.all_namespaces else f" in {session.namespace} namespace."
        session.err.write(f"No resources found{where}\n")
    return 1 if errors else 0


async def _describe_prefix(
    session: Session,
    words: list[str],
    resource: Resource,
    errors: list[ApiError],
    show_events: bool,
) -> int:
    """Every object of the first word's type whose name starts with the second word; the
    original errors when none does. As in kubectl, a ``TYPE/NAME`` first word stands for that
    one object, and the search ignores ``-A`` and ``-l``."""
    namespace = session.namespace_of(resource)
    if "/" in words[0]:
        name = words[0].partition("/")[2]
        candidates = [await session.get_json(resource.gvr.path(namespace, name))]
    else:
        candidates = await _list(session, resource, namespace, "")
    prefix = words[1]
    matching = [o for o in candidates if str(o["metadata"].get("name", "")).startswith(prefix)]
    for obj in matching:
        session.write(await describer_for(resource)(session, resource, obj, show_events) + "\n")
    if matching:
        return 0
    for failure in errors:
        session.err.write(f"Error from server ({failure.reason}): {failure.message}\n")
    return 1
