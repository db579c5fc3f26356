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

from minikube_py.api import errors, fieldsets, fieldsv1
from minikube_py.api.fieldsets import Path
from minikube_py.api.resources import ResourceType
from minikube_py.api.stamps import now_rfc3339
from minikube_py.apiserver.managedentries import Entry, decode, set_entries

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


def manager_from(field_manager: str | None, user_agent: str) -> str:
    """The manager of a request: ``fieldManager``, else the User-Agent's product name."""
    if field_manager:
        return field_manager
    return user_agent.split("/", 1)[0] or "unknown"


def starting_entries(new: Object, old: Object | None, *, subresource: str | None) -> list[Entry]:
    """The entries a write starts from: the client's if it sent usable ones, else the stored."""
    sent = (new.get("metadata") or {}).get("managedFields")
    stored = decode((old or {}).get("metadata", {}).get("managedFields"), stored=True) or []
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
    if old is None and not entries and not subresource:
        created = created_fields(rt, new)
        if created is not None:  # most creates: one entry, every field the creator's
            # its fieldsV1 as made (``raw``): nothing to decode or encode again
            when = now_rfc3339()
            set_entries(
                new, [Entry(manager, "Update", rt.api_version, None, time=when, raw=created)]
            )
            return
    before = _without_managed_fields(old) if old is not None else empty_like(new)
    after = _without_managed_fields(new)
    root = fieldsets.root_schema(rt)
    added, modified, removed = fieldsets.compare(root, before, after)
    changed = owned(rt, added | modified, subresource)
    taken = changed | removed  # what no other manager owns after this write
    writer = Entry(manager, "Update", rt.api_version, set(), subresource or "")
    for entry in entries:
        if entry.identity == writer.identity:
            writer = entry
        elif entry.may_own(taken):
            entry.fields -= taken
    if not any(entry is writer for entry in entries):
        entries.append(writer)
    writer.api_version = rt.api_version
    writer.fields = (writer.fields - removed) | changed
    if changed:
        writer.time = now_rfc3339()
    set_entries(new, entries)


def created_fields(rt: ResourceType, obj: Object) -> dict[str, Any] | None:
    """The ``fieldsV1`` of a created object's only manager — ``encode(owned(...))`` of every
    path in it, made in one pass; None where the general way must decide (a list with two
    items of one name, a top-level part that is no object)."""
    root = fieldsets.root_schema(rt)
    tree: dict[str, Any] = {}
    for key, value in obj.items():
        if key in ("apiVersion", "kind") or (key == "status" and rt.has_status):
            continue  # no manager owns them (status: the status endpoint's writers do)
        if key == "metadata" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if ("f:metadata", f"f:{k}") not in _STRIPPED}
        elif key in _EMPTY and not isinstance(value, dict):
            return None
        below = fieldsv1.encoded_below(fieldsets.child(root, key), value)
        if below is None:
            return None
        if key in _EMPTY:  # there from the start (``empty_like``): only what is inside counts
            if below:
                tree[f"f:{key}"] = below
        else:
            tree[f"f:{key}"] = {".": {}, **below} if below else {}
    return {name: tree[name] for name in sorted(tree)}


def _without_managed_fields(obj: Object) -> Object:
    metadata = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return {**obj, "metadata": metadata}


# What a created object is compared with: its top-level parts exist from the start, as in
# upstream's empty typed object, so only what is inside them counts as added.
_EMPTY: Object = {"metadata": {}, "spec": {}, "status": {}}


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
