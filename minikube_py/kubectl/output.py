"""Printing objects as kubectl's ``-o`` asks (``yaml``, ``json``, ``name``, ``jsonpath=``,
``custom-columns=``), and the server's ``Table`` as kubectl lays it out (default, ``-o wide``).

kubectl prints one object as it came from the server, anything else — several objects, a list,
nothing — as a ``List`` (``apiVersion: v1``, ``items``, ``metadata: {resourceVersion: ""}``)
whose items carry their ``apiVersion`` and ``kind``. YAML and JSON have sorted keys, as Go's
encoders write maps; YAML sequences are not indented under their key, long strings fold at 80
columns and a string that would read as another type (``"12"``, ``"true"``, a timestamp) is
double-quoted — go-yaml's choices, which PyYAML's emitter makes too once told which strings
need quotes. ``metadata.managedFields`` is left out unless ``--show-managed-fields``.

A ``Table`` becomes rows of cells in ``table_rows``: headers upper-cased, the ``-o wide``
columns (priority above 0) only when asked, ``NAMESPACE`` first for ``-A``, ``kind/name``
names when several kinds print, ``-L`` label columns and ``LABELS`` last; ``TabWriter`` pads.
Other commands print through here: ``parse_output_flag(args.output)`` once, then
``print_objects(session, objects, output, single=...)`` or ``print_table(...)``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from minikube_py.client.protocol import Object
from minikube_py.kubectl import jsonpath
from minikube_py.kubectl.goyaml import yaml_text as yaml_text  # for other commands
from minikube_py.kubectl.session import KubectlError, Session

FORMATS = (
    "custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,"
    "jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml"
)
_TEMPLATED = ("jsonpath", "custom-columns")
_SUPPORTED = ("", "wide", "yaml", "json", "name", *_TEMPLATED)


@dataclass(frozen=True)
class Output:
    """A parsed ``-o``: ``format`` is ``""`` for the default table, else ``wide``, ``yaml``,
    ``json``, ``name``, ``jsonpath`` or ``custom-columns`` (with its ``template``)."""

    format: str = ""
    template: str = ""
    show_managed_fields: bool = False
    no_headers: bool = False  # custom-columns without their header line

    @property
    def is_table(self) -> bool:
        """Whether the server's Table is printed (the default and ``-o wide``)."""
        return self.format in ("", "wide")


def parse_output_flag(
    value: str | None, *, show_managed_fields: bool = False, no_headers: bool = False
) -> Output:
    """``-o`` as kubectl reads it; ``KubectlError`` with kubectl's words when it is unknown."""
    text = value or ""
    kind, _, template = text.partition("=")  # the template is kept as given, spaces and all
    if kind in _TEMPLATED and not template:
        raise KubectlError("template format specified but no template given")
    if kind not in _SUPPORTED or (template and kind not in _TEMPLATED):
        raise KubectlError(
            f'unable to match a printer suitable for the output format "{text}", '
            f"allowed formats are: {FORMATS}"
        )
    if kind == "jsonpath":
        try:
            jsonpath.parse(template)
        except jsonpath.JsonPathError as error:
            raise KubectlError(f"error parsing jsonpath {template}, {error}") from None
    return Output(kind, template, show_managed_fields, no_headers)


def only_names_output(value: str) -> None:
    """Refuse any ``-o`` but ``name`` (or none), as commands that print only what they did
    (``delete``, ``scale``) refuse it, in kubectl's words."""
    if value not in ("", "name"):
        raise KubectlError(
            f'unable to match a printer suitable for the output format "{value}", '
            "allowed formats are: name"
        )


def json_text(obj: Any) -> str:
    """``obj`` as kubectl's JSON: four-space indent, sorted keys, a final newline."""
    return jsonpath.go_json(obj, indent=4) + "\n"


def kind_name(obj: Object) -> str:
    """``deployment.apps/web``: an object's name as ``-o name`` prints it."""
    group = str(obj.get("apiVersion") or "").rpartition("/")[0]
    kind = str(obj.get("kind") or "").lower()
    name = (obj.get("metadata") or {}).get("name", "")
    return f"{kind}.{group}/{name}" if group else f"{kind}/{name}"


def as_list(objects: list[Object], resource_version: str = "") -> Object:
    """Several objects as the ``List`` kubectl prints for them."""
    return {
        "apiVersion": "v1",
        "items": objects,
        "kind": "List",
        "metadata": {"resourceVersion": resource_version},
    }


def _without_managed_fields(obj: Object) -> Object:
    if "managedFields" not in (obj.get("metadata") or {}):
        return obj
    trimmed = copy.copy(obj)
    trimmed["metadata"] = {k: v for k, v in obj["metadata"].items() if k != "managedFields"}
    return trimmed


def print_objects(
    session: Session, objects: list[Object], output: Output, *, single: bool = False
) -> None:
    """Print ``objects`` (full objects with ``apiVersion`` and ``kind``) in a non-table format;
    ``single`` when the command named exactly one object, which then prints alone."""
    if output.format == "name":
        for obj in objects:
            session.write(kind_name(obj) + "\n")
        return
    if output.format == "custom-columns":
        rows = custom_column_rows(objects, output.template)
        session.write(TabWriter().render(rows[1:] if output.no_headers else rows))
        return
    if output.format in ("yaml", "json") and not output.show_managed_fields:
        objects = [_without_managed_fields(obj) for obj in objects]
    shown = objects[0] if single and len(objects) == 1 else as_list(objects)
    if output.format == "yaml":
        session.write(yaml_text(shown))
    elif output.format == "json":
        session.write(json_text(shown))
    elif output.format == "jsonpath":
        try:
            session.write(jsonpath.render(output.template, shown))
        except jsonpath.JsonPathError as error:
            raise KubectlError(
                f'error executing jsonpath "{output.template}": Error executing template: '
                f"{error}. Printing more information for debugging the template:\n"
                f"\ttemplate was:\n\t\t{output.template}\n"
                f"\tobject given to jsonpath engine was:\n\t\t{go_syntax(shown)}\n\n"
            ) from None
    else:
        raise KubectlError(f"output format {output.format!r} is not a generic format")


def go_syntax(value: Any) -> str:
    """``value`` as Go's ``%#v`` prints decoded JSON (kubectl shows it when a template fails)."""
    if isinstance(value, dict):
        inner = ", ".join(f"{go_syntax(k)}:{go_syntax(value[k])}" for k in sorted(value))
        return f"map[string]interface {{}}{{{inner}}}"
    if isinstance(value, list):
        return f"[]interface {{}}{{{', '.join(go_syntax(v) for v in value)}}}"
    if value is None:
        return "interface {}(nil)"
    return (
        jsonpath.text(value)
        if not isinstance(value, str)
        else json.dumps(value, ensure_ascii=False)
    )


def custom_column_rows(objects: list[Object], spec: str) -> list[list[str]]:
    """The header and a row of cells per object for a custom-columns ``spec``."""
    columns: list[tuple[str, str]] = []
    for part in spec.split(","):
        header, colon, path = part.partition(":")
        if not colon:
            raise KubectlError(
                f"unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>"
            )
        columns.append((header, jsonpath.relaxed(path.strip())))
    rows = [[header for header, _ in columns]]
    for obj in objects:
        row = []
        for _, path in columns:
            values = jsonpath.walk(jsonpath.parse(path)[0].steps, obj, obj)
            row.append(",".join(jsonpath.text(v) for v in values) if values else "<none>")
        rows.append(row)
    return rows


class TabWriter:
    """Go's ``text/tabwriter`` as kubectl sets it up: cells padded to their column's width plus
    three spaces (at least six), the last cell of a line unpadded. Widths are remembered
    between ``render`` calls, so the rows a watch prints one by one stay aligned."""

    MIN_WIDTH = 6
    PADDING = 3

    def __init__(self) -> None:
        self.widths: list[int] = []

    def render(self, rows: list[list[str]]) -> str:
        for row in rows:
            for index, cell in enumerate(row[:-1]):
                width = max(len(cell) + self.PADDING, self.MIN_WIDTH)
                if index < len(self.widths):
                    self.widths[index] = max(self.widths[index], width)
                else:
                    self.widths.append(width)
        lines = []
        for row in rows:
            padded = [cell.ljust(self.widths[i]) for i, cell in enumerate(row[:-1])]
            lines.append("".join(padded) + (row[-1] if row else "") + "\n")
        return "".join(lines)


@dataclass(frozen=True)
class TableOptions:
    """How ``table_rows`` decorates a server ``Table``."""

    wide: bool = False
    with_namespace: bool = False
    kind: str = ""  # "deployment.apps": prefix names with it (several kinds in one get)
    show_labels: bool = False
    no_headers: bool = False
    label_columns: tuple[str, ...] = ()  # -L app,tier: a column per label key


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # kubectl cuts a cell at its first line break and marks the cut
        for index, char in enumerate(value):
            if char in "\f\n\r":
                return value[:index] + "..."
        return value
    return str(value)


def _labels(labels: dict[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items())) or "<none>"


def table_rows(table: Object, options: TableOptions, *, header: bool = True) -> list[list[str]]:
    """The lines of cells kubectl prints for ``table`` (no lines when it has no rows)."""
    definitions = table.get("columnDefinitions") or []
    rows = table.get("rows") or []
    shown = [i for i, d in enumerate(definitions) if options.wide or not d.get("priority")]
    name_column = (
        next((i for i, d in enumerate(definitions) if d.get("format") == "name"), -1)
        if options.kind
        else -1
    )
    lines: list[list[str]] = []
    if header and not options.no_headers and rows:
        names = [str(definitions[i].get("name", "")).upper() for i in shown]
        lines.append(
            (["NAMESPACE"] if options.with_namespace else [])
            + names
            + [key.rpartition("/")[2].upper() for key in options.label_columns]
            + (["LABELS"] if options.show_labels else [])
        )
    for row in rows:
        cells = row.get("cells") or []
        metadata = (row.get("object") or {}).get("metadata") or {}
        line = [_cell(cells[i]) if i < len(cells) else "" for i in shown]
        if name_column in shown:
            position = shown.index(name_column)
            line[position] = f"{options.kind}/{line[position]}"
        if options.with_namespace:
            line.insert(0, str(metadata.get("namespace") or ""))
        labels = metadata.get("labels") or {}
        line += [str(labels.get(key, "")) for key in options.label_columns]
        if options.show_labels:
            line.append(_labels(labels))
        lines.append(line)
    return lines


def print_table(session: Session, table: Object, options: TableOptions) -> bool:
    """Print one server ``Table`` as kubectl lays it out; whether anything was printed."""
    text = TabWriter().render(table_rows(table, options))
    session.write(text)
    return bool(text)
