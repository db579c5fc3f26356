"""``metadata.managedFields``: which field manager set which fields of an object.

Every write is done on behalf of a *field manager*: the ``?fieldManager=`` of the request, or
else the client's User-Agent up to its first ``/`` (``kubectl/v1.32.0 …`` → ``kubectl``), or
``unknown``. Each manager has entries — one per operation (``Update`` for create, update and
patch, ``Apply`` for server-side apply), API version (Updates only) and subresource — holding
a field set (``fieldsets.py``) and the time it last changed something.

An update compares the old object with the new one: the fields it added or changed move to the
writer's entry (taken away from whoever owned them before), the fields it removed leave every
entry, and entries left empty are dropped. A client may write ``managedFields`` itself; what
does not decode is ignored in favour of the stored entries, an empty list keeps them, and a
list of one empty entry (``[{}]``) resets them — upstream's rules.
"""

from __future__ import annotations

import copy
from typing import Any

import attrs

from minikube_py.api import errors, fieldsets
from minikube_py.api.fieldsets import Path
from minikube_py.api.meta import now_rfc3339
from minikube_py.api.resources import ResourceType

Object = dict[str, Any]
DEFAULT_MANAGER = "minikube-py"  # the in-process components' writes
# Upstream's stripMeta set: fields no manager owns, whoever writes them.
_STRIPPED: frozenset[Path] = frozenset(
    {("f:apiVersion",), ("f:kind",), ("f:metadata",)}
    | {
        ("f:metadata", f"f:{name}")
        for name in (
            "name",
            "namespace",
            "creationTimestamp",
            "selfLink",
            "uid",
            "clusterName",
            "generation",
            "managedFields",
            "resourceVersion",
        )
    }
)
_MANAGED_FIELDS = ("f:metadata", "f:managedFields")


@attrs.define
class Entry:
    """One ``ManagedFieldsEntry``, its ``fieldsV1`` decoded."""

    manager: str
    operation: str
    api_version: str
    fields: set[Path]
    subresource: str = ""
    time: str | None = None

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
        entry["fieldsV1"] = fieldsets.encode(self.fields)
        if self.subresource:
            entry["subresource"] = self.subresource
        return entry


def manager_from(field_manager: str | None, user_agent: str) -> str:
    """The manager of a request: ``fieldManager``, else the User-Agent's product name."""
    if field_manager:
        return field_manager
    return user_agent.split("/", 1)[0] or "unknown"


def decode(raw: Any) -> list[Entry] | None:
    """Stored or sent ``managedFields``; None where they do not decode (upstream's checks)."""
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
        try:
            fields = fieldsets.decode(item.get("fieldsV1") or {})
        except fieldsets.FieldsError:
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
            )
        )
    return entries


def encode(entries: list[Entry]) -> list[Object]:
    """Non-empty entries in upstream's order: Apply before Update, then by time and name."""
    kept = [entry for entry in entries if entry.fields]
    kept.sort(key=lambda e: (e.operation, e.time or "", e.manager, e.api_version))
    return [entry.to_json() for entry in kept]


def starting_entries(new: Object, old: Object | None, *, subresource: str | None) -> list[Entry]:
    """The entries a write starts from: the client's if it sent usable ones, else the stored."""
    sent = (new.get("metadata") or {}).get("managedFields")
    stored = decode((old or {}).get("metadata", {}).get("managedFields")) or []
    if subresource:  # subresource writes never set managedFields
        return stored
    if isinstance(sent, list) and sent and all(item == {} for item in sent):
        return []  # [{}]: the documented way to reset them
    decoded = decode(sent)
    return decoded if decoded else stored


def ignored(rt: ResourceType, path: Path, subresource: str | None) -> bool:
    """Paths no manager owns: server-owned metadata, and status or spec by endpoint."""
    if path in _STRIPPED or fieldsets.under(path, _MANAGED_FIELDS):
        return True
    if subresource == "status":
        return path[0] != "f:status"
    return rt.has_status and path[0] == "f:status"


def owned(rt: ResourceType, paths: set[Path], subresource: str | None) -> set[Path]:
    return {path for path in paths if not ignored(rt, path, subresource)}


def record_update(
    rt: ResourceType,
    old: Object | None,
    new: Object,
    *,
    manager: str,
    subresource: str | None = None,
) -> None:
    """Set ``new``'s managedFields after ``manager`` turned ``old`` into ``new`` (None: create)."""
    entries = starting_entries(new, old, subresource=subresource)
    before = _without_managed_fields(old) if old is not None else empty_like(new)
    after = _without_managed_fields(new)
    root = fieldsets.root_schema(rt)
    added, modified, removed = fieldsets.compare(root, before, after)
    changed = owned(rt, added | modified, subresource)
    writer = Entry(manager, "Update", rt.api_version, set(), subresource or "")
    for entry in entries:
        if entry.identity == writer.identity:
            writer = entry
        else:
            entry.fields -= changed | removed
    if not any(entry is writer for entry in entries):
        entries.append(writer)
    writer.api_version = rt.api_version
    writer.fields = (writer.fields - removed) | changed
    if changed:
        writer.time = now_rfc3339()
    set_entries(new, entries)


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
        (entry for entry in entries if entry.operation == "Update" and entry.fields),
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


def _without_managed_fields(obj: Object) -> Object:
    metadata = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return {**obj, "metadata": metadata}


# What a created object is compared with: its top-level parts exist from the start, as in
# upstream's empty typed object, so only what is inside them counts as added.
_EMPTY: Object = {"metadata": {}, "spec": {}, "status": {}}


def copy_entries(entries: list[Entry]) -> list[Entry]:
    return [attrs.evolve(entry, fields=set(entry.fields)) for entry in entries]


def empty_like(obj: Object) -> Object:
    """``_EMPTY`` for the parts ``obj`` has (so a ConfigMap is not said to lose a spec)."""
    return copy.deepcopy({k: v for k, v in _EMPTY.items() if k in obj})


def request_manager(query: Any, user_agent: str, options_kind: str) -> str:
    """The manager of an HTTP write; a ``fieldManager`` too long is refused as upstream."""
    given = query.get("fieldManager")
    if given is not None and len(given) > _MAX_MANAGER_LENGTH:
        raise errors.ApiError(
            422,
            "Invalid",
            f'{options_kind}.meta.k8s.io "" is invalid: fieldManager: Too long: may not be '
            f"more than {_MAX_MANAGER_LENGTH} bytes",
        )
    return manager_from(given, user_agent)


_MAX_MANAGER_LENGTH = 128
