"""``kubectl apply -f``: make the cluster's objects what the manifests say.

Client-side (the default), each object is looked up: a missing one is created with the
last-applied annotation; an existing one gets the three-way patch ``lastapplied`` computes —
strategic for built-in kinds, a JSON merge patch for custom resources — and kubectl says
``configured``, or ``unchanged`` when the patch is empty. A patch the server refuses because
the object changed meanwhile (409 Conflict) is computed again from a fresh read, as kubectl
retries. ``--server-side`` sends the manifest as an apply patch instead: the API server merges
it and keeps track of who owns which field (field manager ``kubectl``).

All manifests are read and mapped to resources first; what could not be read or mapped is
reported before what the server refused, every failure at the end, exit code 1 if any.

``--dry-run=client`` sends nothing, ``--dry-run=server`` sends with ``dryRun=All``; ``-o``
prints the resulting object instead of the verdict. Those flags and ``show`` (the verdict or
the object) are shared by every command that makes objects: create, run, expose.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import orjson

from minikube_py.api.errors import ApiError
from minikube_py.client.discovery import Resource
from minikube_py.client.protocol import Object
from minikube_py.kubectl import create_generators as make
from minikube_py.kubectl import lastapplied, manifests
from minikube_py.kubectl.goyaml import yaml_text
from minikube_py.kubectl.manifests import Target, with_source
from minikube_py.kubectl.naming import object_name
from minikube_py.kubectl.output import parse_output_flag, print_objects
from minikube_py.kubectl.session import KubectlError, Session

_PATCH_RETRIES = 5  # kubectl's maxPatchRetry
_STRATEGIC = "application/strategic-merge-patch+json"
_MERGE = "application/merge-patch+json"
_APPLY = "application/apply-patch+yaml"
_MISSING_ANNOTATION = (
    "Warning: resource {plural}/{name} is missing the "
    "kubectl.kubernetes.io/last-applied-configuration annotation which is required by kubectl "
    "apply. kubectl apply should only be used on resources created declaratively by either "
    "kubectl create --save-config or kubectl apply. The missing annotation will be patched "
    "automatically.\n"
)
_CONFLICT_ADVICE = """
Please review the fields above--they currently have other managers. Here
are the ways you can resolve this warning:
* If you intend to manage all of these fields, please re-run the apply
  command with the `--force-conflicts` flag.
* If you do not intend to manage all of the fields, please edit your
  manifest to remove references to the fields that should keep their
  current managers.
* You may co-own fields by updating your manifest to match the existing
  value; in this case, you'll become the manager if the other manager(s)
  stop managing the field (remove it from their configuration).
See https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts"""


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    apply = commands.add_parser(
        "apply", parents=parents, help="Apply a configuration to a resource by file name or stdin"
    )
    manifests.add_file_flags(apply)
    add_output_flags(apply)
    apply.add_argument("--server-side", action="store_true")
    apply.add_argument("--force-conflicts", action="store_true")
    apply.add_argument("--field-manager", default="")
    apply.set_defaults(run=run)
    verbs = apply.add_subparsers(dest="apply_verb", metavar="SUBCOMMAND")
    view = verbs.add_parser("view-last-applied", parents=parents)
    view.add_argument("words", nargs="*")
    manifests.add_file_flags(view)
    view.add_argument("-o", "--output", default="yaml")
    view.set_defaults(run=view_last_applied)


def add_output_flags(parser: argparse.ArgumentParser) -> None:
    """``--dry-run=none|client|server`` and ``-o``, as every creating command takes them."""
    parser.add_argument("--dry-run", nargs="?", const="client", default="none")
    parser.add_argument("-o", "--output", default="")
    parser.add_argument("--show-managed-fields", action="store_true")


def dry_run(args: argparse.Namespace) -> str:
    """``none``, ``client`` (nothing is sent) or ``server`` (sent with ``dryRun=All``)."""
    mode = str(getattr(args, "dry_run", "none") or "none")
    if mode not in ("none", "client", "server"):
        raise KubectlError(
            f'Invalid dry-run value ({mode}). Must be "none", "server", or "client".'
        )
    return mode


def show(
    session: Session,
    args: argparse.Namespace,
    resource: Resource,
    obj: Object,
    verb: str,
    *,
    built: bool = False,
) -> None:
    """What kubectl prints for an object it created, applied or exposed: ``-o`` of it, or
    ``deployment.apps/web created`` with ``(dry run)`` / ``(server dry run)``. ``built``: a
    generator's object that never went to the server (its JSON keeps Go's field order)."""
    mode = dry_run(args)
    if not getattr(args, "output", ""):
        suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(mode, "")
        name = (obj.get("metadata") or {}).get("name", "")
        session.write(f"{object_name(resource, name)} {verb}{suffix}\n")
        return
    output = parse_output_flag(args.output, show_managed_fields=args.show_managed_fields)
    if built and output.format == "json":
        session.write(make.struct_json(obj))  # a typed object: Go prints fields in struct order
        return
    print_objects(session, [obj], output, single=True)


async def run(session: Session, args: argparse.Namespace) -> int:
    if args.server_side and dry_run(args) == "client":
        raise KubectlError(
            "--dry-run=client doesn't work with --server-side (did you mean --dry-run=server "
            "instead?)"
        )
    placed, failures = await manifests.targets(session, args, "apply")
    for target in placed:
        try:
            if args.server_side:
                outcome, obj = await _server_side(session, target, args)
            else:
                outcome, obj = await _client_side(session, target, args)
        except ApiError as error:
            failures.append(error)
        except KubectlError as error:
            failures.append(str(error))
        else:
            show(session, args, target.resource, obj, outcome)
    return manifests.report(session, failures)


async def _client_side(
    session: Session, target: Target, args: argparse.Namespace
) -> tuple[str, Object]:
    """Create or patch one object; what happened and the object to show for ``-o``."""
    params = _params(args, "kubectl-client-side-apply")
    client_only = dry_run(args) == "client"
    if not target.name:
        if (target.obj.get("metadata") or {}).get("generateName"):
            generated = target.obj["metadata"]["generateName"]
            raise KubectlError(f"from {generated}: cannot use generate name with apply")
        raise KubectlError(
            f"error when retrieving current configuration of:\n{_described(target)}\n"
            f'from server for: "{target.source}": resource name may not be empty'
        )
    modified = lastapplied.annotated(target.obj)
    node = lastapplied.root_schema(str(target.obj["apiVersion"]), str(target.obj["kind"]))
    for attempt in range(_PATCH_RETRIES):
        try:
            current = await session.get_json(target.path)
        except ApiError as error:
            if error.code != 404:
                raise
            if client_only:
                return "created", modified
            collection = target.resource.gvr.path(target.namespace)
            try:
                raw = await session.client.request("POST", collection, params=params, body=modified)
            except ApiError as refused:
                raise with_source(refused, "creating", target.source) from None
            return "created", orjson.loads(raw)
        original = lastapplied.last_applied(current)
        if original is None and attempt == 0:
            plural = target.resource.gvr.resource
            session.err.write(_MISSING_ANNOTATION.format(plural=plural, name=target.name))
        if client_only:  # kubectl computes no patch then: the live object, "configured"
            return "configured", current
        patch = lastapplied.three_way_patch(original, modified, current, node)
        if not patch:
            return "unchanged", current
        try:
            raw = await session.client.request(
                "PATCH",
                target.path,
                params=params,
                body=patch,
                content_type=_MERGE if node is None else _STRATEGIC,
            )
        except ApiError as refused:
            if refused.reason == "Conflict" and attempt + 1 < _PATCH_RETRIES:
                continue
            raise _patch_error(refused, patch, target) from None
        return "configured", orjson.loads(raw)
    raise KubectlError("unreachable: the patch loop always returns or raises")


def _params(args: argparse.Namespace, manager: str) -> dict[str, str]:
    params = {"fieldManager": args.field_manager or manager, "fieldValidation": "Strict"}
    if dry_run(args) == "server":
        params["dryRun"] = "All"
    return params


def _patch_error(error: ApiError, patch: dict[str, Any], target: Target) -> ApiError:
    """kubectl's long form: the patch, the object it was for, then the server's words."""
    inner = with_source(error, "patching", target.source)
    shown = lastapplied.go_json(patch).rstrip("\n")
    return with_source(
        inner, f"applying patch:\n{shown}\nto:\n{_described(target)}\nfor:", target.source
    )


def _described(target: Target) -> str:
    """How kubectl names an object in its long errors (Go's GroupVersionResource strings)."""
    gvr = target.resource.gvr
    return (
        f'Resource: "{gvr.group}/{gvr.version}, Resource={gvr.resource}", GroupVersionKind: '
        f'"{gvr.group}/{gvr.version}, Kind={target.resource.kind}"\n'
        f'Name: "{target.name}", Namespace: "{target.namespace or ""}"'
    )


async def _server_side(
    session: Session, target: Target, args: argparse.Namespace
) -> tuple[str, Object]:
    params = _params(args, "kubectl")
    if args.force_conflicts:
        params["force"] = "true"
    try:
        raw = await session.client.request(
            "PATCH", target.path, params=params, body=target.obj, content_type=_APPLY
        )
    except ApiError as refused:
        if refused.reason == "Conflict":
            raise KubectlError(refused.message + _CONFLICT_ADVICE) from None
        raise with_source(refused, "patching", target.source) from None
    return "serverside-applied", orjson.loads(raw)


_NO_RESOURCES = """You must provide one or more resources by argument or filename.
Example resource specifications include:
   '-f rsrc.yaml'
   '--filename=rsrc.json'
   '<resource> <name>'
   '<resource>'"""


async def view_last_applied(session: Session, args: argparse.Namespace) -> int:
    """``apply view-last-applied TYPE NAME|-f FILE``: the configuration last applied, as YAML
    (sorted keys) or JSON (two-space indent); nothing for objects never applied."""
    if args.output not in ("yaml", "json"):
        raise KubectlError(
            f"Unexpected -o output mode: {args.output}, the flag 'output' must be one of "
            "yaml|json\nSee 'kubectl apply view-last-applied -h' for help and examples"
        )
    if args.filename:
        placed, failures = await manifests.targets(session, args, "view-last-applied")
        if failures:
            return manifests.report(session, failures)
        paths = [target.path for target in placed]
    else:
        words = [part for word in args.words for part in word.split("/", 1)]
        if not words:
            raise KubectlError(_NO_RESOURCES)
        if len(words) < 2:
            raise KubectlError("resource(s) were provided, but no name was specified")
        resource = await session.resource(words[0])
        namespace = session.namespace_of(resource)
        paths = [resource.gvr.path(namespace, name) for name in words[1:]]
    for path in paths:
        recorded = lastapplied.last_applied(await session.get_json(path))
        if recorded is None:
            continue
        if args.output == "json":
            session.write(json.dumps(recorded, indent=2, ensure_ascii=False) + "\n")
        else:
            session.write(yaml_text(recorded))
    return 0
