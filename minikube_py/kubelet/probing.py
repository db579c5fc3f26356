"""One probe attempt: run an exec, httpGet or tcpSocket check once and say how it went.

A container's probe (``livenessProbe``, ``readinessProbe``, ``startupProbe``) names one
*handler*; the kubelet runs it every ``periodSeconds`` (``probes.py`` does the timing). Each
attempt ends in one of upstream's results (``pkg/probe``):

- ``success``;
- ``failure``, with the output kubectl later shows in the ``Unhealthy`` event: the exec
  command's output, ``HTTP probe failed with statuscode: 500``, or the Go client's error
  (``Get "http://127.244.0.2:8080/healthz": dial tcp 127.244.0.2:8080: connect: connection
  refused``) — worded like Go's so that messages read as they do on a real cluster;
- ``warning``: succeeded, but oddly (an HTTP redirect to another host, not followed);
- ``unknown``: the probe could not even be tried (a named port the container does not
  declare, a gRPC probe, which this kubelet does not run); the result is thrown away.

exec runs through the runtime's ``exec`` (exit code 0 is success, ``timeoutSeconds``
enforced); httpGet speaks plain HTTP/1.1 itself (HTTPS without certificate checks, as the
kubelet), following redirects to the same host up to 10 times; tcpSocket only connects.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import ssl
import urllib.parse
from collections.abc import Sequence
from typing import Any, Literal

from minikube_py.runtime.protocol import ContainerError, ContainerRuntime

Object = dict[str, Any]
Result = Literal["success", "failure", "warning", "unknown"]
MAX_OUTPUT = 10 * 1024  # upstream keeps at most 10 KiB of exec output or HTTP body
USER_AGENT = "kube-probe/1.32"


def _expand(command: Sequence[str], container: Object) -> list[str]:
    """``$(VAR)`` in a probe command from the container's literal env values only, as the
    kubelet's ``ExpandContainerCommandOnlyStatic``; ``$$`` escapes a dollar."""
    values = {e["name"]: e["value"] for e in container.get("env") or () if "value" in e}

    def one(text: str) -> str:
        return re.sub(
            r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)",
            lambda m: "$" if m.group(0) == "$$" else values.get(m.group(1), m.group(0)),
            text,
        )

    return [one(part) for part in command]


def resolve_port(port: object, container: Object) -> int:
    """A probe's port: a number, or the name of one of the container's ports; ``ValueError``
    worded as upstream's ``ResolveContainerPort``."""
    number: int
    if isinstance(port, int):
        number = port
    else:
        text = str(port)
        named = [p for p in container.get("ports") or () if p.get("name") == text]
        if named:
            number = int(named[0]["containerPort"])
        elif text.isdigit():
            number = int(text)
        else:
            raise ValueError(f'strconv.Atoi: parsing "{text}": invalid syntax')
    if not 0 < number < 65536:
        raise ValueError(f"invalid port number: {number}")
    return number


def _dial_error(error: OSError, address: str) -> str:
    """A failed connect as Go's net package words it."""
    if isinstance(error, TimeoutError):
        return f"dial tcp {address}: i/o timeout"
    text = os.strerror(error.errno).lower() if error.errno else str(error)
    return f"dial tcp {address}: connect: {text}"


def _join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def exec_probe(
    runtime: ContainerRuntime, container_id: str, command: Sequence[str], seconds: float
) -> tuple[Result, str]:
    session = await runtime.exec(container_id, command)
    output = bytearray()

    async def collect() -> int:
        async for _stream, data in session.output():
            if len(output) < MAX_OUTPUT:
                output.extend(data[: MAX_OUTPUT - len(output)])
        return await session.wait()

    try:
        async with asyncio.timeout(seconds):
            code = await collect()
    except TimeoutError:
        await session.kill()
        return "failure", f'command "{" ".join(command)}" timed out'
    text = output.decode("utf-8", "replace")
    return ("success" if code == 0 else "failure"), text


async def tcp_probe(host: str, port: int, seconds: float) -> tuple[Result, str]:
    address = _join(host, port)
    try:
        async with asyncio.timeout(seconds):
            _reader, writer = await asyncio.open_connection(host, port)
    except OSError as error:  # TimeoutError is one
        return "failure", _dial_error(error, address)
    writer.close()
    with contextlib.suppress(OSError):  # the check was the connect; the close does not count
        await writer.wait_closed()
    return "success", ""


async def _get(url: urllib.parse.SplitResult, headers: dict[str, str]) -> tuple[int, Object, bytes]:
    """One GET: ``(status, headers with lower-case names, at most 10 KiB of body)``."""
    host = url.hostname or ""
    port = url.port or (443 if url.scheme == "https" else 80)
    context = None
    if url.scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        reader, writer = await asyncio.open_connection(host, port, ssl=context)
    except OSError as error:
        raise ConnectionError(_dial_error(error, _join(host, port))) from error
    try:
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        lines = [f"GET {target} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join([*lines, "Connection: close", "", ""])).encode("latin-1"))
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise ConnectionError(f"malformed HTTP response {status_line!r}")
        fields: Object = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                fields[name.strip().lower()] = value.strip()
        body = await reader.read(MAX_OUTPUT)
        return int(parts[1]), fields, body
    except asyncio.IncompleteReadError as error:
        raise ConnectionError("EOF") from error
    except ConnectionResetError as error:
        raise ConnectionError("read: connection reset by peer") from error
    finally:
        writer.close()


async def http_probe(
    url: str, headers: dict[str, str], seconds: float, *, max_redirects: int = 10
) -> tuple[Result, str]:
    """GET ``url``: 200 to 399 is success; a redirect is followed while it stays on the same
    host, and a redirect elsewhere ends the probe with a warning (the kubelet's rule)."""
    current = urllib.parse.urlsplit(url)
    original_host = current.hostname

    async def attempt() -> tuple[Result, str]:
        nonlocal current
        for hops in range(max_redirects + 1):
            status, fields, body = await _get(current, headers)
            location = fields.get("location")
            if 300 <= status < 400 and location:
                following = urllib.parse.urlsplit(urllib.parse.urljoin(current.geturl(), location))
                if following.hostname != original_host:
                    text = body.decode("utf-8", "replace")
                    return "warning", f"Probe terminated redirects, Response body: {text}"
                if hops == max_redirects:
                    raise ConnectionError(f"stopped after {max_redirects} redirects")
                current = following
                continue
            if 200 <= status < 400:
                return "success", body.decode("utf-8", "replace")
            return "failure", f"HTTP probe failed with statuscode: {status}"
        raise AssertionError("unreachable")

    try:
        async with asyncio.timeout(seconds):
            return await attempt()
    except TimeoutError:
        reason = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        return "failure", f'Get "{current.geturl()}": {reason}'
    except (ConnectionError, ssl.SSLError, OSError) as error:
        return "failure", f'Get "{current.geturl()}": {error}'


def http_url(action: Object, host: str, port: int) -> str:
    """The URL the kubelet probes: scheme, host (the pod IP by default), port and path."""
    scheme = str(action.get("scheme") or "HTTP").lower()
    path = str(action.get("path") or "")
    if path and not path.startswith("/"):
        path = "/" + path
    return f"{scheme}://{_join(host, port)}{path}"


async def run_probe(
    runtime: ContainerRuntime,
    probe: Object,
    container: Object,
    container_id: str,
    pod_ip: str,
) -> tuple[Result, str]:
    """One attempt of ``probe`` (a Probe object from the pod spec) against the container."""
    timeout = float(probe.get("timeoutSeconds") or 1)
    try:
        if (action := probe.get("exec")) is not None:
            command = _expand(action.get("command") or [], container)
            return await exec_probe(runtime, container_id, command, timeout)
        if (action := probe.get("httpGet")) is not None:
            port = resolve_port(action.get("port"), container)
            host = str(action.get("host") or pod_ip)
            headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
            custom = {h["name"]: h.get("value", "") for h in action.get("httpHeaders") or ()}
            headers = {"Host": custom.pop("Host", _join(host, port)), **headers, **custom}
            return await http_probe(http_url(action, host, port), headers, timeout)
        if (action := probe.get("tcpSocket")) is not None:
            port = resolve_port(action.get("port"), container)
            return await tcp_probe(str(action.get("host") or pod_ip), port, timeout)
        if probe.get("grpc") is not None:
            return "unknown", "gRPC probes are not supported by minikube_py's kubelet"
    except (ValueError, ContainerError) as error:
        return "unknown", str(error)
    return "unknown", "missing probe handler"
