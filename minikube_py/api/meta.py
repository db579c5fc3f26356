"""Object metadata: names, labels, annotations, finalizers, owners — the rules every kind shares.

Every Kubernetes object carries ``metadata``. Its ``name`` must be usable in a URL and, for most
kinds, in DNS: pods and deployments take an RFC 1123 *subdomain* (``web.v2``), namespaces and
statefulsets a DNS *label* (``web``), services an RFC 1035 label (must start with a letter).
Labels are small ``key: value`` tags that selectors match; annotations are free-form notes with
a total size limit; finalizers hold deletion until a controller has cleaned up; owner
references tie a pod to its ReplicaSet for garbage collection. On update, identity
(``name``, ``namespace``, ``uid``, ``creationTimestamp``) may not change.

The checks and their messages follow apimachinery 1.32 (``util/validation`` and
``api/validation/objectmeta.go``), so ``kubectl`` prints what it prints against a real cluster.
The values the server fills in (generated names, UIDs, timestamps) are ``stamps.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from minikube_py.api.errors import Cause
from minikube_py.api.resources import ResourceType
from minikube_py.api.validation_causes import (
    IMMUTABLE,
    Rendered,
    byte_len,
    forbidden,
    go_string_list,
    invalid,
    nonnegative,
    required,
    too_long,
)
from minikube_py.api.validation_formats import (
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_label_value,
    is_path_segment_name,
    is_qualified_name,
)


def _masked(check: Callable[[str], list[str]]) -> Callable[[str, bool], list[str]]:
    # A generateName prefix may end in '-': upstream masks that dash before checking.
    def name_check(name: str, prefix: bool) -> list[str]:
        if prefix and len(name) > 1 and name.endswith("-"):
            name = name[:-1] + "a"
        return check(name)

    return name_check


_LABEL_NAMES = {"Namespace", "StatefulSet"}
_PATH_SEGMENT_GROUPS = {"rbac.authorization.k8s.io"}


def name_errors(rt: ResourceType, name: str, *, prefix: bool = False) -> list[str]:
    """Upstream's per-kind name rule; any other kind takes a DNS subdomain, as most do."""
    if rt.group in _PATH_SEGMENT_GROUPS:
        return is_path_segment_name(name, prefix)
    if rt.group == "" and rt.kind == "Service":
        check = _masked(is_dns1035_label)
    elif rt.kind in _LABEL_NAMES and rt.group in ("", "apps"):
        check = _masked(is_dns1123_label)
    else:
        check = _masked(is_dns1123_subdomain)
    return check(name, prefix) or is_path_segment_name(name, prefix)


def validate_labels(labels: Any, path: str) -> list[Cause]:
    """``ValidateLabels``: both key and value errors are reported on the map's path."""
    causes: list[Cause] = []
    for key, value in labels.items() if isinstance(labels, dict) else ():
        causes += [invalid(path, key, msg) for msg in is_qualified_name(str(key))]
        if not isinstance(value, str):
            causes.append(invalid(path, value, "must be a string"))
            continue
        causes += [invalid(path, value, msg) for msg in is_label_value(value)]
    return causes


ANNOTATIONS_LIMIT = 256 * 1024


def validate_annotations(annotations: Any, path: str) -> list[Cause]:
    """Keys are qualified names (case does not matter); keys and values share 256 KiB."""
    if not isinstance(annotations, dict):
        return []
    causes, size = [], 0
    for key, value in annotations.items():
        causes += [invalid(path, key, msg) for msg in is_qualified_name(str(key).lower())]
        if not isinstance(value, str):
            causes.append(invalid(path, value, "must be a string"))
            continue
        size += byte_len(str(key)) + byte_len(value)
    if size > ANNOTATIONS_LIMIT:
        causes.append(too_long(path, ANNOTATIONS_LIMIT))
    return causes


def validate_owner_references(refs: Any, path: str) -> list[Cause]:
    """Each owner needs apiVersion, kind, name and uid; only one may be the controller."""
    causes: list[Cause] = []
    controller = ""
    for ref in refs if isinstance(refs, list) else ():
        ref = ref if isinstance(ref, dict) else {}
        api_version = _text(ref, "apiVersion")
        version = "" if api_version.count("/") > 1 else api_version.rpartition("/")[2]
        if not version:
            causes.append(invalid(f"{path}.apiVersion", api_version, "version must not be empty"))
        for key in ("kind", "name", "uid"):
            value = ref.get(key)
            if not isinstance(value, str) or not value:
                causes.append(invalid(f"{path}.{key}", value or "", "must not be empty"))
        if api_version == "v1" and ref.get("kind") == "Event":
            causes.append(invalid(path, ref, "/v1, Kind=Event is disallowed from being an owner"))
        if ref.get("controller") is True:
            current = f"{ref.get('kind')}/{ref.get('name')}"
            if controller:
                causes.append(
                    invalid(
                        path,
                        refs,
                        "Only one reference can have Controller set "
                        f'to true. Found "true" in references for {controller} '
                        f"and {current}",
                    )
                )
            else:
                controller = current
    return causes


STANDARD_FINALIZERS = ("kubernetes", "orphan", "foregroundDeletion")


def validate_finalizers(finalizers: Any, path: str, *, core: bool = True) -> list[Cause]:
    """Qualified names; a bare name must be one of the standard ones (core's extra rule, which
    CRDs and custom resources, validated by apimachinery's generic rules, do not have)."""
    if not isinstance(finalizers, list):
        return []
    causes: list[Cause] = []
    for index, name in enumerate(finalizers):
        if not isinstance(name, str):
            causes.append(invalid(f"{path}[{index}]", name, "must be a string"))
            continue
        causes += [invalid(path, name, msg) for msg in is_qualified_name(name)]
    if "orphan" in finalizers and "foregroundDeletion" in finalizers:
        causes.append(
            invalid(
                path,
                go_string_list(finalizers),
                "finalizer orphan and foregroundDeletion cannot be both set",
            )
        )
    for index, name in enumerate(finalizers if core else ()):
        if isinstance(name, str) and "/" not in name and name not in STANDARD_FINALIZERS:
            causes.append(
                invalid(
                    f"{path}[{index}]",
                    name,
                    "name is neither a standard finalizer name nor is it fully qualified",
                )
            )
    return causes


def _text(meta: dict[str, Any], key: str) -> str:
    value = meta.get(key)
    return value if isinstance(value, str) else ""


def validate_object_meta(rt: ResourceType, obj: Any, *, old: Any = None) -> list[Cause]:
    """Validate ``obj["metadata"]`` on create (``old`` is None) or update.

    Name generation has already happened (the server calls ``generate_name``) and the
    namespace has been filled in from the URL. On update the server should first carry over
    ``uid``, ``creationTimestamp`` and ``deletionTimestamp`` when the new object leaves them
    empty, as upstream's ``BeforeUpdate`` does (it even silently restores a changed
    ``creationTimestamp``); a differing value is refused here as ``field is immutable``.
    """
    meta = _metadata(obj)
    causes = _validate_identity(rt, meta) if old is None else _validate_update(meta, old)
    causes += validate_labels(meta.get("labels"), "metadata.labels")
    causes += validate_annotations(meta.get("annotations"), "metadata.annotations")
    causes += validate_owner_references(meta.get("ownerReferences"), "metadata.ownerReferences")
    generic = rt.schema is not None or rt.group == "apiextensions.k8s.io"
    causes += validate_finalizers(meta.get("finalizers"), "metadata.finalizers", core=not generic)
    return causes


def _metadata(obj: Any) -> dict[str, Any]:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    return meta if isinstance(meta, dict) else {}


def _validate_identity(rt: ResourceType, meta: dict[str, Any]) -> list[Cause]:
    name, generate = _text(meta, "name"), _text(meta, "generateName")
    causes = [
        invalid("metadata.generateName", generate, msg)
        for msg in (name_errors(rt, generate, prefix=True) if generate else [])
    ]
    if not name:
        causes.append(required("metadata.name", "name or generateName is required"))
    else:
        causes += [invalid("metadata.name", name, msg) for msg in name_errors(rt, name)]
        if rt.kind == "CronJob" and rt.group == "batch" and byte_len(name) > 52:
            # The controller appends "-<11 digits>" to name Jobs, which must fit in 63.
            causes.append(invalid("metadata.name", name, "must be no more than 52 characters"))
    namespace = _text(meta, "namespace")
    if rt.namespaced and not namespace:
        causes.append(required("metadata.namespace"))
    elif rt.namespaced:
        causes += [
            invalid("metadata.namespace", namespace, msg) for msg in is_dns1123_label(namespace)
        ]
    elif namespace:
        causes.append(forbidden("metadata.namespace", "not allowed on this type"))
    return causes + nonnegative("metadata.generation", meta.get("generation"))


def _validate_update(meta: dict[str, Any], old: Any) -> list[Cause]:
    before = _metadata(old)
    causes: list[Cause] = []
    if before.get("deletionTimestamp") and isinstance(meta.get("finalizers"), list):
        known = before["finalizers"] if isinstance(before.get("finalizers"), list) else []
        added = sorted({str(f) for f in meta["finalizers"]} - {str(f) for f in known})
        if added:
            causes.append(
                forbidden(
                    "metadata.finalizers",
                    "no new finalizers can be added if "
                    "the object is being deleted, found new finalizers "
                    f"{go_string_list(added)}",
                )
            )
    for key in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp"):
        new_value, old_value = meta.get(key) or "", before.get(key) or ""
        if key in _CARRIED_OVER and not new_value:
            continue  # empty means "keep": the server carries the stored value over
        if new_value != old_value:
            shown = _go_time(new_value) if key.endswith("Timestamp") else new_value
            causes.append(invalid(f"metadata.{key}", shown, IMMUTABLE))
    return causes


_CARRIED_OVER = ("uid", "creationTimestamp", "deletionTimestamp")


def _go_time(value: Any) -> Any:
    """A timestamp as Go's ``time.Time.String`` prints it (``metav1.Time`` is a Stringer)."""
    try:
        moment = datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return value
    return Rendered(moment.strftime("%Y-%m-%d %H:%M:%S +0000 UTC"))
