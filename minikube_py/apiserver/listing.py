"""Lists: one page of a collection, filtered by selectors, at a consistent revision.

A Kubernetes list returns a ``<Kind>List`` whose ``metadata.resourceVersion`` is the revision
it read at — the revision an informer then watches from — and, with ``limit``, a ``continue``
token for the next page. Selectors filter on the server: labels (``app=web,tier!=db``) and a
few fields per kind (``spec.nodeName=minikube``). As upstream, a page may hold fewer than
``limit`` items when the selector filters some out; the token always resumes right after the
last object the server looked at.
"""

from __future__ import annotations

import builtins  # inside ``Lister``, ``list`` names its method
import contextlib
import gc
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import attrs

from minikube_py.api import errors
from minikube_py.api.resources import ResourceType
from minikube_py.api.selectors import (
    FieldSelector,
    LabelSelector,
    check_field_selector,
    object_fields,
)
from minikube_py.apiserver.objects import Object, prefix, read
from minikube_py.apiserver.passthrough import Pieces, list_body, served_pieces
from minikube_py.store import Expired, InvalidContinueToken, KeyValue, RevisionNotYet, Store

T = TypeVar("T")


@attrs.frozen
class ListOptions:
    """The query parameters of a list (and, mostly, of a watch)."""

    label_selector: str = ""
    field_selector: str = ""
    limit: int = 0
    continue_token: str | None = None
    resource_version: str = ""
    resource_version_match: str = ""


@attrs.frozen
class Filter:
    """Label and field selectors, parsed once and checked against the kind."""

    labels: LabelSelector
    fields: FieldSelector
    kind: str

    @classmethod
    def build(cls, rt: ResourceType, options: ListOptions) -> Filter:
        try:
            labels = LabelSelector.parse(options.label_selector)
        except ValueError as error:
            raise errors.bad_request(f"unable to parse requirement: {error}") from None
        try:
            fields = FieldSelector.parse(options.field_selector)
        except ValueError as error:
            raise errors.bad_request(f"invalid field selector: {error}") from None
        problem = check_field_selector(rt.kind, fields)
        if problem:
            raise errors.bad_request(problem)
        return cls(labels, fields, rt.kind)

    @property
    def everything(self) -> bool:
        return self.labels.empty and not self.fields.requirements

    def matches(self, obj: Object) -> bool:
        if self.everything:
            return True
        metadata = obj.get("metadata") or {}
        if not self.labels.matches(metadata.get("labels") or {}):
            return False
        return not self.fields.requirements or self.fields.matches(object_fields(self.kind, obj))

    def selects(self, labels: Mapping[str, str], fields: Mapping[str, str]) -> bool:
        """``matches`` for an object known by its labels and selectable fields."""
        return self.labels.matches(labels) and self.fields.matches(fields)


class Lister:
    """Reads pages from the store and shapes them into Kubernetes lists."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def check_not_future(self, revision: int) -> None:
        """Upstream answers 504 for a resourceVersion newer than anything stored."""
        newest = await self._store.current_revision()
        if revision > newest:
            raise _too_large(revision, newest)

    async def list(self, rt: ResourceType, namespace: str | None, options: ListOptions) -> Object:
        """One page (or all) of a collection; see the module docstring."""
        selection = Filter.build(rt, options)

        def pick(page: list[KeyValue]) -> list[Object]:
            objs = (read(rt, kv) for kv in page)
            return [obj for obj in objs if selection.matches(obj)]

        items, metadata = await self._collect(rt, namespace, options, pick)
        return {
            "kind": rt.list_kind,
            "apiVersion": rt.api_version,
            "metadata": metadata,
            "items": items,
        }

    async def list_json(
        self, rt: ResourceType, namespace: str | None, options: ListOptions
    ) -> bytes:
        """The same list as ``list``, already encoded: most items are served as their stored
        bytes (``passthrough.py``), which saves decoding and encoding each of them."""
        selection = Filter.build(rt, options)

        def pick(page: list[KeyValue]) -> list[Pieces]:
            if selection.everything:
                return [served_pieces(rt, kv) for kv in page]
            kept = []
            for kv in page:  # a selector needs the decoded object, the reply need not
                obj = read(rt, kv)
                if selection.matches(obj):
                    kept.append(served_pieces(rt, kv, obj))
            return kept

        items, metadata = await self._collect(rt, namespace, options, pick)
        return list_body(rt, metadata, items)

    async def _collect(
        self,
        rt: ResourceType,
        namespace: str | None,
        options: ListOptions,
        pick: Callable[[builtins.list[KeyValue]], builtins.list[T]],
    ) -> tuple[builtins.list[T], dict[str, Any]]:
        """The items ``pick`` keeps of each page read, until ``limit`` of them (or the end),
        and the list's metadata: the revision read at and the token to go on."""
        revision = _exact_revision(options)
        if options.resource_version not in ("", "0") and revision is None:
            await self.check_not_future(int(options.resource_version))
        items: list[T] = []
        token = options.continue_token or None
        at: int | None = None
        while True:
            wanted = options.limit - len(items) if options.limit else 0
            try:
                page = await self._store.list(
                    prefix(rt, namespace),
                    limit=wanted,
                    continue_token=token,
                    revision=revision if token is None else None,
                )
            except InvalidContinueToken as error:
                raise errors.bad_request(f"continue key is not valid: {error}") from None
            except Expired:
                raise errors.gone(
                    "The provided continue parameter is too old to display a consistent list "
                    "result. You can start a new list without the continue parameter, or use "
                    "the continue token in this response to retrieve the remainder of the "
                    "results."
                ) from None
            except RevisionNotYet as error:
                raise _too_large(error.revision, error.newest) from None
            at = page.revision
            with _no_collection():
                items += pick(page.items)
            token = page.continue_token
            if token is None or (options.limit and len(items) >= options.limit):
                break
        metadata: dict[str, Any] = {"resourceVersion": str(at)}
        if token:
            metadata["continue"] = token
        return items, metadata


def _exact_revision(options: ListOptions) -> int | None:
    """The revision to read at: only ``resourceVersionMatch=Exact`` asks for an old one."""
    version, match = options.resource_version, options.resource_version_match
    if match and match not in ("Exact", "NotOlderThan"):
        raise errors.bad_request(f"invalid resourceVersionMatch: {match}")
    if match and not version:
        raise errors.bad_request(
            "resourceVersionMatch is forbidden unless resourceVersion is provided"
        )
    if not version:
        return None
    try:
        number = int(version)
    except ValueError:
        raise errors.bad_request(f"invalid resource version: {version}") from None
    if match == "Exact":
        return number
    return None  # "0", NotOlderThan and a bare version: the newest state is never older


def _too_large(revision: int, newest: int) -> errors.ApiError:
    return errors.ApiError(
        504,
        "Timeout",
        f"Too large resource version: {revision}, current: {newest}",
        details={
            "causes": [
                {"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}
            ],
            "retryAfterSeconds": 1,
        },
    )


@contextlib.contextmanager
def _no_collection() -> Iterator[None]:
    """Decode a page without the cycle collector: thousands of objects decoded at once would
    set it off again and again, each run walking everything decoded so far (most of a big
    list's time), yet JSON trees hold no cycles for it to free. Nothing awaits inside, so no
    other request runs while it is off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
