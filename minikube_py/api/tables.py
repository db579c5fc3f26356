"""Tables: the server-side rendering behind ``kubectl get``'s columns.

``kubectl get`` sends ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` and prints
whatever ``meta.k8s.io/v1`` ``Table`` comes back: column definitions (name, type, format,
description, and a priority of 1 for the ``-o wide`` columns) and one row of cells per object.
Every row also carries the object — by default only its metadata, as a
``PartialObjectMetadata`` — which kubectl uses for ``--show-labels``, sorting and names.

As upstream does, the server always fills every column, wide ones included; kubectl hides
the priority-1 columns unless asked for ``-o wide``. A watch (``kubectl get -w``) sends a
one-row table per event, with the column definitions only on the first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from minikube_py.api import errors
from minikube_py.api.printers import AGE, NAME, cell_value, frozen_time, human_duration, text
from minikube_py.api.resources import Column, ResourceType

__all__ = ["human_duration", "table_columns", "to_table", "wants_table"]

INCLUDE_OBJECT = ("None", "Metadata", "Object")
TABLE_VERSIONS = ("v1", "v1beta1")
_POD_DONE = {
    "Succeeded": "The pod has completed successfully.",
    "Failed": "The pod failed.",
}


def table_columns(rt: ResourceType) -> tuple[Column, ...]:
    """The kind's printer columns; NAME and AGE for a kind that declares none."""
    return rt.columns or (NAME, AGE)


def _definition(column: Column) -> dict[str, Any]:
    return {
        "name": column.name,
        "type": column.type,
        "format": column.format,
        "description": column.description,
        "priority": column.priority,
    }


def _row_object(obj: dict[str, Any], include_object: str) -> dict[str, Any]:
    if include_object == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata") or {},
    }


def _row(
    rt: ResourceType, columns: tuple[Column, ...], obj: dict[str, Any], include_object: str
) -> dict[str, Any]:
    row: dict[str, Any] = {"cells": [cell_value(column, obj) for column in columns]}
    phase = text(obj, "status", "phase")
    if rt.group == "" and rt.kind == "Pod" and phase in _POD_DONE:
        # Upstream marks finished pods so that clients can tell them apart without parsing.
        row["conditions"] = [
            {"type": "Completed", "status": "True", "reason": phase, "message": _POD_DONE[phase]}
        ]
    if include_object != "None":
        row["object"] = _row_object(obj, include_object)
    return row


def to_table(
    rt: ResourceType,
    objects: list[dict[str, Any]],
    *,
    resource_version: str,
    continue_token: str | None = None,
    include_object: str = "Metadata",
    now: datetime | None = None,
    with_column_definitions: bool = True,
) -> dict[str, Any]:
    """The ``Table`` of ``objects``; ``now`` fixes the clock that ages are measured against."""
    include_object = include_object or "Metadata"
    if include_object not in INCLUDE_OBJECT:
        raise errors.bad_request(f'unrecognized includeObject value: "{include_object}"')
    columns = table_columns(rt)
    # One instant for the whole table, so rows listed together age consistently.
    with frozen_time(now or datetime.now(UTC)):
        rows = [_row(rt, columns, obj, include_object) for obj in objects]
    metadata: dict[str, Any] = {"resourceVersion": resource_version}
    if continue_token:
        metadata["continue"] = continue_token
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": [_definition(c) for c in columns] if with_column_definitions else [],
        "rows": rows,
    }


def _media_params(media_range: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in media_range.split(";")[1:]:
        key, sep, value = part.partition("=")
        if sep:
            params[key.strip().lower()] = value.strip().strip('"')
    return params


def wants_table(accept_header: str) -> bool:
    """Whether any media range of an ``Accept`` header asks for a ``meta.k8s.io`` Table."""
    for media_range in accept_header.split(","):
        params = _media_params(media_range)
        if (
            params.get("as") == "Table"
            and params.get("g") == "meta.k8s.io"
            and params.get("v") in TABLE_VERSIONS
        ):
            return True
    return False
