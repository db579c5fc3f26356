"""What ``kubectl apply -f`` and ``kubectl create -f`` read: files, directories, standard input.

``-f`` names a file (read whatever its name), a directory (its ``.yaml``, ``.yml`` and
``.json`` files in name order; with ``-R`` its subdirectories too, depth first) or ``-`` for
standard input, whose objects kubectl says come from ``STDIN``. A file holds one or more YAML
documents separated by ``---`` (JSON is YAML too); empty documents are skipped and a
``kind: List`` (or ``ConfigMapList``, as ``get -o yaml`` writes) stands for its ``items``.

YAML is read as kubectl's converter reads it: a date such as ``2024-01-01`` stays a string
(Go's YAML-to-JSON step has no timestamps), everything else as YAML 1.1 says. A document
without ``apiVersion`` or ``kind`` stops the reading of its file with kubectl's validation
message; the objects before it are still used, as kubectl streams a file and stops at the
first bad document.

Each object is then *placed*: the resource holding its kind (any served version, as kubectl's
mapper knows them all) and its namespace — the manifest's, else ``-n`` or the context's; a
manifest naming another namespace than an explicit ``-n`` is kubectl's error. ``report``
prints what failed at the end of a run as kubectl does: one failure alone (an ``Invalid``
Status told from its causes: ``The Deployment "web" is invalid: spec.replicas: ...``), or
several, one per line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import yaml

from minikube_py.api.errors import ApiError
from minikube_py.client.discovery import Resource, find_kind, resources_of
from minikube_py.client.protocol import Object
from minikube_py.kubectl.session import KubectlError, Session

STDIN = "STDIN"
Failure = ApiError | str  # what went wrong with one object: the server's error or kubectl's
_SUFFIXES = (".yaml", ".yml", ".json")
_VALIDATE_HINT = "if you choose to ignore these errors, turn validation off with --validate=false"


class _Loader(yaml.SafeLoader):
    """YAML 1.1 without timestamps: kubectl hands a date to the API server as a string."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# Go's YAML 1.1 reads a lone y or n as a boolean too (PyYAML does not)
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN"))


def _boolean(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> bool:
    return str(loader.construct_scalar(node)).lower() in ("y", "yes", "true", "on")


_Loader.add_constructor("tag:yaml.org,2002:bool", _boolean)


@dataclass(frozen=True)
class Manifest:
    """One object read from ``source`` (a file path as given, or ``STDIN``)."""

    source: str
    obj: Object


@dataclass
class Reading:
    """Everything ``-f`` gave: the objects in order, and the errors that stopped a file."""

    manifests: list[Manifest]
    errors: list[str]


def read(filenames: list[str], *, recursive: bool, stdin: TextIO) -> Reading:
    """The objects of every ``-f``; a path that does not exist ends the run, as in kubectl."""
    reading = Reading([], [])
    for name in filenames:
        if name == "-":
            _read_text(stdin.read(), STDIN, reading)
            continue
        path = Path(name)
        if not path.exists():
            raise KubectlError(f'the path "{name}" does not exist')
        files = list(_files(name, recursive=recursive))
        if not files:
            raise KubectlError(
                f"error reading [{name}]: recognized file extensions are [.json .yaml .yml]"
            )
        for file in files:
            try:
                text = Path(file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                reading.errors.append(f"error reading {file}: {error}")
                continue
            _read_text(text, file, reading)
    return reading


def _files(name: str, *, recursive: bool) -> Iterator[str]:
    """The files ``-f name`` stands for, spelled as kubectl names them in its messages."""
    if not os.path.isdir(name):
        yield name
        return
    for entry in sorted(os.listdir(name)):
        path = os.path.join(name, entry)
        if os.path.isdir(path):
            if recursive:
                yield from _files(path, recursive=True)
        elif entry.endswith(_SUFFIXES):
            yield path


def _read_text(text: str, source: str, reading: Reading) -> None:
    try:
        documents = list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as error:
        reading.errors.append(
            f"error parsing {source}: error converting YAML to JSON: yaml: {_problem(error)}"
        )
        return
    for document in documents:
        try:
            reading.manifests.extend(Manifest(source, obj) for obj in _objects(document))
        except _Invalid as invalid:
            reading.errors.append(
                f'error validating "{source}": error validating data: {invalid}; {_VALIDATE_HINT}'
            )
            return


class _Invalid(Exception):
    """A document kubectl's validation refuses (the message is kubectl's)."""


def _objects(document: Any) -> Iterator[Object]:
    if document is None:
        return
    if not isinstance(document, dict):
        raise _Invalid("invalid object to validate")
    missing = [field for field in ("apiVersion", "kind") if not document.get(field)]
    if missing:
        words = [f"{field} not set" for field in missing]
        raise _Invalid(words[0] if len(words) == 1 else f"[{', '.join(words)}]")
    if str(document["kind"]).endswith("List") and isinstance(document.get("items"), list):
        for item in document["items"]:
            yield from _objects(item)
        return
    yield document


def _problem(error: yaml.YAMLError) -> str:
    """``line 3: did not find expected node content``, as Go's YAML parser words it."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    problem = re.sub(r"\s+", " ", str(problem)).strip()
    return f"line {mark.line + 1}: {problem}" if mark is not None else problem


# ------------------------------------------------------------------ where an object goes


@dataclass(frozen=True)
class Target:
    """A manifest's object with the resource that holds it and its namespace filled in."""

    source: str
    obj: Object
    resource: Resource
    namespace: str | None

    @property
    def name(self) -> str:
        return str((self.obj.get("metadata") or {}).get("name") or "")

    @property
    def path(self) -> str:
        return self.resource.gvr.path(self.namespace, self.name)


async def place(session: Session, manifest: Manifest) -> Target:
    """Where ``manifest`` goes; kubectl's messages (``KubectlError``) for an unknown kind or
    a namespace other than an explicit ``-n``."""
    obj = dict(manifest.obj)
    metadata = dict(obj.get("metadata") or {})
    api_version, kind = str(obj["apiVersion"]), str(obj["kind"])
    resource = await session.resource_of_kind(api_version, kind) or await _any_version(
        session, api_version, kind
    )
    if resource is None:
        raise KubectlError(
            f'resource mapping not found for name: "{metadata.get("name", "")}" namespace: '
            f'"{metadata.get("namespace", "")}" from "{manifest.source}": no matches for kind '
            f'"{kind}" in version "{api_version}"\nensure CRDs are installed first'
        )
    namespace: str | None = None
    if resource.namespaced:
        namespace = str(metadata.get("namespace") or "") or session.namespace
        wanted = session.namespace_flag
        if wanted and namespace != wanted:
            raise KubectlError(
                f'the namespace from the provided object "{namespace}" does not match the '
                f"namespace \"{wanted}\". You must pass '--namespace={namespace}' to perform "
                "this operation."
            )
        metadata["namespace"] = namespace
    else:
        metadata.pop("namespace", None)  # kubectl drops it from cluster-scoped objects
    obj["metadata"] = metadata
    return Target(manifest.source, obj, resource, namespace)


async def _any_version(session: Session, api_version: str, kind: str) -> Resource | None:
    """A kind of a version discovery does not prefer (``autoscaling/v1``): kubectl's mapper
    knows every served version, so ask that version's own resource list."""
    path = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
    try:
        listed = await session.get_json(path)
    except ApiError:
        return None
    return find_kind(api_version, kind, list(resources_of([listed])))


def add_file_flags(parser: argparse.ArgumentParser) -> None:
    """``-f`` (repeatable), ``-R`` and ``--validate``, as apply and create take them."""
    parser.add_argument("-f", "--filename", action="append", default=[])
    parser.add_argument("-R", "--recursive", action="store_true")
    parser.add_argument("--validate", default="strict")


async def targets(
    session: Session, args: argparse.Namespace, verb: str
) -> tuple[list[Target], list[Failure]]:
    """Every object of ``-f`` placed in its resource and namespace, and what went wrong."""
    if not args.filename:
        raise KubectlError("must specify one of -f and -k")
    # files and standard input are read off the event loop
    reading = await asyncio.to_thread(
        read, args.filename, recursive=args.recursive, stdin=session.stdin
    )
    placed: list[Target] = []
    failures: list[Failure] = []
    for manifest in reading.manifests:
        try:
            placed.append(await place(session, manifest))
        except KubectlError as error:
            failures.append(str(error))
    failures += reading.errors
    if not placed and not failures:
        raise KubectlError(f"no objects passed to {verb}")
    return placed, failures


# ------------------------------------------------------------------------ kubectl's errors


def with_source(error: ApiError, verb: str, source: str) -> ApiError:
    """``error when creating "x.yaml": <message>``: kubectl names the file an error is about."""
    message = f'error when {verb} "{source}": {error.message}'
    return ApiError(error.code, error.reason, message, details=error.details)


def report(session: Session, failures: list[Failure]) -> int:
    """Print the failures as kubectl does at the end of a run; the exit code."""
    if not failures:
        return 0
    if len(failures) == 1:
        session.err.write(failure_text(failures[0]))
        return 1
    for failure in failures:
        if isinstance(failure, ApiError):
            session.err.write(f"Error from server ({failure.reason}): {failure.message}\n")
        else:
            session.err.write(f"{failure}\n")
    return 1


def failure_text(failure: Failure) -> str:
    """One failure as kubectl prints it alone: an ``Invalid`` Status as ``The Kind "name" is
    invalid: field: message`` (one ``*`` line per cause when there are several)."""
    if not isinstance(failure, ApiError):
        return failure + "\n" if failure.startswith("error: ") else f"error: {failure}\n"
    details = failure.details or {}
    if failure.reason != "Invalid" or not details:
        return f"Error from server ({failure.reason}): {failure.message}\n"
    # An Invalid Status is told from its details, as kubectl does: one line per cause.
    head = f'The {details.get("kind", "")} "{details.get("name", "")}" is invalid'
    causes = [f"{c.get('field', '')}: {c.get('message', '')}" for c in details.get("causes") or []]
    if not causes:
        return head + "\n"
    if len(causes) == 1:
        return f"{head}: {causes[0]}\n"
    return f"{head}: \n" + "".join(f"* {cause}\n" for cause in causes)
