"""``kubectl get -w``: after the first answer, one line (or document) per change.

kubectl lists first and prints the table, then watches the collection from the list's
``resourceVersion``, so it sees exactly the changes after what it printed. A watch on one
named object asks from ``resourceVersion=0`` with ``fieldSelector=metadata.name=NAME``; such a
watch starts with a synthetic ADDED event for the object it already printed, which is skipped.
For table output the watch also asks for Tables: each event carries a one-row Table (the
column definitions come with the first one only), printed without repeating the header and
aligned with what came before — kubectl's tab writer remembers column widths across a watch.
``--output-watch-events`` adds an ``EVENT`` column (ADDED, MODIFIED, DELETED).

The watch ends when the server closes it — after ``--request-timeout`` when one is given,
which is how tests end it — or on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from minikube_py.api.errors import ApiError
from minikube_py.client.discovery import Resource
from minikube_py.client.protocol import Object, raise_watch_error
from minikube_py.kubectl import jsonpath
from minikube_py.kubectl import output as printing
from minikube_py.kubectl.session import KubectlError, Session

TABLE_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class Seen:
    """What ``get`` fetched before watching: the answer (a Table or the objects' JSON) and
    the objects in it."""

    resource: Resource
    name: str | None
    answer: Object
    objects: list[Object]


async def watch(
    session: Session,
    args: argparse.Namespace,
    output: printing.Output,
    options: printing.TableOptions | None,
    seen: list[Seen],
    errors: list[ApiError],
) -> int:
    """``get -w``: what was fetched (unless ``--watch-only``), then one line per change."""
    for failure in errors:
        session.err.write(f"Error from server ({failure.reason}): {failure.message}\n")
    if not seen or options is None:
        return 1 if errors else 0
    follower = Follower(session, output, options, args.output_watch_events)
    if not args.watch_only:
        for one in seen:
            if output.is_table:
                follower.print_table(one.answer, "ADDED")
            else:
                follower.print_objects(one.objects, "ADDED")
    if len(seen) > 1:
        raise KubectlError("you may only watch a single resource or type of resource at a time")
    first = seen[0]
    await follower.follow(
        first.resource,
        None if args.all_namespaces else session.namespace_of(first.resource),
        name=first.name,
        resource_version="0" if first.name else _resource_version(first.answer),
        label_selector=args.selector,
        field_selector=args.field_selector,
        limit=seconds(args.request_timeout),
    )
    return 0


def _resource_version(answer: Object) -> str:
    return str((answer.get("metadata") or {}).get("resourceVersion") or "")


def seconds(text: str) -> float:
    """``--request-timeout`` in seconds: ``30`` (seconds), ``1m30s``, ``500ms``; 0 is none."""
    text = text.strip()
    if re.fullmatch(r"\d+", text):
        return float(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise KubectlError(
            "Invalid timeout value. Timeout must be a single integer in seconds, or an integer "
            "followed by a corresponding time unit (e.g. 1s | 2m | 3h)"
        )
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


class Follower:
    """Prints the first answer and then each watch event of one ``get -w``."""

    def __init__(
        self,
        session: Session,
        output: printing.Output,
        options: printing.TableOptions,
        with_events: bool,
    ) -> None:
        self.session = session
        self.output = output
        self.options = options
        self.with_events = with_events
        self.writer = printing.TabWriter()
        self.definitions: list[Any] = []
        self.header_printed = False
        self.documents = 0

    def print_table(self, table: Object, event_type: str) -> None:
        if table.get("columnDefinitions"):
            self.definitions = table["columnDefinitions"]
        shown = {**table, "columnDefinitions": self.definitions}
        header = not self.header_printed and not self.options.no_headers
        lines = printing.table_rows(shown, self.options, header=header)
        if not lines:
            return
        if self.with_events:
            lines = [
                ["EVENT" if header and i == 0 else event_type, *line]
                for i, line in enumerate(lines)
            ]
        self.header_printed = True
        self._write(self.writer.render(lines))

    def print_objects(self, objects: list[Object], event_type: str) -> None:
        kind = self.output.format
        for obj in objects:
            # --output-watch-events prints a WatchEvent (only -o name looks through it)
            shown = {"type": event_type, "object": obj} if self.with_events else obj
            if kind == "custom-columns":
                rows = printing.custom_column_rows([shown], self.output.template)
                header = not (self.header_printed or self.output.no_headers)
                self._write(self.writer.render(rows if header else rows[1:]))
                self.header_printed = True
                continue
            if kind == "json" and self.with_events:  # kubectl writes the event compactly
                event = (
                    f'{{"type":{jsonpath.go_json(event_type)},"object":{jsonpath.go_json(obj)}}}'
                )
                self._write(event + "\n")
                continue
            if kind == "yaml" and self.documents:
                self.session.write("---\n")  # one YAML stream, one document per object
            self.documents += 1
            shown = obj if kind == "name" else shown
            printing.print_objects(self.session, [shown], self.output, single=True)
        self.session.out.flush()

    def _write(self, text: str) -> None:
        self.session.write(text)
        self.session.out.flush()  # whoever reads our output sees each change as it happens

    async def follow(
        self,
        resource: Resource,
        namespace: str | None,
        *,
        name: str | None,
        resource_version: str,
        label_selector: str,
        field_selector: str,
        limit: float,
    ) -> None:
        """Watch until the server ends the stream (or ``limit`` seconds, when not 0)."""
        fields = [f for f in (field_selector, f"metadata.name={name}" if name else "") if f]
        params = {"watch": "true", "resourceVersion": resource_version}
        if label_selector:
            params["labelSelector"] = label_selector
        if fields:
            params["fieldSelector"] = ",".join(fields)
        if limit:
            params["timeoutSeconds"] = str(max(1, round(limit)))
        skip_first = name is not None
        try:
            async with asyncio.timeout(limit + 5 if limit else None):
                async for event_type, obj in self._events(resource, namespace, params):
                    if skip_first:
                        skip_first = False
                        continue
                    if self.output.is_table:
                        self.print_table(obj, event_type)
                    else:
                        self.print_objects([obj], event_type)
        except TimeoutError:
            pass  # the request timeout ended the watch, as it ends kubectl's

    async def _events(
        self, resource: Resource, namespace: str | None, params: dict[str, str]
    ) -> Any:
        client = self.session.client
        accept = TABLE_ACCEPT if self.output.is_table else "application/json"
        options = client.request_options()
        async with client.session().get(
            client.base_url + resource.gvr.path(namespace),
            params=params,
            headers={"Accept": accept},
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),
            server_hostname=options["server_hostname"],
        ) as response:
            if response.status >= 400:
                raise _error(response.status, await response.read())
            buffer = b""
            async for chunk in response.content.iter_any():
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        event = orjson.loads(line)
                        if event["type"] == "ERROR":
                            raise_watch_error(event["object"])
                        if event["type"] != "BOOKMARK":
                            yield event["type"], event["object"]


def _error(status: int, raw: bytes) -> ApiError:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return ApiError(status, str(body.get("reason") or "Unknown"), str(body.get("message") or ""))
