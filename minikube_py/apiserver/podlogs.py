"""pods/log: a container's output, read from its node's kubelet and streamed to the client.

``kubectl logs web -c app --tail=10 -f`` is ``GET /api/v1/namespaces/default/pods/web/log?
container=app&tailLines=10&follow=true``. The API server checks the options (upstream's
``PodLogOptions`` validation: a 422 naming the field), reads the pod, picks the container
(``kubelets.choose_container``), and asks the pod's kubelet for the bytes, which it relays as
``text/plain``. With ``follow`` the response stays open and every chunk is written as it
comes, so ``kubectl logs -f`` shows each line at once. A pod not yet bound to a node has no
logs anywhere: upstream answers ``204 No Content`` and kubectl prints nothing.

The kubelet applies the options (tail, since, timestamps, limits, the previous container's
file); a refusal from it (``ContainerError``, e.g. a container still waiting to start) becomes
a ``Status`` with the kubelet's message, as long as nothing was written yet.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from multidict import MultiMapping

from minikube_py.api import errors
from minikube_py.apiserver import decoding, kubelets
from minikube_py.apiserver.routing import Target
from minikube_py.apiserver.storage import Storage
from minikube_py.logs import get_logger
from minikube_py.runtime.protocol import ContainerError, LogOptions

_log = get_logger("apiserver")
_RFC3339 = "2006-01-02T15:04:05Z07:00"  # Go's layout, which its parse errors quote


def _integer(query: MultiMapping[str], name: str) -> int | None:
    value = query.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        # the words of Go's strconv, which upstream's parameter decoding returns as a 400
        raise errors.bad_request(f'strconv.ParseInt: parsing "{value}": invalid syntax') from None


def _since_time(query: MultiMapping[str]) -> str | None:
    value = query.get("sinceTime")
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError("RFC 3339 needs a time zone")
    except ValueError:
        raise errors.bad_request(f'parsing time "{value}" as "{_RFC3339}": invalid time') from None
    # upstream passes it on to the kubelet at second precision, in RFC 3339
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _invalid(name: str, problems: list[tuple[str, str, str]]) -> errors.ApiError:
    """422 for ``PodLogOptions``, worded as upstream's ``NewInvalid`` over field errors."""
    causes: list[dict[str, Any]] = []
    texts = []
    for reason, field, body in problems:
        cause = {"reason": reason, "message": body}
        if field:
            cause["field"] = field
        causes.append(cause)
        texts.append(f"{field}: {body}")
    summary = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    return errors.ApiError(
        422,
        "Invalid",
        f'PodLogOptions "{name}" is invalid: {summary}',
        details={"name": name, "kind": "PodLogOptions", "causes": causes},
    )


def log_options(query: MultiMapping[str], name: str) -> tuple[str, LogOptions]:
    """The requested container (maybe empty) and the options, checked as upstream does."""
    tail = _integer(query, "tailLines")
    since_seconds = _integer(query, "sinceSeconds")
    limit = _integer(query, "limitBytes")
    since_time = _since_time(query)
    problems = []
    if tail is not None and tail < 0:
        problems.append(
            (
                "FieldValueInvalid",
                "tailLines",
                f"Invalid value: {tail}: must be greater than or equal to 0",
            )
        )
    if limit is not None and limit < 1:
        problems.append(
            ("FieldValueInvalid", "limitBytes", f"Invalid value: {limit}: must be greater than 0")
        )
    if since_seconds is not None and since_time is not None:
        problems.append(
            (
                "FieldValueForbidden",
                "",
                "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified",
            )
        )
    elif since_seconds is not None and since_seconds < 1:
        problems.append(
            (
                "FieldValueInvalid",
                "sinceSeconds",
                f"Invalid value: {since_seconds}: must be greater than 0",
            )
        )
    if problems:
        raise _invalid(name, problems)
    options = LogOptions(
        follow=decoding.flag(query, "follow"),
        previous=decoding.flag(query, "previous"),
        timestamps=decoding.flag(query, "timestamps"),
        tail_lines=tail,
        since_seconds=since_seconds,
        since_time=since_time,
        limit_bytes=limit,
    )
    return query.get("container", ""), options


async def serve_log(
    storage: Storage, node_streams: kubelets.NodeStreamsMap, request: web.Request, target: Target
) -> web.StreamResponse:
    """GET pods/log."""
    name = target.name
    assert name is not None
    requested, options = log_options(request.query, name)
    pod = await storage.get(target.rt, target.namespace, name)
    container = kubelets.choose_container(pod, requested)
    node = kubelets.node_of(pod)
    if not node:
        return web.Response(status=204)
    streams = kubelets.streams_of(node_streams, node)
    namespace = str(target.namespace)
    try:  # a kubelet refuses when asked (KubeletStreams), a fake may when read (_relay)
        chunks = streams.logs(namespace, name, container, options)
    except ContainerError as error:
        raise kubelets.container_failure(error, pod=name) from None
    try:
        with kubelets.tracked(request):
            return await _relay(request, chunks, pod=name)
    finally:
        closing = getattr(chunks, "aclose", None)
        if closing is not None:  # an async generator: let it close its file now
            with contextlib.suppress(Exception):
                await closing()


async def _relay(
    request: web.Request, chunks: AsyncIterator[bytes], *, pod: str
) -> web.StreamResponse:
    # The first chunk decides the answer: a kubelet's refusal comes before any byte, and
    # becomes a Status; once the headers are out, a failure can only end the stream.
    try:
        first = await anext(chunks, None)
    except ContainerError as error:
        raise kubelets.container_failure(error, pod=pod) from None
    response = web.StreamResponse(status=200)
    response.content_type = "text/plain"
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        if first:
            await response.write(first)
        async for chunk in chunks:
            if chunk:
                await response.write(chunk)  # aiohttp sends it now: a flush per chunk
    except ContainerError as error:
        _log.info("log stream ended by the kubelet", pod=pod, reason=error.reason)
    except ConnectionResetError:
        return response  # the client went away (kubectl logs -f interrupted)
    await response.write_eof()
    return response
