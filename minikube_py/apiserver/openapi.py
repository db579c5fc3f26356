"""OpenAPI v3: the documents that tell clients what every served kind looks like.

``GET /openapi/v3`` is an index: for each group version, ``serverRelativeURL`` is the address
of its document with ``?hash=<content hash>``. Clients cache documents by that address, so a
document whose content changes (a CustomResourceDefinition added, changed or removed) gets a
new address and no client keeps a stale copy. ``GET /openapi/v3/apis/apps/v1`` is one group
version's document: ``paths`` (every endpoint and operation, ``openapi_paths.py``) and
``components.schemas`` (every schema those reach, ``openapi_schemas.py``).

kubectl depends on them: ``apply``, ``create -f`` and ``replace`` check that the PATCH
operation of a kind takes ``fieldValidation`` and then leave validation to the server;
``apply`` computes its strategic merge patch from the patch strategies and merge keys of the
schemas; ``explain`` prints the schemas' descriptions.

As upstream, a request with the current hash is answered ``Cache-Control: public, immutable``,
one with a stale hash is redirected (301) to the current address, and ``If-None-Match`` with
the ``ETag`` gets a 304. Documents are built on first request, not at start-up, and cached by
their hash. The hash is taken over everything a document is made of (the served types and
custom schemas, the definitions' package version), which is cheap enough to compute for every
index request without building any document.

``GET /openapi/v2`` answers Swagger 2.0 with the definitions of every served kind, in JSON or,
as kubectl asks for it (``explain --output=plaintext-openapiv2``, ``apply`` of a custom
resource), in protobuf (``openapi_protobuf.py``).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from aiohttp import web

from minikube_py.api import errors
from minikube_py.api.registry import Registry
from minikube_py.api.resources import ResourceType
from minikube_py.apiserver import openapi_paths, openapi_protobuf, openapi_schemas
from minikube_py.apiserver.openapi_paths import group_version_path

# Part of every hash: change it when the documents' layout changes, so caches miss.
LAYOUT = "minikube-py openapi 1"
_KEPT = 64  # documents cached; custom resources coming and going make new ones
_cache: OrderedDict[str, bytes] = OrderedDict()


def respond(registry: Registry, request: web.Request) -> web.StreamResponse:
    """Answer a request under ``/openapi/``: the v3 index or one group version's document."""
    path = request.path.rstrip("/")
    if path == "/openapi/v3":
        body = orjson.dumps(index(registry))
        return _send(request, body, _digest(body))
    if path == "/openapi/v2":
        return _swagger(registry, request)
    relative = path.removeprefix("/openapi/v3/")
    versions = _group_versions(registry)
    if relative == path or relative not in versions:
        raise errors.path_not_found()
    _require_json(request)
    group, version = versions[relative]
    types = registry.in_group_version(group, version)
    digest = fingerprint(group, version, types)
    asked = request.query.get("hash", "")
    if asked and asked != digest:
        raise web.HTTPMovedPermanently(_address(relative, digest))
    response = _send(request, _cached(digest, lambda: build(group, version, types)), digest)
    response.headers["Vary"] = "Accept"
    if asked:
        response.headers["Cache-Control"] = "public, immutable"
        expires = datetime.now(UTC) + timedelta(days=365)
        response.headers["Expires"] = expires.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return response


def _swagger(registry: Registry, request: web.Request) -> web.Response:
    """``/openapi/v2`` in protobuf when asked for (kubectl always is), else in JSON."""
    types = list(registry)
    digest = fingerprint("", "swagger", types)
    document = _cached(digest, lambda: build_v2(types))
    accept = request.headers.get("Accept", "")
    if any(media in accept for media in openapi_protobuf.ACCEPTED):
        encoded = digest + "+protobuf"
        raw = _cached(encoded, lambda: openapi_protobuf.encode_document(orjson.loads(document)))
        response = _send(request, raw, encoded)
        response.content_type = openapi_protobuf.MEDIA_TYPE
    else:
        _require_json(request)
        response = _send(request, document, digest)
    response.headers["Vary"] = "Accept"
    return response


def index(registry: Registry) -> dict[str, Any]:
    """``{"paths": {"apis/apps/v1": {"serverRelativeURL": "/openapi/v3/apis/apps/v1?hash=…"}}}``"""
    entries = {}
    for relative, (group, version) in sorted(_group_versions(registry).items()):
        digest = fingerprint(group, version, registry.in_group_version(group, version))
        entries[relative] = {"serverRelativeURL": _address(relative, digest)}
    return {"paths": entries}


def document(registry: Registry, group: str, version: str) -> dict[str, Any]:
    """One group version's document, parsed (for tests and in-process callers)."""
    types = registry.in_group_version(group, version)
    raw = _cached(fingerprint(group, version, types), lambda: build(group, version, types))
    parsed: dict[str, Any] = orjson.loads(raw)
    return parsed


def fingerprint(group: str, version: str, types: list[ResourceType]) -> str:
    """The hash of everything the group version's document is built from (upper-case hex
    SHA-512, the form upstream's hashes take)."""
    digest = hashlib.sha512(orjson.dumps([LAYOUT, _definitions_version(), group, version]))
    for rt in types:
        part = [
            rt.group,
            rt.version,
            rt.kind,
            rt.plural,
            rt.namespaced,
            rt.subresources,
            rt.verbs,
            rt.schema,
        ]
        digest.update(orjson.dumps(part, option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest().upper()


def _cached(digest: str, make: Callable[[], dict[str, Any] | bytes]) -> bytes:
    """The serialised document of ``digest``, made once."""
    cached = _cache.get(digest)
    if cached is None:
        made = make()
        cached = made if isinstance(made, bytes) else orjson.dumps(made)
        _cache[digest] = cached
        while len(_cache) > _KEPT:
            _cache.popitem(last=False)
    _cache.move_to_end(digest)
    return cached


def build(group: str, version: str, types: list[ResourceType]) -> dict[str, Any]:
    """A group version's OpenAPI 3.0 document: its paths and the schemas they reach."""
    schemas = openapi_schemas.collect(types, _roots(types), openapi_schemas.V3)
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": openapi_paths.paths(types),
        "components": {"schemas": schemas},
    }


def build_v2(types: list[ResourceType]) -> dict[str, Any]:
    """The Swagger 2.0 document of the whole API, scaled down: the ``definitions`` of every
    served kind (what schema tools read); its ``paths`` are left to the v3 documents."""
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": {},
        "definitions": openapi_schemas.collect(types, _roots(types), openapi_schemas.V2),
    }


def _roots(types: list[ResourceType]) -> list[str]:
    """The built-in schemas a document starts from; custom ones are added by ``collect``."""
    roots = [openapi_paths.STATUS, openapi_paths.DELETE_OPTIONS, openapi_paths.PATCH]
    for rt in types:
        if rt.schema is None:
            names = (openapi_schemas.object_name(rt), openapi_schemas.list_name(rt))
            roots += [name for name in names if name is not None]
        if "scale" in rt.subresources:
            roots.append(openapi_paths.SCALE)
    return roots


def _group_versions(registry: Registry) -> dict[str, tuple[str, str]]:
    return {group_version_path(rt.group, rt.version): (rt.group, rt.version) for rt in registry}


def _address(relative: str, digest: str) -> str:
    return f"/openapi/v3/{relative}?hash={digest}"


def _digest(body: bytes) -> str:
    return hashlib.sha512(body).hexdigest().upper()


def _send(request: web.Request, body: bytes, digest: str) -> web.Response:
    etag = f'"{digest}"'
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers={"ETag": etag})
    response = web.Response(body=body, content_type="application/json")
    response.headers["ETag"] = etag
    return response


def _require_json(request: web.Request) -> None:
    """Refuse (406) an Accept header that does not allow JSON (absent or ``*/*`` does)."""
    accept = request.headers.get("Accept", "")
    for clause in accept.split(","):
        media = clause.split(";", 1)[0].strip().lower()
        if media in ("", "*/*", "application/*", "application/json"):
            return
    raise errors.ApiError(406, "NotAcceptable", f"only application/json is served, not {accept}")


@functools.cache
def _definitions_version() -> str:
    try:
        return importlib.metadata.version("kubernetes-validate")
    except importlib.metadata.PackageNotFoundError:
        return ""
