"""Server-side apply: ``PATCH`` with ``application/apply-patch+yaml``.

The client sends its *applied configuration* — the fields it wants to own, with their values —
as YAML or JSON, and names itself with ``fieldManager``. The server:

1. merges the configuration into the live object along the schema (maps key by key,
   associative lists element by element by their keys, sets by value, everything else
   replaced), creating the object when there is none;
2. removes the fields this manager applied last time but left out now, unless another manager
   owns them too;
3. refuses, with 409 ``Conflict`` and one ``FieldManagerConflict`` cause per field, to change a
   field another manager owns to a different value — unless ``force=true``, which takes the
   field over;
4. records the manager's new field set as its ``Apply`` entry in ``metadata.managedFields``.

The result then goes through the same admission (defaults, validation) and storage as any
write, so an unchanged re-apply is a no-op that keeps the ``resourceVersion``.
"""

from __future__ import annotations

import copy
from typing import Any

from minikube_py.api import applymerge, defaults, errors, fieldsets, validation
from minikube_py.api.fieldsets import Path
from minikube_py.api.resources import ResourceType
from minikube_py.api.stamps import now_rfc3339
from minikube_py.apiserver import lastapplied, managedentries, managedfields
from minikube_py.apiserver.managedentries import Entry
from minikube_py.apiserver.managedfields import Object
from minikube_py.apiserver.objects import APPLY_PATCH
from minikube_py.apiserver.storage import Storage


async def server_side_apply(
    storage: Storage,
    rt: ResourceType,
    namespace: str | None,
    name: str,
    config: Any,
    *,
    manager: str,
    force: bool,
    subresource: str | None = None,
    dry_run: bool = False,
) -> tuple[Object, int]:
    """Apply ``config`` for ``manager``: the object and 200, or 201 when it was created."""
    config = checked_config(rt, config, name)
    for _attempt in range(3):
        try:
            return await storage.patch(
                rt,
                namespace,
                name,
                lambda live: apply(
                    rt, live, config, manager=manager, force=force, subresource=subresource
                ),
                subresource=subresource,
                dry_run=dry_run,
                manager=None,  # the change records its own ownership
            ), 200
        except errors.ApiError as error:
            if error.code != 404 or subresource is not None:
                raise
        created = apply(rt, None, config, manager=manager, force=force, subresource=None)
        try:
            return await storage.create(rt, namespace, created, dry_run=dry_run, manager=None), 201
        except errors.ApiError as error:
            if error.code != 409 or error.reason != "AlreadyExists":
                raise  # else someone created it meanwhile: apply to theirs
    raise errors.conflict(rt, name, errors.STALE)


def patch_options(query: Any, content_type: str) -> bool:
    """``force`` of a PATCH, refused where upstream refuses it; apply needs a fieldManager."""
    causes = []
    force = query.get("force")
    if content_type != APPLY_PATCH and force is not None:
        causes.append(
            errors.Cause(
                "FieldValueForbidden",
                "Forbidden: may not be specified for non-apply patch",
                "force",
            )
        )
    if content_type == APPLY_PATCH and not query.get("fieldManager"):
        causes.append(
            errors.Cause(
                "FieldValueRequired", "Required value: is required for apply patch", "fieldManager"
            )
        )
    if causes:
        words = [f"{cause.field}: {cause.message}" for cause in causes]
        listed = words[0] if len(words) == 1 else "[" + ", ".join(words) + "]"
        raise errors.ApiError(
            422,
            "Invalid",
            f'PatchOptions.meta.k8s.io "" is invalid: {listed}',
            details={
                "group": "meta.k8s.io",
                "kind": "PatchOptions",
                "causes": [cause.to_json() for cause in causes],
            },
        )
    return force in ("true", "1", "True")


def checked_config(rt: ResourceType, config: Any, name: str) -> Object:
    """The applied configuration, refused as upstream refuses it."""
    if not isinstance(config, dict):
        raise errors.bad_request(f"the body of the request was not a {rt.kind} object")
    version = config.get("apiVersion")
    if version != rt.api_version:
        raise errors.bad_request(
            "Incorrect version specified in apply patch. Specified patch version: "
            f"{version or ''}, expected: {rt.api_version}"
        )
    metadata = config.get("metadata")
    if metadata is None:
        metadata = config["metadata"] = {}
    if not isinstance(metadata, dict):
        raise errors.bad_request("metadata must be an object")
    if metadata.get("managedFields") is not None:
        raise errors.bad_request("metadata.managedFields must be nil")
    unknown = fieldsets.undeclared(fieldsets.root_schema(rt), config)
    if unknown:
        # Upstream turns the configuration into a typed value first, whatever fieldValidation
        # says, and that fails on any field the schema does not declare.
        group, _, version = rt.api_version.rpartition("/")
        where = f"{metadata.get('namespace') or ''}/{metadata.get('name') or ''}"
        words = [f"{fieldsets.path_string(path)}: field not declared in schema" for path in unknown]
        listed = words[0] if len(words) == 1 else "\n".join(["errors:", *(f"  {w}" for w in words)])
        raise errors.bad_request(
            f"failed to create typed patch object ({where}; {group}/{version}, Kind={rt.kind}): "
            + listed
        )
    given = metadata.get("name")
    if given not in (None, "", name):
        raise errors.bad_request(
            f"the name of the object ({given}) does not match the name on the URL ({name})"
        )
    metadata["name"] = name
    return config


def apply(
    rt: ResourceType,
    live: Object | None,
    config: Object,
    *,
    manager: str,
    force: bool,
    subresource: str | None,
) -> Object:
    """``live`` (None: no object yet) with ``config`` applied by ``manager``."""
    root = fieldsets.root_schema(rt)
    entries = managedentries.decode((live or {}).get("metadata", {}).get("managedFields")) or []
    before = _plain(live) if live is not None else {"metadata": {}}
    applier = Entry(manager, "Apply", rt.api_version, set(), subresource or "")
    for entry in entries:
        if entry.identity == applier.identity:
            applier = entry
    others = [entry for entry in entries if entry is not applier]
    last = set(applier.fields)
    applied = managedfields.owned(rt, fieldsets.applied_set(root, config), subresource)
    merged: Object = applymerge.merge(root, before, config)
    still_owned = set(applied).union(*(entry.fields for entry in others))
    applymerge.prune(root, merged, last - still_owned, still_owned)
    # Defaults now, as upstream's field manager does: an atomic field applied without its
    # defaulted parts is otherwise a change on every re-apply.
    defaults.apply_defaults(rt, merged)
    added, modified, removed = fieldsets.compare(root, before, merged)
    changed = managedfields.owned(rt, added | modified, subresource)
    removed = managedfields.owned(rt, removed, subresource)
    allowed = set() if force else lastapplied.allowed_conflicts(root, live, manager)
    clashes = [(entry, sorted((entry.fields & changed) - allowed)) for entry in others]
    clashes = [(entry, paths) for entry, paths in clashes if paths]
    if clashes and not force:
        raise conflict_error(clashes)
    for entry in others:
        entry.fields -= changed | removed
    lastapplied.sync(merged, config, manager)
    first = not any(entry is applier for entry in entries)
    if first or _stored_form(rt, merged) != before or applier.fields != applied:
        applier.time = now_rfc3339()  # an unchanged re-apply changes nothing, not even this
    applier.api_version, applier.fields = rt.api_version, applied
    if first:
        entries.append(applier)
    managedentries.set_entries(merged, entries)
    return merged


def _stored_form(rt: ResourceType, obj: Object) -> Object:
    """``obj`` as it would be stored: a Secret's write-only ``stringData`` folded into data."""
    if rt.kind != "Secret" or rt.group or "stringData" not in obj:
        return obj
    folded = copy.deepcopy(obj)
    validation.merge_string_data(folded)
    return folded


def _plain(obj: Object) -> Object:
    plain = copy.deepcopy(obj)
    plain.get("metadata", {}).pop("managedFields", None)
    return plain


def conflict_error(clashes: list[tuple[Entry, list[Path]]]) -> errors.ApiError:
    """Upstream's 409 for apply conflicts, with one ``FieldManagerConflict`` cause a field."""
    clashes = sorted(clashes, key=lambda clash: clash[0].identity)
    causes = [
        errors.Cause(
            "FieldManagerConflict", f"conflict with {_who(entry)}", fieldsets.path_string(path)
        )
        for entry, paths in clashes
        for path in paths
    ]
    if len(causes) == 1:
        message = f"Apply failed with 1 conflict: {causes[0].message}: {causes[0].field}"
    else:
        lines = []
        for entry, paths in clashes:
            lines.append(f"conflicts with {_who(entry)}:")
            lines.extend(f"- {fieldsets.path_string(path)}" for path in paths)
        message = f"Apply failed with {len(causes)} conflicts: " + "\n".join(lines)
    return errors.ApiError(
        409, "Conflict", message, details={"causes": [cause.to_json() for cause in causes]}
    )


def _who(entry: Entry) -> str:
    """A manager as upstream's conflicts name it."""
    words = f'"{entry.manager}"'
    if entry.subresource:
        words += f' with subresource "{entry.subresource}"'
    if entry.operation == "Update":
        words += f" using {entry.api_version}"
    return words
