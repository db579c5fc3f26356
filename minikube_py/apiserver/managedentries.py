"""Managed-fields entries: one ``ManagedFieldsEntry`` of ``metadata.managedFields`` each.

An entry names a field manager, its operation (``Update`` or ``Apply``), the API version and
subresource it wrote through, when it last changed something, and its field set
(``fieldsets.py``, stored as ``fieldsV1`` JSON: ``fieldsv1.py``). This module reads entries
from an object (``decode``: upstream's checks on what a client sends), writes them back in
upstream's order (``set_entries``), and merges the oldest of more than ten Update managers
into ``ancient-changes``, as upstream does. What a write does to them is ``managedfields.py``.
"""

from __future__ import annotations

from typing import Any

import attrs

from minikube_py.api import fieldsv1
from minikube_py.api.fieldsets import Path

Object = dict[str, Any]


@attrs.define
class Entry:
    """One ``ManagedFieldsEntry``, its ``fieldsV1`` decoded.

    A stored entry keeps its ``fieldsV1`` JSON (``raw``) and is decoded only when its field
    set is read: most writes change no field another manager owns (a kubelet's status
    update leaves the creator's spec fields alone), and its JSON is then written back as
    it was."""

    manager: str
    operation: str
    api_version: str
    _fields: set[Path] | None = attrs.field(alias="fields")
    subresource: str = ""
    time: str | None = None
    raw: dict[str, Any] | None = None  # the stored fieldsV1, while ``fields`` is unread

    @property
    def fields(self) -> set[Path]:
        if self._fields is None:
            try:
                self._fields = fieldsv1.decode(self.raw or {})
            except fieldsv1.FieldsError:  # stored by this server: cannot happen, but
                self._fields = set()  # a damaged entry must not fail every write
            self.raw = None  # the set may change from here on: it is the truth
        return self._fields

    @fields.setter
    def fields(self, value: set[Path]) -> None:
        self._fields, self.raw = value, None

    @property
    def has_fields(self) -> bool:
        return bool(self.raw) if self._fields is None else bool(self._fields)

    def may_own(self, paths: set[Path]) -> bool:
        """False only if none of ``paths`` is in the entry (decided without decoding it)."""
        if self._fields is not None or self.raw is None:
            return True
        return any(_in_tree(self.raw, path) for path in paths)

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """Upstream's manager identifier: appliers are one manager whatever their version."""
        version = "" if self.operation == "Apply" else self.api_version
        return self.manager, self.operation, version, self.subresource

    def to_json(self) -> Object:
        entry: Object = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
        }
        if self.time:
            entry["time"] = self.time
        entry["fieldsType"] = "FieldsV1"
        unread = self._fields is None and self.raw is not None
        # An unread entry's JSON goes out as the very dict it came in as (no copy: the old
        # object it was read from is dropped after the write, and nothing changes it).
        entry["fieldsV1"] = self.raw if unread else fieldsv1.encode(self.fields)
        if self.subresource:
            entry["subresource"] = self.subresource
        return entry


def _in_tree(tree: dict[str, Any], path: Path) -> bool:
    node: Any = tree
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return False
    return True


def decode(raw: Any, *, stored: bool = False) -> list[Entry] | None:
    """Sent (or ``stored``) ``managedFields``; None where they do not decode (upstream's
    checks). Stored entries, written by this server, are decoded when first read."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        return None
    entries: list[Entry] = []
    for item in raw:
        if not isinstance(item, dict) or item.get("operation") not in ("Apply", "Update"):
            return None
        if not item.get("apiVersion") or item.get("fieldsType") != "FieldsV1":
            return None
        fields_v1 = item.get("fieldsV1") or {}
        if stored and not isinstance(fields_v1, dict):
            return None
        try:
            fields = None if stored else fieldsv1.decode(fields_v1)
        except fieldsv1.FieldsError:
            return None
        time = item.get("time")
        entries.append(
            Entry(
                manager=str(item.get("manager") or ""),
                operation=item["operation"],
                api_version=str(item["apiVersion"]),
                fields=fields,
                subresource=str(item.get("subresource") or ""),
                time=time if isinstance(time, str) else None,
                raw=fields_v1 if stored else None,
            )
        )
    return entries


def encode(entries: list[Entry]) -> list[Object]:
    """Non-empty entries in upstream's order: Apply before Update, then by time and name."""
    kept = [entry for entry in entries if entry.has_fields]
    kept.sort(key=lambda e: (e.operation, e.time or "", e.manager, e.api_version))
    return [entry.to_json() for entry in kept]


def set_entries(obj: Object, entries: list[Entry]) -> None:
    encoded = encode(_capped(entries))
    metadata = obj.setdefault("metadata", {})
    if encoded:
        metadata["managedFields"] = encoded
    else:
        metadata.pop("managedFields", None)


def _capped(entries: list[Entry]) -> list[Entry]:
    """At most ten Update entries: the oldest merge into ``ancient-changes``, as upstream."""
    updates = sorted(
        (entry for entry in entries if entry.operation == "Update" and entry.has_fields),
        key=lambda entry: (entry.time or "", entry.manager),
    )
    excess = len(updates) - _MAX_UPDATE_MANAGERS
    if excess <= 0:
        return entries
    oldest = updates[: excess + 1]  # one more than the excess: they become one entry
    kept = [entry for entry in entries if not any(entry is old for old in oldest)]
    buckets: dict[str, Entry] = {}
    for entry in oldest:
        bucket = buckets.setdefault(
            entry.api_version, Entry(_ANCIENT, "Update", entry.api_version, set())
        )
        bucket.fields |= entry.fields
        bucket.time = entry.time  # the newest merged
    return kept + list(buckets.values())


_MAX_UPDATE_MANAGERS = 10
_ANCIENT = "ancient-changes"
