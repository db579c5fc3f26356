"""Resource requests: one HTTP method on one target, turned into a storage call.

GET reads one object, lists a collection or (``?watch=true``) watches it; POST creates;
PUT replaces; PATCH patches (JSON patch, merge patch, strategic merge patch) or applies
(server-side apply, ``applying.py``); every write is recorded in ``managedFields`` for its
field manager. DELETE deletes one object or, without a name, a collection. Subresources have
their own small rules: ``status`` shares the object's verbs, ``scale`` reads and writes
``spec.replicas`` through an ``autoscaling/v1`` ``Scale``, ``binding`` assigns a pod to a node,
``eviction`` deletes a pod politely, and ``log`` / ``exec`` wait for the kubelet. Tables
(``kubectl get``) are rendered here from the results.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from minikube_py.api import errors
from minikube_py.api.resources import ResourceType
from minikube_py.api.tables import to_table, wants_table
from minikube_py.apiserver import (
    applying,
    customadmission,
    decoding,
    fieldchecks,
    managedfields,
    objects,
    subresources,
)
from minikube_py.apiserver.duplicates import Duplicates
from minikube_py.apiserver.routing import Target
from minikube_py.apiserver.storage import Storage
from minikube_py.apiserver.watchcache import WatchCache
from minikube_py.apiserver.watching import serve_watch

_SLICE_BYTES = 1 << 20


def reply(body: Any, status: int = 200, *, warnings: list[str] | None = None) -> web.Response:
    response = web.Response(
        body=objects.dump_json(body),
        status=status,
        content_type="application/json",
    )
    for warning in warnings or ():
        # RFC 7234 warn-code 299 with "-" as agent, as upstream; kubectl prints the text. A
        # header carries printable ASCII only: anything else is escaped.
        text = warning.encode("unicode_escape").decode("ascii").replace('"', '\\"')
        response.headers.add("Warning", f'299 - "{text}"')
    return response


async def send_json(request: web.Request, body: bytes) -> web.StreamResponse:
    """A JSON body already encoded; a big one (a list of thousands of objects) is written in
    slices, because TLS encrypts one 10 MB write several times slower than the same bytes
    in 1 MiB writes (the encrypted output is buffered whole before it is sent)."""
    if len(body) <= _SLICE_BYTES:
        return web.Response(body=body, content_type="application/json")
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.content_length = len(body)  # not chunked: clients learn the size up front
    await response.prepare(request)
    view = memoryview(body)
    try:
        for start in range(0, len(body), _SLICE_BYTES):
            await response.write(view[start : start + _SLICE_BYTES])
        await response.write_eof()
    except ConnectionError:
        pass  # the client left mid-body: nobody to tell, and no error of ours
    return response


def checked_fields(
    rt: ResourceType,
    body: Any,
    mode: str,
    warnings: list[str],
    duplicates: Duplicates | None = None,
) -> Any:
    """Apply ``fieldValidation`` to a POST / PUT body (see ``fieldchecks.py``)."""
    return fieldchecks.check_body(rt, body, mode, warnings, duplicates or Duplicates())


class ResourceHandler:
    """Serves every resource request against one ``Storage`` and one ``WatchCache``."""

    def __init__(self, storage: Storage, cache: WatchCache) -> None:
        self.storage = storage
        self.cache = cache

    async def handle(self, request: web.Request, target: Target) -> web.StreamResponse:
        if target.subresource in subresources.SPECIAL:
            return reply(*await subresources.handle(self.storage, request, target))
        method, rt, ns, name = request.method, target.rt, target.namespace, target.name
        query = request.query
        table = wants_table(request.headers.get("Accept", ""))
        if method == "GET" and name is None:
            if decoding.flag(query, "watch"):
                return await serve_watch(request, self.storage, self.cache, rt, ns, table=table)
            selected = decoding.list_options(query)
            if table:
                listed = await self.storage.list(rt, ns, selected)
                return reply(self._table(request, target, listed["items"], listed["metadata"]))
            # JSON: encoded by the lister itself, mostly from the stored bytes
            return await send_json(request, await self.storage.lister.list_json(rt, ns, selected))
        if method == "GET":
            assert name is not None
            obj = await self.storage.get(rt, ns, name)
            if table:
                return reply(self._table(request, target, [obj], obj["metadata"]))
            return reply(obj)
        dry_run = decoding.dry_run(query)
        warnings: list[str] = []
        writing = method in ("POST", "PUT", "PATCH")
        mode = decoding.field_validation(query) if writing else "Ignore"
        manager = ""
        if writing:  # who the write is for: managedFields record it
            kind = {"POST": "CreateOptions", "PUT": "UpdateOptions"}.get(method, "PatchOptions")
            agent = request.headers.get("User-Agent", "")
            manager = managedfields.request_manager(query, agent, kind)
        found = Duplicates()  # keys the body repeats, for field validation
        if method == "POST" and name is None:
            body = await decoding.read_body(request, found)
            body = checked_fields(rt, body, mode, warnings, found)
            created = await self.storage.create(rt, ns, body, dry_run=dry_run, manager=manager)
            return reply(created, 201, warnings=warnings)
        if method == "PUT" and name is not None:
            body = await decoding.read_body(request, found)
            body = checked_fields(rt, body, mode, warnings, found)
            updated = await self.storage.update(
                rt,
                ns,
                name,
                body,
                subresource=target.subresource,
                dry_run=dry_run,
                manager=manager,
            )
            return reply(updated, warnings=warnings)
        if method == "PATCH" and name is not None:
            return await self._patch(request, target, name, mode, manager, dry_run, found)
        if method == "DELETE":
            options = decoding.delete_options(query, await decoding.optional_body(request))
            dry_run = dry_run or options.get("dryRun") == ["All"]
            if name is None:
                return reply(await self._delete_collection(rt, ns, query, options, dry_run))
            deleted = await self.storage.delete(rt, ns, name, options, dry_run=dry_run)
            gone = not deleted["metadata"].get("deletionTimestamp")
            return reply(deleted, 200 if gone else 202)
        raise errors.method_not_allowed()

    async def _patch(
        self,
        request: web.Request,
        target: Target,
        name: str,
        mode: str,
        manager: str,
        dry_run: bool,
        found: Duplicates,
    ) -> web.Response:
        """PATCH: a JSON, merge or strategic patch, or a server-side apply."""
        rt, ns, content_type = target.rt, target.namespace, request.content_type
        if content_type not in objects.PATCHERS and content_type != objects.APPLY_PATCH:
            raise objects.unsupported_patch_type()
        if rt.schema is not None:  # custom resources take no strategic merge patch
            customadmission.check_patch_type(content_type)
        force = applying.patch_options(request.query, content_type)
        patch = await decoding.read_body(request, found)
        problems = fieldchecks.patch_problems(content_type, patch, found)
        warnings: list[str] = []
        if content_type == objects.APPLY_PATCH:
            fieldchecks.check_apply_duplicates(mode, warnings, found)
            # undeclared fields: refused whatever fieldValidation says, as upstream does
            config = applying.checked_config(rt, patch, name)
            config = checked_fields(rt, config, mode, warnings)
            applied, code = await applying.server_side_apply(
                self.storage,
                rt,
                ns,
                name,
                config,
                manager=manager,
                force=force,
                subresource=target.subresource,
                dry_run=dry_run,
            )
            return reply(applied, code, warnings=warnings)
        patched = await self.storage.patch(
            rt,
            ns,
            name,
            lambda old: fieldchecks.check_patched(
                rt, objects.apply_patch(content_type, old, patch), mode, warnings, problems
            ),
            subresource=target.subresource,
            dry_run=dry_run,
            manager=manager,
        )
        return reply(patched, warnings=list(dict.fromkeys(warnings)))  # once per field

    async def _delete_collection(
        self, rt: Any, ns: str | None, query: Any, options: dict[str, Any], dry_run: bool
    ) -> dict[str, Any]:
        listed = await self.storage.list(rt, ns, decoding.list_options(query))
        deleted = []
        for item in listed["items"]:
            metadata = item["metadata"]
            try:
                deleted.append(
                    await self.storage.delete(
                        rt, metadata.get("namespace"), metadata["name"], options, dry_run=dry_run
                    )
                )
            except errors.ApiError as error:
                if error.code != 404:  # deleted by someone else meanwhile: fine
                    raise
        return {**listed, "items": deleted}

    def _table(
        self, request: web.Request, target: Target, items: list[Any], metadata: dict[str, Any]
    ) -> dict[str, Any]:
        return to_table(
            target.rt,
            items,
            resource_version=metadata.get("resourceVersion", ""),
            continue_token=metadata.get("continue"),
            include_object=request.query.get("includeObject", "Metadata"),
        )
