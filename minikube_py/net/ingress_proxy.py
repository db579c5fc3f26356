"""The Ingress's reverse proxy: one client connection, request after request, to the pods.

For each request on a client connection (kept alive, as nginx does, until the client closes
it, says ``Connection: close``, or is idle for 75 seconds) the proxy

1. reads the head, finds the route for its Host and path (``ingress_rules``), and answers
   itself where upstream's nginx would: 400 for garbage, 308 to HTTPS for a host with TLS,
   404 with no backend, 503 when the backend has no ready endpoint (``ingress_endpoints``);
2. connects to a pod directly (5 s, then the next endpoint, three tries, as nginx's
   ``proxy_next_upstream error timeout``) — 502 when none answers;
3. forwards the request with the headers ingress-nginx adds (``X-Request-ID``, ``X-Real-IP``,
   ``X-Forwarded-For/Host/Port/Proto``, ``X-Scheme``), the Host untouched, the body streamed;
4. streams the response back as it comes. A ``101 Switching Protocols`` answer to an
   ``Upgrade`` request (WebSocket) turns the two connections into a byte pipe both ways.

Connections to pods are kept and reused for bodiless requests (nginx's upstream keepalive),
so a busy route does not pay a TCP handshake per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from urllib.parse import urlsplit

from minikube_py.logs import get_logger
from minikube_py.net.ingress_endpoints import EndpointPicker
from minikube_py.net.ingress_http import (
    HOP_BY_HOP,
    BadMessage,
    Framing,
    Head,
    framing,
    read_head,
    relay_body,
    splice,
)
from minikube_py.net.ingress_rules import Route, RoutingTable
from minikube_py.net.ingress_upstream import Upstream, Upstreams, response_head

_log = get_logger("ingress-nginx")
KEEPALIVE_TIMEOUT = 75.0  # nginx's keepalive_timeout
TRIES = 3  # proxy-next-upstream-tries
SMALL_BODY = 16 * 1024
REASONS = {
    308: "Permanent Redirect",
    400: "Bad Request",
    404: "Not Found",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}
_SET_BY_PROXY = {
    "x-request-id",
    "x-real-ip",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-port",
    "x-forwarded-proto",
    "x-forwarded-scheme",
    "x-scheme",
}


class IngressProxy:
    """Serves client connections from the current ``table`` (swapped whole on every sync)."""

    def __init__(self, picker: EndpointPicker, *, https_port: int = 443) -> None:
        self.table = RoutingTable()
        self.picker = picker
        self.https_port = https_port
        self.upstreams = Upstreams()

    async def handle(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, scheme: str
    ) -> None:
        """Serve one client connection until it closes; never raises."""
        peer = writer.get_extra_info("peername") or ("", 0)
        local = writer.get_extra_info("sockname") or ("", 0)
        try:
            while await self._exchange(reader, writer, scheme, str(peer[0]), int(local[1])):
                pass
        except BadMessage as error:
            _log.info("bad request", client=peer[0], error=str(error))
            with contextlib.suppress(ConnectionError, OSError):
                await self._answer(writer, 400, keep=False)
        except (ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client or the backend went away mid-message: drop this connection
        except Exception:  # a bug here must cost one connection, never the listener
            _log.exception("ingress proxy failed on a connection", client=peer[0])
        finally:
            writer.close()

    async def _exchange(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        scheme: str,
        client: str,
        port: int,
    ) -> bool:
        """One request and its response; whether the client connection stays open."""
        try:
            async with asyncio.timeout(KEEPALIVE_TIMEOUT):
                head = await read_head(reader)
        except TimeoutError:
            return False
        if head is None:
            return False
        _, target, version = head.first
        if version not in ("HTTP/1.1", "HTTP/1.0"):
            raise BadMessage(f"unsupported version {version!r}")
        keep = version == "HTTP/1.1" and "close" not in head.tokens("connection")
        host = head.get("host") or ""
        if target.startswith(("http://", "https://")):  # absolute form: it names the host
            parts = urlsplit(target)
            host = parts.netloc
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if not target.startswith("/") and target != "*":
            raise BadMessage(f"invalid request target {target[:80]!r}")
        if version == "HTTP/1.1" and not host:
            raise BadMessage("HTTP/1.1 request without a Host header")
        body = framing(head)
        hostname = _hostname(host)
        route = self.table.route(hostname, target)
        if route.redirect_https and scheme == "http":
            await relay_body(reader, _Discard(), *body)
            https = "" if self.https_port == 443 else f":{self.https_port}"
            location = f"https://{hostname}{https}{target}"
            await self._answer(writer, 308, keep=keep, extra=[("Location", location)])
            return keep
        status = await self._forward(
            reader, writer, head, route, body, keep, scheme, client, (host, port)
        )
        if status is None:
            return keep
        if status < 0:  # the exchange left the connection unusable (a pipe, a cut body)
            return False
        await relay_body(reader, _Discard(), *body)
        await self._answer(writer, status, keep=keep)
        return keep

    async def _forward(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        head: Head,
        route: Route,
        body: tuple[Framing, int],
        keep: bool,
        scheme: str,
        client: str,
        server: tuple[str, int],
    ) -> int | None:
        """Proxy the request; None when answered, -1 when the connection must close, or the
        status the proxy should answer itself (404, 502, 503, 504)."""
        if route.backend is None:
            return 404
        endpoints = self.picker.pick(route.backend, TRIES)
        if not endpoints:
            return 503
        method = head.first[0]
        upgrade = head.get("upgrade") if "upgrade" in head.tokens("connection") else None
        host, port = server
        upstream_head = Head((method, route.target, "HTTP/1.1"), _request_headers(head, upgrade))
        upstream_head.headers.insert(0, ("Host", host or "localhost"))  # as the client sent it
        request_id = head.get("x-request-id") or uuid.uuid4().hex
        upstream_head.headers += [
            ("X-Request-ID", request_id),
            ("X-Real-IP", client),
            ("X-Forwarded-For", client),
            ("X-Forwarded-Host", host),
            ("X-Forwarded-Port", str(port)),
            ("X-Forwarded-Proto", scheme),
            ("X-Forwarded-Scheme", scheme),
            ("X-Scheme", scheme),
        ]
        reusable = body[0] == "none" and upgrade is None
        try:
            address, (up_reader, up_writer), response = await self.upstreams.send(
                endpoints, upstream_head, reusable
            )
        except Upstream as error:
            _log.warning(
                "backend failed",
                ingress=route.ingress,
                service=f"{route.backend.namespace}/{route.backend.service}",
                error=str(error),
            )
            return error.code
        sending: asyncio.Task[None] | None = None
        keep_upstream = False
        try:
            if body[0] != "none":
                sending = asyncio.ensure_future(relay_body(reader, up_writer, *body))
            if response is None:
                try:
                    response = await response_head(up_reader, writer, upgrade)
                except (OSError, TimeoutError, BadMessage, asyncio.IncompleteReadError) as error:
                    code = 504 if isinstance(error, TimeoutError) else 502
                    _log.warning(
                        "backend failed", ingress=route.ingress, error=repr(error), code=code
                    )
                    await self._answer(writer, code, keep=False)
                    return -1
            if response.first[1] == "101" and upgrade is not None:
                writer.write(response.encode())
                await writer.drain()
                await asyncio.gather(splice(reader, up_writer), splice(up_reader, writer))
                return -1
            try:
                kind, length = framing(response, response_to=method)
            except BadMessage as error:
                _log.warning("backend answered nonsense", ingress=route.ingress, error=str(error))
                await self._answer(writer, 502, keep=False)
                return -1
            rechunk = kind == "close" and keep
            dechunk = kind == "chunked" and head.first[2] == "HTTP/1.0"
            headers = [
                (k, v)
                for k, v in response.headers
                if k.lower() not in HOP_BY_HOP
                and not (dechunk and k.lower() == "transfer-encoding")
            ]
            if rechunk:
                headers.append(("Transfer-Encoding", "chunked"))
            if not keep:
                headers.append(("Connection", "close"))
            encoded = Head(response.first, headers).encode()
            if kind == "length" and length <= SMALL_BODY:  # head and body in one send
                writer.write(encoded + await up_reader.readexactly(length))
            else:
                writer.write(encoded)
                await relay_body(up_reader, writer, kind, length, rechunk=rechunk, dechunk=dechunk)
            await writer.drain()
            if sending is not None and not sending.done():
                return -1  # answered before the whole request arrived: no telling where it ends
            if sending is not None:
                await sending
            keep_upstream = kind != "close" and "close" not in response.tokens("connection")
            return None if keep else -1
        finally:
            if sending is not None and not sending.done():
                sending.cancel()
            self.upstreams.release(address, (up_reader, up_writer), reuse=keep_upstream)

    async def _answer(
        self,
        writer: asyncio.StreamWriter,
        code: int,
        *,
        keep: bool,
        extra: list[tuple[str, str]] | None = None,
    ) -> None:
        reason = REASONS.get(code, "Error")
        page = (
            f"<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
            f"<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n"
        ).encode()
        headers = [
            ("Content-Type", "text/html"),
            ("Content-Length", str(len(page))),
            *(extra or []),
            ("Connection", "keep-alive" if keep else "close"),
        ]
        writer.write(Head(("HTTP/1.1", str(code), reason), headers).encode() + page)
        await writer.drain()


def _hostname(host: str) -> str:
    """The host of a Host header, without its port (``[::1]:80`` → ``::1``)."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _request_headers(head: Head, upgrade: str | None) -> list[tuple[str, str]]:
    dropped = HOP_BY_HOP | _SET_BY_PROXY | {"host"}
    if "chunked" in head.tokens("transfer-encoding"):
        dropped = dropped | {"content-length"}  # chunked decides (RFC 9112 6.3): no smuggling
    headers = [(key, value) for key, value in head.headers if key.lower() not in dropped]
    if upgrade is not None:
        headers += [("Upgrade", upgrade), ("Connection", "upgrade")]
    return headers


class _Discard:
    """A writer that drops what it is given: reads a request body nobody will receive."""

    def write(self, data: bytes) -> None:
        pass

    async def drain(self) -> None:
        pass
