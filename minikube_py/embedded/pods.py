"""A pod's logs and commands run in it, asked of the kubelet of the pod's node.

``kubectl logs`` and ``kubectl exec`` go to the API server, which finds the pod's node and
asks that node's kubelet (``apiserver/kubelets.py``). An embedded cluster holds the kubelets
in its own process, so it takes the same steps without HTTP or WebSocket framing: read the
pod, pick the container as the API server would (the only one, or the named one), refuse a
completed pod for exec as kubectl does, then call the node's ``NodeStreams``.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from minikube_py.api import errors
from minikube_py.apiserver import kubelets
from minikube_py.client.protocol import PODS, Client, Object
from minikube_py.runtime.protocol import ContainerError, LogOptions, NodeStreams


class ExecResult(NamedTuple):
    """What a command run in a container ended with; unpacks as ``code, out, err``."""

    exit_code: int
    stdout: str
    stderr: str


async def _target(
    client: Client, streams: Mapping[str, NodeStreams], namespace: str, pod: str, container: str
) -> tuple[NodeStreams, str, Object]:
    obj = await client.get(PODS, namespace, pod)
    chosen = kubelets.choose_container(obj, container)
    node = kubelets.node_of(obj)
    if not node:
        raise errors.bad_request(f"pod {pod} does not have a host assigned")
    return kubelets.streams_of(streams, node), chosen, obj


async def pod_logs(
    client: Client,
    streams: Mapping[str, NodeStreams],
    namespace: str,
    pod: str,
    container: str = "",
    *,
    previous: bool = False,
    tail_lines: int | None = None,
) -> str:
    """The container's output so far (stdout and stderr, as ``kubectl logs`` shows it)."""
    node, chosen, _ = await _target(client, streams, namespace, pod, container)
    chunks = []
    try:
        async for chunk in node.logs(
            namespace, pod, chosen, LogOptions(previous=previous, tail_lines=tail_lines)
        ):
            chunks.append(chunk)
    except ContainerError as error:
        raise kubelets.container_failure(error, pod=pod) from None
    return b"".join(chunks).decode("utf-8", "replace")


async def pod_exec(
    client: Client,
    streams: Mapping[str, NodeStreams],
    namespace: str,
    pod: str,
    command: str | Sequence[str],
    container: str = "",
) -> ExecResult:
    """Run ``command`` (a list of arguments, or a string split as a shell would) to its end."""
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    if not argv:
        raise errors.bad_request("you must specify at least one command for the container")
    node, chosen, obj = await _target(client, streams, namespace, pod, container)
    phase = (obj.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise errors.bad_request(
            f"cannot exec into a container in a completed pod; current phase is {phase}"
        )
    try:
        session = await node.exec(namespace, pod, chosen, argv)
    except ContainerError as error:
        raise kubelets.container_failure(error, pod=pod) from None
    out: dict[int, list[bytes]] = {1: [], 2: []}
    try:
        async for stream, data in session.output():
            out.setdefault(stream, []).append(data)
        code = await session.wait()
    except BaseException:
        await session.kill()
        raise
    text = [b"".join(out[n]).decode("utf-8", "replace") for n in (1, 2)]
    return ExecResult(code, text[0], text[1])
