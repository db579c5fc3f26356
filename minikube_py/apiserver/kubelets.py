"""The kubelet behind a pod: who answers pods/log, pods/exec and pods/attach.

The API server stores pods but runs nothing; a pod's logs and the commands run in it live on
the node the pod is bound to, so upstream's API server finds that node's kubelet (its HTTPS
API on port 10250) and proxies the request there. Here each node's kubelet hands the API
server a ``NodeStreams`` (``runtime/protocol.py``); the cluster keeps a ``{node name:
NodeStreams}`` mapping, which may gain entries as nodes join.

Before asking a kubelet, the API server does what upstream's pod strategy does
(``LogLocation`` / ``ExecLocation``): read the pod, pick the container (the only one when none
is named; otherwise the request must name one of them), and find the node. This module holds
those shared steps and turns a kubelet's ``ContainerError`` into a ``Status``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from aiohttp import web

from minikube_py.api import errors
from minikube_py.apiserver.objects import Object
from minikube_py.runtime.protocol import ContainerError, NodeStreams

NodeStreamsMap = Mapping[str, NodeStreams]

# the requests streaming from a kubelet now (logs -f, exec sessions), ended at shutdown
ACTIVE = web.AppKey("kubelet_streams", set[asyncio.Task[Any]])

# ContainerError reasons a kubelet uses for a request it refuses, with their HTTP codes
_CODES = {"BadRequest": 400, "NotFound": 404, "Forbidden": 403, "Conflict": 409}


def _containers(pod: Object, field: str) -> list[dict[str, Any]]:
    listed = (pod.get("spec") or {}).get(field) or []
    return [c for c in listed if isinstance(c, dict)]


def container_names(pod: Object) -> Iterator[str]:
    """Every container of the pod in upstream's visiting order: init, regular, ephemeral."""
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for container in _containers(pod, field):
            yield str(container.get("name", ""))


def choose_container(pod: Object, requested: str) -> str:
    """The container a request is about, as upstream's ``validateContainer`` picks it.

    Without a name, a pod with one (regular) container means that one; with several the
    client must choose (kubectl does, from the ``kubectl.kubernetes.io/default-container``
    annotation or the first container, before it asks).
    """
    name = pod["metadata"]["name"]
    if requested:
        if requested not in set(container_names(pod)):
            raise errors.bad_request(f"container {requested} is not valid for pod {name}")
        return requested
    regular = _containers(pod, "containers")
    if len(regular) == 1:
        return str(regular[0].get("name", ""))
    if not regular:
        raise errors.bad_request(f"a container name must be specified for pod {name}")
    choices = " ".join(container_names(pod))  # Go prints a []string as [a b c]
    raise errors.bad_request(
        f"a container name must be specified for pod {name}, choose one of: [{choices}]"
    )


def node_of(pod: Object) -> str:
    """The node the pod is bound to; empty until the scheduler has bound it."""
    return str((pod.get("spec") or {}).get("nodeName") or "")


def streams_of(node_streams: NodeStreamsMap, node: str) -> NodeStreams:
    """The node's kubelet streams; 503 while that node has no kubelet in this process."""
    streams = node_streams.get(node)
    if streams is None:
        raise errors.ApiError(
            503, "ServiceUnavailable", f'the kubelet of node "{node}" does not answer yet'
        )
    return streams


def container_failure(error: ContainerError, *, pod: str, kind: str = "pods") -> errors.ApiError:
    """A kubelet's refusal as the ``Status`` upstream's API server relays: 400 stays
    BadRequest with the kubelet's message, 404 NotFound; anything else is an internal error."""
    code = _CODES.get(error.reason)
    if code is None:
        return errors.internal(error.message)
    details = None
    if code != 400:  # upstream's generic answer names the object; its 400 does not
        details = {"name": pod, "kind": kind} if pod else {"kind": kind}
    return errors.ApiError(code, error.reason, error.message, details=details)


@contextlib.contextmanager
def tracked(request: web.Request) -> Iterator[None]:
    """Mark the request's task as a stream the server's shutdown must end."""
    active = request.app.get(ACTIVE)
    task = asyncio.current_task()
    if active is None or task is None:
        yield
        return
    active.add(task)
    try:
        yield
    finally:
        active.discard(task)


async def end_streams(app: web.Application) -> None:
    """``on_shutdown``: end every stream at once. A followed log or an idle exec session never
    ends by itself, and aiohttp would otherwise wait its whole shutdown timeout for them; the
    exec handlers' cleanup kills their commands."""
    for task in list(app.get(ACTIVE, ())):
        task.cancel()
