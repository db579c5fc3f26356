"""``kubectl get``: list or fetch objects and print them as the server's Table or with ``-o``.

The arguments name what to fetch: ``TYPE[,TYPE...] [NAME...]`` (every name of every type) or
``TYPE/NAME...``. A type with no name is listed (``-l``/``--field-selector`` filter it, ``-A``
lists every namespace); a name is fetched alone. For the default and ``-o wide`` output the
request asks for a ``Table`` (``Accept: application/json;as=Table;...``): the server decides the
columns, kubectl only lays them out — upper-cased headers, a blank line between the tables of
different kinds, ``kind/name`` names when several kinds print. Other formats ask for the
objects themselves. A name that is not found is reported after everything that was found, and
the exit code is 1. When nothing at all was found, kubectl says so on standard error: ``No
resources found in default namespace.``. ``-w`` prints the first answer, then follows changes
(``watching.py``).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import orjson

from minikube_py.api.errors import ApiError
from minikube_py.client.discovery import Resource
from minikube_py.client.protocol import Object
from minikube_py.kubectl import jsonpath, watching
from minikube_py.kubectl.naming import kind_group
from minikube_py.kubectl.output import (
    Output,
    TableOptions,
    TabWriter,
    parse_output_flag,
    print_objects,
    table_rows,
)
from minikube_py.kubectl.session import KubectlError, Session
from minikube_py.kubectl.targets import Wanted, wanted_of
from minikube_py.kubectl.watching import TABLE_ACCEPT

CHUNK_SIZE = 500  # kubectl lists in pages of 500 objects
_NO_TYPE = (
    'You must specify the type of resource to get. Use "kubectl api-resources" for a complete '
    "list of supported resources.\n\n"
    "error: Required resource not specified.\n"
    'Use "kubectl explain <resource>" for a detailed description of that resource '
    "(e.g. kubectl explain pods).\n"
    "See 'kubectl get -h' for help and examples\n"
)


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    get = commands.add_parser("get", parents=parents, help="Display one or many resources")
    get.add_argument("args", nargs="*")
    get.add_argument("-o", "--output")
    get.add_argument("-l", "--selector", default="")
    get.add_argument("--field-selector", default="")
    get.add_argument("-A", "--all-namespaces", action="store_true")
    get.add_argument("--show-labels", action="store_true")
    get.add_argument("-L", "--label-columns", action="append", default=[])
    get.add_argument("--show-kind", action="store_true")
    get.add_argument("--no-headers", action="store_true")
    get.add_argument("--show-managed-fields", action="store_true")
    get.add_argument("--ignore-not-found", action="store_true")
    get.add_argument("-w", "--watch", action="store_true")
    get.add_argument("--watch-only", action="store_true")
    get.add_argument("--output-watch-events", action="store_true")
    get.add_argument("--request-timeout", default="0")
    get.add_argument("--sort-by", default="")
    get.add_argument("--raw", default=None)
    get.set_defaults(run=run)


@dataclass
class Found:
    """What the server answered for a ``Wanted``: a Table, an object, or a list of them."""

    wanted: Wanted
    answer: Object


async def fetch(session: Session, wanted: Wanted, args: argparse.Namespace, table: bool) -> Object:
    """One answer from the server: the named object, or the whole (paged) collection."""
    resource = wanted.resource
    namespace = None if args.all_namespaces else session.namespace_of(resource)
    accept = TABLE_ACCEPT if table else None
    if wanted.name is not None:
        path = resource.gvr.path(session.namespace_of(resource), wanted.name)
        return _json(await session.client.request("GET", path, accept=accept))
    query = {
        "limit": str(CHUNK_SIZE),
        "labelSelector": args.selector,
        "fieldSelector": args.field_selector,
        "includeObject": "Object" if table and args.sort_by else "",  # sorted by its fields
    }
    params = {key: value for key, value in query.items() if value}
    path, field = resource.gvr.path(namespace), "rows" if table else "items"
    whole = page = _json(await session.client.request("GET", path, params=params, accept=accept))
    for _ in range(100_000):  # bounded: the server's continue tokens end
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            break
        params["continue"] = token
        page = _json(await session.client.request("GET", path, params=params, accept=accept))
        whole[field] = (whole.get(field) or []) + (page.get(field) or [])
        whole["metadata"] = page.get("metadata") or {}
    return whole


def _json(raw: bytes) -> Object:
    result: Object = orjson.loads(raw)
    return result


def error_line(error: ApiError) -> str:
    return f"Error from server ({error.reason}): {error.message}\n"


async def run(session: Session, args: argparse.Namespace) -> int:
    output = parse_output_flag(
        args.output, show_managed_fields=args.show_managed_fields, no_headers=args.no_headers
    )
    if args.raw is not None:
        if args.args:
            raise KubectlError("arguments may not be passed when --raw is specified")
        session.write((await session.client.request("GET", args.raw)).decode(errors="replace"))
        return 0
    if not args.args:
        session.err.write(_NO_TYPE)
        return 1
    wanted = await wanted_of(session, args.args)
    named = any(w.name is not None for w in wanted)
    if named and args.selector:
        raise KubectlError("name cannot be provided when a selector is specified")
    if named and args.all_namespaces:
        raise KubectlError("a resource cannot be retrieved by name across all namespaces")
    watch = args.watch or args.watch_only
    if watch and len({w.resource for w in wanted}) > 1:
        raise KubectlError("you may only specify a single resource type")
    found: list[Found] = []
    errors: list[ApiError] = []
    for one in wanted:
        try:
            found.append(Found(one, await fetch(session, one, args, output.is_table)))
        except ApiError as error:
            if not (error.code == 404 and args.ignore_not_found):
                errors.append(error)
    single = len(wanted) == 1 and named
    if watch:
        first = found[0].wanted.resource if found else None
        options = table_options(args, output, first, args.show_kind) if first else None
        seen = [
            watching.Seen(one.wanted.resource, one.wanted.name, one.answer, _objects([one]))
            for one in found
        ]
        return await watching.watch(session, args, output, options, seen, errors)
    if output.is_table:
        if args.sort_by:
            for answer in (one.answer for one in found):
                answer["rows"] = _sorted(answer.get("rows") or [], args.sort_by, table=True)
        _print_tables(session, args, output, found, errors)
    elif not (single and errors) and not (args.ignore_not_found and not found):
        objects = _objects(found)
        if args.sort_by:
            objects = _sorted(objects, args.sort_by, table=False)
        print_objects(session, objects, output, single=single)
    for failure in errors:
        session.err.write(error_line(failure))
    return 1 if errors else 0


def _sorted(items: list[Object], expression: str, *, table: bool) -> list[Object]:
    """``--sort-by``: objects (or Table rows, by their object) ordered by a field — missing
    first, then numbers, then text. None has it: kubectl prints no rows, or fails for ``-o``."""
    template = jsonpath.relaxed(expression)
    try:
        steps = jsonpath.parse(template)[0].steps
    except (jsonpath.JsonPathError, IndexError, AttributeError):
        raise KubectlError(f"couldn't parse --sort-by expression {expression!r}") from None

    def key(item: Object) -> tuple[int, Any]:
        obj = item.get("object") or {} if table else item
        values = jsonpath.walk(steps, obj, obj)
        value = values[0] if values else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (1, value)
        return (2, jsonpath.text(value)) if values else (0, 0)

    if items and not any(key(item)[0] for item in items):
        if table:
            return []
        raise KubectlError(
            f'couldn\'t find any field with path "{template}" in the list of objects'
        )
    return sorted(items, key=key)  # stable, as Go's sort is for the short lists kubectl sees


def _objects(found: list[Found]) -> list[Object]:
    """The objects of the answers, list items given the ``apiVersion`` and ``kind`` they
    leave out on the wire."""
    objects: list[Object] = []
    for one in found:
        if one.wanted.name is not None:
            objects.append(one.answer)
            continue
        resource = one.wanted.resource
        for item in one.answer.get("items") or []:
            objects.append({"apiVersion": resource.api_version, "kind": resource.kind, **item})
    return objects


def table_options(
    args: argparse.Namespace, output: Output, resource: Resource, with_kind: bool
) -> TableOptions:
    return TableOptions(
        wide=output.format == "wide",
        with_namespace=args.all_namespaces and resource.namespaced,
        kind=kind_group(resource) if with_kind else "",
        show_labels=args.show_labels,
        no_headers=args.no_headers,
        label_columns=tuple(k for keys in args.label_columns for k in keys.split(",") if k),
    )


def _print_tables(
    session: Session,
    args: argparse.Namespace,
    output: Output,
    found: list[Found],
    errors: list[ApiError],
) -> None:
    """Each run of answers of one kind as one aligned table; blank lines between them."""
    with_kind = args.show_kind or len({one.wanted.resource for one in found}) > 1
    written = False
    index = 0
    while index < len(found):
        resource = found[index].wanted.resource
        options = table_options(args, output, resource, with_kind)
        lines: list[list[str]] = []
        while index < len(found) and found[index].wanted.resource == resource:
            lines += table_rows(found[index].answer, options, header=not lines)
            index += 1
        text = TabWriter().render(lines)
        if text and written and not args.no_headers:
            session.write("\n")
        session.write(text)
        written = written or bool(text)
    if not written and not errors and not args.ignore_not_found:
        namespaced = not args.all_namespaces and all(f.wanted.resource.namespaced for f in found)
        where = f" in {session.namespace} namespace." if namespaced else ""
        session.err.write(f"No resources found{where}\n")
