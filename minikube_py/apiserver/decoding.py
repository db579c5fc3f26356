"""Reading what a request carries: its body, and the options in its query string.

Bodies are JSON (what client libraries and ``kubectl apply`` send), Kubernetes protobuf (what
kubectl's typed commands such as ``kubectl create deployment`` send) or YAML (what people
``curl``); another media type is a 415, and anything that does not parse a 400 with the error.
Keys a JSON or YAML body repeats are noted on request (``duplicates.py``) for field validation.
Query options follow upstream's conventions: booleans are ``true``/``1``/``True``,
``dryRun=All`` means "run everything but the write", and list, watch and delete options have
their Kubernetes names.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from aiohttp import web
from multidict import MultiMapping

from minikube_py.api import errors, protobuf
from minikube_py.apiserver.duplicates import (
    Duplicates,
    json_duplicates,
    json_patch_duplicates,
    load_yaml,
)
from minikube_py.apiserver.listing import ListOptions
from minikube_py.apiserver.objects import load_json

MAX_BODY_BYTES = 3 * 1024 * 1024  # upstream's request body limit
MAX_OBJECT_BYTES = 1536 * 1024  # upstream's limit on one stored object (etcd's request size)


async def read_body(request: web.Request, duplicates: Duplicates | None = None) -> Any:
    """The parsed body; its repeated keys are noted in ``duplicates`` when one is given."""
    raw = await request.read()
    if len(raw) > MAX_BODY_BYTES:
        raise errors.too_large("the request body is too large")
    if not raw.strip():
        raise errors.bad_request("the request body is empty")
    return _parse(raw, request.content_type, duplicates)


async def optional_body(request: web.Request) -> Any:
    """A body that may be absent (DELETE)."""
    if not request.can_read_body:
        return None
    raw = await request.read()
    return _parse(raw, request.content_type) if raw.strip() else None


def _parse(raw: bytes, content_type: str, duplicates: Duplicates | None = None) -> Any:
    if content_type == protobuf.MEDIA_TYPE:
        # kubectl's typed commands (create deployment, create secret, …) send protobuf
        try:
            return protobuf.decode_request(raw)
        except ValueError as error:
            raise errors.bad_request(str(error)) from None
    if content_type not in _ACCEPTED and content_type != "application/octet-stream":
        raise errors.ApiError(
            415,
            "UnsupportedMediaType",
            f"the body of the request was in an unknown format - accepted media types include: "
            f"{', '.join(sorted(_ACCEPTED))}",
        )
    try:
        if "yaml" in content_type:
            body = load_yaml(raw.decode("utf-8"), duplicates)
        else:
            body = load_json(raw)
            if duplicates is not None:
                find = json_patch_duplicates if "json-patch" in content_type else json_duplicates
                duplicates.paths.extend(find(raw, body))
    except RecursionError:
        raise errors.bad_request("error decoding the request body: nested too deeply") from None
    except (ValueError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise errors.bad_request(f"error decoding the request body: {error}") from None
    return _replace_surrogates(body) if b"\\u" in raw or b"\\U" in raw else body


# JSON bodies (any patch format) and YAML, as upstream's serializers accept them
_ACCEPTED = {
    "application/json",
    "application/yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
}


def _replace_surrogates(value: Any) -> Any:
    """Lone UTF-16 surrogates (``\\ud800``) become U+FFFD, as Go's JSON decoder does."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_replace_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def flag(query: MultiMapping[str], name: str) -> bool:
    return query.get(name, "").lower() in ("true", "1")


def integer(query: MultiMapping[str], name: str, default: int = 0) -> int:
    value = query.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise errors.bad_request(f"invalid {name}: {value!r} is not an integer") from None
    if number < 0:
        raise errors.bad_request(f"invalid {name}: must not be negative")
    return number


def dry_run(query: MultiMapping[str]) -> bool:
    values = query.getall("dryRun", [])
    for value in values:
        if value != "All":
            raise errors.bad_request(f'invalid dry run option: "{value}": supported values: "All"')
    return bool(values)


FIELD_VALIDATION = ("Ignore", "Warn", "Strict")


def field_validation(query: MultiMapping[str]) -> str:
    """How to treat unknown fields; ``Warn`` when the client does not say, as upstream."""
    mode = query.get("fieldValidation") or "Warn"
    if mode not in FIELD_VALIDATION:
        raise errors.bad_request(
            f'invalid fieldValidation: "{mode}": supported values: "Ignore", "Warn", "Strict"'
        )
    return mode


def list_options(query: MultiMapping[str]) -> ListOptions:
    return ListOptions(
        label_selector=query.get("labelSelector", ""),
        field_selector=query.get("fieldSelector", ""),
        limit=integer(query, "limit"),
        continue_token=query.get("continue") or None,
        resource_version=query.get("resourceVersion", ""),
        resource_version_match=query.get("resourceVersionMatch", ""),
    )


def delete_options(query: MultiMapping[str], body: Any) -> dict[str, Any]:
    """DeleteOptions from the body (kubectl sends one) and the query (curl users do)."""
    options: dict[str, Any] = dict(body) if isinstance(body, dict) else {}
    if "propagationPolicy" in query:
        options["propagationPolicy"] = query["propagationPolicy"]
    if "gracePeriodSeconds" in query:
        options["gracePeriodSeconds"] = integer(query, "gracePeriodSeconds")
    policy = options.get("propagationPolicy")
    if policy not in (None, "Orphan", "Background", "Foreground"):
        raise errors.bad_request(
            f'unsupported propagationPolicy "{policy}": supported values: "Orphan", '
            '"Background", "Foreground"'
        )
    if options.get("orphanDependents") is True and policy is None:
        options["propagationPolicy"] = "Orphan"
    return options
