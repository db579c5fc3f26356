"""The HTTP application: middlewares, the non-resource endpoints, and dispatch.

Every request passes two middlewares: *errors* (whatever goes wrong leaves as a Kubernetes
``Status``, never an HTML page or a traceback) and *authentication* (who is asking; anonymous
callers may only read ``/version`` and the health endpoints). Then the path decides: discovery
(``/api``, ``/apis/...``), ``/version``, health, OpenAPI, or a resource request for
``handlers.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from minikube_py.api import errors
from minikube_py.api.registry import Registry
from minikube_py.apiserver import (
    discovery,
    kubelets,
    openapi,
    podexec,
    podlogs,
    portforward,
    routing,
)
from minikube_py.apiserver.authn import ANONYMOUS, Authenticator, UserInfo, is_public
from minikube_py.apiserver.decoding import MAX_BODY_BYTES
from minikube_py.apiserver.handlers import ResourceHandler, reply
from minikube_py.logs import get_logger
from minikube_py.runtime.protocol import NodeStreams

_log = get_logger("apiserver")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

USER = web.RequestKey("user", UserInfo)  # who is asking, for the handlers (and RBAC later)
HEALTH_CHECKS = ("ping", "log", "etcd", "informer-sync", "poststarthook/start-apiserver")
# Upstream's /readyz also waits for its post-start hooks; ours is the bootstrap objects.
BOOTSTRAP_CHECK = "poststarthook/bootstrap-controller"


def make_app(
    resources: ResourceHandler,
    registry: Registry,
    authenticator: Authenticator,
    *,
    server_address: Callable[[], str],
    node_streams: Mapping[str, NodeStreams] | None = None,
    bootstrapped: Callable[[], bool] = lambda: True,
) -> web.Application:
    """The application; ``bootstrapped()`` says whether the bootstrap objects exist, which
    ``/readyz`` waits for as upstream's does (``/livez`` and ``/healthz`` do not)."""
    streams: Mapping[str, NodeStreams] = {} if node_streams is None else node_streams

    @web.middleware
    async def statuses(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except errors.ApiError as error:
            return reply(error.status(), error.code)
        except web.HTTPRequestEntityTooLarge:
            big = errors.too_large(f"Request entity too large: limit is {MAX_BODY_BYTES}")
            return reply(big.status(), big.code)
        except web.HTTPException as http:
            if http.status < 400:
                raise
            # aiohttp's own answers (a path its router cannot match, …) become Statuses too
            failure = errors.ApiError(http.status, http.reason.replace(" ", ""), http.reason)
            if http.status == 404:
                failure = errors.path_not_found()
            return reply(failure.status(), failure.code)
        except Exception as error:
            _log.exception("request failed", method=request.method, path=request.path)
            failure = errors.internal(str(error) or type(error).__name__)
            return reply(failure.status(), failure.code)

    @web.middleware
    async def authentication(request: web.Request, handler: Handler) -> web.StreamResponse:
        user = authenticator.authenticate_request(request)
        if user is None or (user == ANONYMOUS and not is_public(request.path)):
            raise errors.unauthorized()
        request[USER] = user
        return await handler(request)

    async def dispatch(request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        if path == "/version":
            return reply(discovery.version_info())
        if path.split("/")[1] in ("healthz", "livez", "readyz"):
            return _health(path, verbose="verbose" in request.query, ready=bootstrapped())
        if path.startswith("/openapi/"):
            return openapi.respond(registry, request)
        if path in ("/api", "/apis") and discovery.wants_aggregated(
            request.headers.get("Accept", "")
        ):
            answer = reply(discovery.aggregated(registry, legacy=path == "/api"))
            answer.headers["Content-Type"] = discovery.AGGREGATED_V2
            return answer
        found = _discovery(registry, path, server_address())
        if found is not None:
            return reply(found)
        target = routing.parse(registry, path)
        if target is None:
            raise errors.path_not_found()
        if target.rt.group == "" and target.rt.plural == "pods":  # streamed from the kubelet
            if target.subresource == "log" and request.method == "GET":
                return await podlogs.serve_log(resources.storage, streams, request, target)
            if target.subresource in ("exec", "attach") and request.method in ("GET", "POST"):
                return await podexec.serve_stream(resources.storage, streams, request, target)
            if target.subresource == "portforward" and request.method in ("GET", "POST"):
                return await portforward.serve_portforward(
                    resources.storage, streams, request, target
                )
        return await resources.handle(request, target)

    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[statuses, authentication],
    )
    app[kubelets.ACTIVE] = set()
    app.on_shutdown.append(kubelets.end_streams)
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app


def _discovery(registry: Registry, path: str, server_address: str) -> dict[str, Any] | None:
    parts = [part for part in path.split("/") if part]
    if parts == ["api"]:
        return discovery.api_versions(server_address)
    if parts == ["apis"]:
        return discovery.api_group_list(registry)
    if len(parts) == 2 and parts[0] == "api":
        return discovery.api_resource_list(registry, "", parts[1]) or _missing()
    if len(parts) == 2 and parts[0] == "apis":
        return discovery.api_group(registry, parts[1]) or _missing()
    if len(parts) == 3 and parts[0] == "apis":
        return discovery.api_resource_list(registry, parts[1], parts[2]) or _missing()
    return None


def _missing() -> dict[str, Any]:
    raise errors.path_not_found()


def _health(path: str, *, verbose: bool, ready: bool) -> web.Response:
    """``ok``, or with ``?verbose`` one ``[+]check ok`` line per check, as upstream; a failed
    check is a 500 listing every check, verbose or not, also as upstream."""
    endpoint = path.split("/")[1]
    failed = endpoint == "readyz" and not ready
    if not verbose and not failed:
        return web.Response(text="ok", content_type="text/plain")
    lines = [f"[+]{check} ok" for check in HEALTH_CHECKS]
    if endpoint == "readyz":
        state = "failed: reason withheld" if failed else "ok"
        lines.append(f"[{'-' if failed else '+'}]{BOOTSTRAP_CHECK} {state}")
    lines.append(f"{endpoint} check {'failed' if failed else 'passed'}")
    text = "\n".join(lines) + "\n"
    return web.Response(text=text, status=500 if failed else 200, content_type="text/plain")
