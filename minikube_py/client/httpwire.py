"""The HTTP client's wire details: errors, query parameters and the watch stream.

Everything but a response's JSON body needs a little translation between the Kubernetes REST
API and Python:

- an error response carries a ``Status`` body (``reason``, ``message``, ``details``); it is
  raised as the same ``ApiError`` the in-process client raises, and a body that is not a
  ``Status`` (a proxy's page, plain text) still gets the reason its HTTP code stands for;
- query parameters are strings (``true``, not ``True``), and unset ones are left out;
- a watch is a long ``GET ...?watch=true`` answered with a chunked stream of JSON objects, one
  per line (``{"type": "ADDED", "object": {...}}``). Lines are reassembled from the chunks
  here rather than with ``readline``, whose buffer limit is smaller than the largest object
  the server stores (1.5 MiB). An ``ERROR`` event (a ``Status``, 410 Expired above all) is
  raised as the ``ApiError`` it describes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

import aiohttp

from minikube_py.api.errors import ApiError
from minikube_py.client.protocol import Object, raise_watch_error

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def error(status: int, raw: bytes) -> ApiError:
    """The ``ApiError`` an error response describes (a ``Status``, or whatever came back)."""
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("kind") == "Status":
        code = body.get("code")
        return ApiError(
            code if isinstance(code, int) and code else status,
            str(body.get("reason") or _REASONS.get(status, "Unknown")),
            str(body.get("message") or ""),
            details=body.get("details"),
        )
    text = raw.decode("utf-8", "replace").strip()
    return ApiError(status, _REASONS.get(status, "Unknown"), text or f"HTTP {status}")


def query(**values: Any) -> dict[str, str]:
    """Query parameters, leaving out the unset ones (aiohttp wants strings)."""
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in values.items() if v}


async def watch_events(
    response: aiohttp.ClientResponse,
) -> AsyncGenerator[tuple[str, Object], None]:
    """The events of a watch response, each as it completes (a line may span chunks)."""
    buffer = bytearray()
    async for chunk in response.content.iter_any():
        buffer += chunk
        start = 0
        while (end := buffer.find(b"\n", start)) >= 0:
            line = bytes(buffer[start:end])
            start = end + 1
            if line.strip():
                yield _event(line)
        del buffer[:start]
    if bytes(buffer).strip():
        yield _event(bytes(buffer))


def _event(line: bytes) -> tuple[str, Object]:
    try:
        event = json.loads(line)
        event_type, obj = str(event["type"]), event["object"]
    except (ValueError, KeyError, TypeError):
        raise ApiError(500, "InternalError", f"malformed watch event: {line[:200]!r}") from None
    if event_type == "ERROR":
        raise_watch_error(obj)
    return event_type, obj
