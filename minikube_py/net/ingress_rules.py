"""Ingress rules → a routing table: which backend answers a request for a host and a path.

An Ingress lists *rules* (a host, or none for any host) each with *paths* (a path, a
``pathType``, a backend Service and port). ingress-nginx turns all the Ingresses it serves into
nginx ``server`` blocks, one per host, each with ``location``s, and nginx picks a block by the
request's Host and a location by its path. This module builds the same table in Python and
answers ``route(host, path)``; it does no I/O, so it is tested without sockets.

Upstream's precedence, kept here:

- hosts: an exact host before a wildcard ``*.foo.com`` (which matches exactly one label,
  ``bar.foo.com`` but neither ``foo.com`` nor ``a.bar.foo.com``, as the Ingress API says);
  rules without a host, and unknown hosts, go to the catch-all server;
- paths: ``Exact`` matches the path alone; ``Prefix`` matches element-wise (``/foo`` matches
  ``/foo`` and ``/foo/bar``, not ``/foobar``; a trailing ``/`` is ignored);
  ``ImplementationSpecific`` is treated as ``Prefix``. The longest path wins, and ``Exact``
  before ``Prefix`` at equal length. The same host, path and type in two Ingresses: the older
  Ingress wins (ingress-nginx sorts by creation time);
- fallbacks: a host with no matching path uses the ``defaultBackend`` of the Ingress that
  defined the host, else the controller's default backend; the catch-all server uses the
  ``defaultBackend`` of the oldest Ingress *without rules*, else the controller's. With no
  default backend at all the answer is ingress-nginx's 404.

``nginx.ingress.kubernetes.io/rewrite-target`` (and ``use-regex: "true"``) make an Ingress's
paths case-insensitive regular expressions anchored at the start, as upstream; the target may
use the capture groups ``$1`` … of the path. Regex locations are tried longest path first.
One difference: upstream makes *every* path of the host a regex once one Ingress on it asks;
here only the asking Ingress's paths are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import attrs

Object = dict[str, Any]
ANNOTATION_PREFIX = "nginx.ingress.kubernetes.io/"
REWRITE_TARGET = ANNOTATION_PREFIX + "rewrite-target"
USE_REGEX = ANNOTATION_PREFIX + "use-regex"
SSL_REDIRECT = ANNOTATION_PREFIX + "ssl-redirect"
CATCH_ALL = "_"  # nginx's name for the server of requests no other server takes


@attrs.frozen
class Backend:
    """A Service port in a namespace (``port`` a number or a port name)."""

    namespace: str
    service: str
    port: int | str


@attrs.frozen
class Location:
    path: str
    exact: bool
    backend: Backend | None  # None: a resource backend, which this controller cannot serve
    ingress: str  # namespace/name of the Ingress it came from
    regex: re.Pattern[str] | None = None
    rewrite: str | None = None

    def matches(self, path: str) -> re.Match[str] | bool:
        if self.exact:
            return path == self.path
        if self.regex is not None:
            return self.regex.match(path) or False
        prefix = self.path.rstrip("/")
        return not prefix or path == prefix or path.startswith(prefix + "/")


@attrs.define
class Server:
    host: str
    locations: list[Location] = attrs.field(factory=list)
    default: Backend | None = None  # the root fallback
    default_ingress: str | None = None
    tls: tuple[str, str] | None = None  # (namespace, secretName); "" secret: default cert
    ssl_redirect: bool = False


@attrs.frozen
class Route:
    """What to do with a request: send it to ``backend`` (None: the 404 answer) at ``target``."""

    backend: Backend | None
    target: str  # the request target to send upstream (rewritten if asked)
    ingress: str | None
    redirect_https: bool = False


@attrs.define
class RoutingTable:
    exact: dict[str, Server] = attrs.field(factory=dict)
    wildcard: dict[str, Server] = attrs.field(factory=dict)  # "foo.com" for "*.foo.com"
    catch_all: Server = attrs.field(factory=lambda: Server(CATCH_ALL))
    problems: list[str] = attrs.field(factory=list)  # what was skipped, and why

    def server(self, host: str) -> Server:
        host = host.lower().rstrip(".")
        if host in self.exact:
            return self.exact[host]
        _, dot, parent = host.partition(".")
        if dot and parent in self.wildcard:
            return self.wildcard[parent]
        return self.catch_all

    def tls_for(self, server_name: str) -> tuple[str, str] | None:
        """The (namespace, secret) whose certificate a TLS handshake for the name presents."""
        return self.server(server_name).tls

    def route(self, host: str, target: str) -> Route:
        server = self.server(host)
        path, _, query = target.partition("?")
        for location in server.locations:
            found = location.matches(path)
            if not found:
                continue
            upstream = target
            if location.rewrite is not None and location.regex is not None:
                upstream = _rewrite(location, path, query)
            return Route(location.backend, upstream, location.ingress, server.ssl_redirect)
        return Route(server.default, target, server.default_ingress, server.ssl_redirect)


def _rewrite(location: Location, path: str, query: str) -> str:
    assert location.regex is not None and location.rewrite is not None
    found = re.compile(location.regex.pattern.removeprefix("^"), re.I).search(path)
    groups = found.groups() if found else ()

    def group(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return (groups[index] or "") if 0 <= index < len(groups) else ""

    rewritten = re.sub(r"\$(\d)", group, location.rewrite) or "/"
    if query and "?" not in rewritten:  # nginx keeps the arguments unless the target has some
        rewritten += "?" + query
    return rewritten


def _creation(ingress: Object) -> tuple[str, str, str]:
    meta = ingress.get("metadata") or {}
    return (str(meta.get("creationTimestamp") or ""), meta.get("namespace", ""), meta["name"])


def backend_of(namespace: str, spec: Object | None) -> Backend | None:
    """The Service backend of an IngressBackend, or None (a resource backend, or nothing)."""
    service = (spec or {}).get("service") or {}
    port = service.get("port") or {}
    number, name = port.get("number"), port.get("name")
    if not service.get("name") or (number is None and not name):
        return None
    return Backend(namespace, service["name"], int(number) if number is not None else str(name))


def build_table(
    ingresses: Iterable[Object], *, default_backend: Backend | None = None
) -> RoutingTable:
    """The routing table of the Ingresses a controller serves (older ones win conflicts)."""
    table = RoutingTable()
    table.catch_all.default = default_backend
    seen: set[tuple[str, str, bool]] = set()
    catch_all_taken = False
    for ingress in sorted(ingresses, key=_creation):
        namespace, name = _creation(ingress)[1:]
        key = f"{namespace}/{name}"
        spec = ingress.get("spec") or {}
        annotations = (ingress.get("metadata") or {}).get("annotations") or {}
        own_default = backend_of(namespace, spec.get("defaultBackend"))
        rules = spec.get("rules") or []
        if not rules and own_default is not None and not catch_all_taken:
            table.catch_all.default, table.catch_all.default_ingress = own_default, key
            catch_all_taken = True
        for rule in rules:
            server = _server_for(table, str(rule.get("host") or ""), default_backend)
            if server is None:
                table.problems.append(f"{key}: invalid host {rule.get('host')!r}")
                continue
            if own_default is not None and server.default_ingress is None:
                server.default, server.default_ingress = own_default, key
            for entry in (rule.get("http") or {}).get("paths") or []:
                location = _location(key, namespace, annotations, entry, table.problems)
                if location is None:
                    continue
                identity = (server.host, location.path, location.exact)
                if identity in seen:
                    table.problems.append(
                        f"{key}: {server.host} {location.path} is already defined by an older "
                        "Ingress"
                    )
                    continue
                seen.add(identity)
                server.locations.append(location)
        _add_tls(table, namespace, spec.get("tls") or [], annotations, default_backend)
    for server in [*table.exact.values(), *table.wildcard.values(), table.catch_all]:
        server.locations.sort(key=lambda location: (-len(location.path), not location.exact))
    return table


_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def _server_for(table: RoutingTable, host: str, default: Backend | None) -> Server | None:
    host = host.lower()
    if not host:
        return table.catch_all
    wildcard = host.startswith("*.")
    labels = (host[2:] if wildcard else host).split(".")
    if not all(_LABEL.fullmatch(label) for label in labels):
        return None
    servers = table.wildcard if wildcard else table.exact
    name = host[2:] if wildcard else host
    if name not in servers:
        servers[name] = Server(host, default=default)
    return servers[name]


def _location(
    key: str, namespace: str, annotations: dict[str, str], entry: Object, problems: list[str]
) -> Location | None:
    path = str(entry.get("path") or "/")
    kind = entry.get("pathType") or "ImplementationSpecific"
    regex_mode = REWRITE_TARGET in annotations or annotations.get(USE_REGEX) == "true"
    if not path.startswith("/") and not regex_mode:
        problems.append(f"{key}: path {path!r} does not start with '/'")
        return None
    backend = backend_of(namespace, entry.get("backend"))
    if kind == "Exact" or not regex_mode:
        return Location(path, kind == "Exact", backend, key)
    try:
        pattern = re.compile("^" + path, re.IGNORECASE)
    except re.error as error:
        problems.append(f"{key}: path {path!r} is not a valid regular expression: {error}")
        return None
    return Location(path, False, backend, key, pattern, annotations.get(REWRITE_TARGET))


def _add_tls(
    table: RoutingTable,
    namespace: str,
    tls: list[Object],
    annotations: dict[str, str],
    default: Backend | None,
) -> None:
    for entry in tls:
        for host in entry.get("hosts") or []:
            server = _server_for(table, str(host), default)
            if server is None or server is table.catch_all or server.tls is not None:
                continue  # an older Ingress already chose this host's certificate
            server.tls = (namespace, str(entry.get("secretName") or ""))
            server.ssl_redirect = annotations.get(SSL_REDIRECT, "true") != "false"
