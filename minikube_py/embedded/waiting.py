"""Waiting for an object to reach a state, as ``kubectl wait`` does: by watching, not polling.

A condition is what ``kubectl wait --for`` takes: ``"Ready"`` / ``"condition=Ready"`` (the
object's ``status.conditions`` entry of that type has status ``True``;
``"condition=Ready=False"`` asks for another status), ``"delete"`` (the object is gone), or
``"jsonpath={.status.phase}=Running"`` (simple paths only).
Anything else is a predicate: a function given the object, true once it is as wanted.

The wait reads the object once (a list narrowed to its name, for the list's
``resourceVersion``), then watches from that version, checking each change; a watch the
server ends is started again from the last version seen, and a version too old (410) starts
over with a fresh list. The whole wait is bounded by ``timeout``: past it, ``WaitTimeout``
says what was waited for and what the object looked like last.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from minikube_py.api.errors import ApiError
from minikube_py.client.protocol import Client, Object
from minikube_py.cluster.settings import ClusterError
from minikube_py.embedded.kinds import Resource

Predicate = Callable[[Object], Any]
Condition = str | Predicate
_WATCH_SECONDS = 30  # how long one watch request runs before it is renewed


class WaitTimeout(ClusterError, TimeoutError):
    """The object did not reach the state waited for in time."""


def condition_predicate(condition: str) -> Predicate | None:
    """The predicate of a ``kubectl wait --for`` condition; None for ``delete``."""
    text = condition.strip()
    if text.lower() in ("delete", "deleted"):
        return None
    if text.startswith("jsonpath="):
        return _jsonpath_predicate(text.removeprefix("jsonpath="))
    if text.startswith("condition="):
        text = text.removeprefix("condition=")
    wanted_type, _, wanted_status = text.partition("=")
    wanted_status = wanted_status or "True"
    if not wanted_type:
        raise ClusterError(f"not a condition: {condition!r}")

    def met(obj: Object) -> bool:
        for entry in (obj.get("status") or {}).get("conditions") or ():
            if str(entry.get("type", "")).lower() == wanted_type.lower():
                return str(entry.get("status", "")).lower() == wanted_status.lower()
        return False

    return met


def _jsonpath_predicate(text: str) -> Predicate:
    """``{.status.phase}=Running``: the field at a simple path (dots, ``[N]`` indexes; no
    filters) printed as kubectl prints it equals the value."""
    path, equals, wanted = text.partition("}=")
    if not (path.startswith("{.") and equals):
        raise ClusterError(f"not a jsonpath condition ({{.path}}=value): jsonpath={text}")
    steps = path[2:].replace("[", ".[").split(".")

    def met(obj: Object) -> bool:
        value: Any = obj
        for step in filter(None, steps):
            if step.startswith("[") and step.endswith("]") and isinstance(value, list):
                index = int(step[1:-1])
                value = value[index] if -len(value) <= index < len(value) else None
            elif isinstance(value, dict):
                value = value.get(step)
            else:
                value = None
        if isinstance(value, bool):  # printed as Go prints it
            value = str(value).lower()
        return value is not None and str(value) == wanted.strip("'\"")

    return met


def _satisfied(predicate: Predicate | None, obj: Object | None) -> bool:
    if predicate is None:
        return obj is None
    return obj is not None and bool(predicate(obj))


async def wait_for(
    client: Client,
    resource: Resource,
    namespace: str | None,
    name: str,
    condition: Condition,
    *,
    timeout: float,  # noqa: ASYNC109 - kubectl wait's --timeout: the bound of the whole wait
) -> Object | None:
    """The object once ``condition`` holds (None when waiting for deletion)."""
    predicate = condition_predicate(condition) if isinstance(condition, str) else condition
    seen = _Seen(client, resource, namespace if resource.namespaced else None, name)
    try:
        async with asyncio.timeout(timeout):
            while True:
                version = await seen.read()
                if _satisfied(predicate, seen.last):
                    return seen.last
                with contextlib.suppress(ApiError):  # 410 Expired: read it again
                    await seen.watch(predicate, version)
                    return seen.last
    except TimeoutError:
        shown = "it does not exist" if seen.last is None else f"it is {_summary(seen.last)}"
        wanted = condition if isinstance(condition, str) else "the predicate"
        raise WaitTimeout(
            f"timed out after {timeout:g}s waiting for {resource.gvr.resource}/{name} "
            f"({wanted}); {shown}"
        ) from None


class _Seen:
    """The object as last seen, kept up to date by a list and then a watch."""

    def __init__(
        self, client: Client, resource: Resource, namespace: str | None, name: str
    ) -> None:
        self.client, self.resource, self.namespace, self.name = client, resource, namespace, name
        self.selector = f"metadata.name={name}"
        self.last: Object | None = None

    async def read(self) -> str:
        """Read the object (None if absent); the ``resourceVersion`` to watch from."""
        listed = await self.client.list(
            self.resource.gvr, self.namespace, field_selector=self.selector
        )
        self.last = (listed.get("items") or [None])[0]
        return str(listed["metadata"].get("resourceVersion", ""))

    async def watch(self, predicate: Predicate | None, version: str) -> None:
        """Watch until the condition holds, renewing the watch each time the server ends it."""
        while True:
            events = self.client.watch(
                self.resource.gvr,
                self.namespace,
                resource_version=version,
                field_selector=self.selector,
                timeout_seconds=_WATCH_SECONDS,
            )
            async with contextlib.aclosing(events):
                async for event_type, obj in events:
                    version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
                    if event_type == "BOOKMARK":
                        continue
                    self.last = None if event_type == "DELETED" else obj
                    if _satisfied(predicate, self.last):
                        return


def _summary(obj: Object) -> str:
    """A short account of an object's state for a timeout message."""
    status = obj.get("status") or {}
    conditions = [f"{c.get('type')}={c.get('status')}" for c in status.get("conditions") or () if c]
    parts = []
    if status.get("phase"):
        parts.append(f"phase {status['phase']}")
    if conditions:
        parts.append("conditions " + ", ".join(conditions))
    return "; ".join(parts) or "without status"
