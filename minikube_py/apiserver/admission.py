"""Admission: turning what a client sent into what may be stored.

Between decoding a request and writing the store, upstream runs a chain: the registry's
*strategy* (fill server-owned metadata, reset status on create, keep status out of spec
updates and the reverse), *mutating* admission (defaults), then *validating* admission. Every
rejection is a 422 ``Invalid`` naming the fields, and nothing is written. This module is that
chain for the built-in kinds; later issues add webhooks and policies to it.
"""

from __future__ import annotations

import copy
from typing import Any

from minikube_py.api import defaults, errors, meta, stamps, validation
from minikube_py.api.defaults_workloads import generate_job_selector
from minikube_py.api.resources import ResourceType
from minikube_py.apiserver import customadmission, storageadmission
from minikube_py.apiserver.objects import Object, json_copy, spec_changed
from minikube_py.apiserver.tolerations import add_default_tolerations

# What a new object's status starts as (upstream's PrepareForCreate); other kinds start empty.
_INITIAL_STATUS: dict[str, dict[str, Any]] = {
    "Pod": {"phase": "Pending"},
    "Namespace": {"phase": "Active"},
    "PersistentVolumeClaim": {"phase": "Pending"},
    "PersistentVolume": {"phase": "Pending"},
}
# Fields only the server sets; a client's values are dropped on create.
_SERVER_OWNED = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "selfLink",
)


def check_identity(rt: ResourceType, obj: Any, namespace: str | None) -> Object:
    """The body is an object of this resource's kind, in the request's namespace."""
    if not isinstance(obj, dict):
        raise errors.bad_request(f"the body of the request was not a {rt.kind} object")
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if api_version is not None and api_version != rt.api_version:
        raise errors.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({rt.api_version})"
        )
    if kind is not None and kind != rt.kind:
        raise errors.bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})"
        )
    obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
    metadata = obj.get("metadata")
    if metadata is None:
        metadata = obj["metadata"] = {}
    if not isinstance(metadata, dict):
        raise errors.bad_request("metadata must be an object")
    if rt.namespaced:
        given = metadata.get("namespace")
        if given not in (None, "", namespace):
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        metadata["namespace"] = namespace
    else:
        metadata.pop("namespace", None)
    return obj


def prepare_create(rt: ResourceType, obj: Object, *, namespace: str | None) -> Object:
    """Fill server-owned fields, default and validate a new object; 422 if invalid."""
    obj = check_identity(rt, obj, namespace)
    metadata = obj["metadata"]
    for field in _SERVER_OWNED:
        metadata.pop(field, None)
    if not metadata.get("name") and isinstance(metadata.get("generateName"), str):
        metadata["name"] = stamps.generate_name(metadata["generateName"])
    metadata["uid"] = stamps.new_uid()
    metadata["creationTimestamp"] = stamps.now_rfc3339()
    if rt.has_status:
        metadata["generation"] = 1
        obj["status"] = copy.deepcopy(_INITIAL_STATUS.get(rt.kind, {}))
    if rt.kind == "Job" and rt.group == "batch":
        generate_job_selector(obj)  # upstream's Job strategy, before validation
    _merge_string_data(rt, obj)
    defaults.apply_defaults(rt, obj)
    if rt.kind == "Pod" and rt.group == "":
        add_default_tolerations(obj)  # the DefaultTolerationSeconds plugin
    storageadmission.add_protection_finalizer(rt, obj)  # StorageObjectInUseProtection
    if customadmission.applies(rt):  # custom resources and CRDs: their schema, their rules
        customadmission.mutate(rt, obj, None, None)
    _validate(rt, obj, old=None)
    return obj


def prepare_update(
    rt: ResourceType,
    obj: Object,
    old: Object,
    *,
    namespace: str | None,
    subresource: str | None,
    validate: bool = True,
) -> Object:
    """Merge a client's new version with the stored one as upstream's strategies do."""
    obj = check_identity(rt, obj, namespace)
    metadata, old_metadata = obj["metadata"], old["metadata"]
    # A uid the client sent stays, so that validation refuses a different one (`field is
    # immutable`): it is how a writer says "this object, not one re-made under its name".
    sent_uid = metadata.get("uid") or old_metadata.get("uid")
    for field in (
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
    ):
        if field in old_metadata:
            metadata[field] = old_metadata[field]
        else:
            metadata.pop(field, None)
    if sent_uid is not None:
        metadata["uid"] = sent_uid
    if subresource == "status":
        # /status writes change the status only, and of metadata only what upstream's status
        # strategy lets through: a Deployment's annotations (its controller writes the
        # revision annotation together with the status it describes).
        sent_annotations = metadata.get("annotations")
        obj = {**json_copy(old), "status": obj.get("status", {})}
        obj["metadata"]["uid"] = sent_uid
        if rt.kind == "Deployment" and rt.group == "apps":
            if sent_annotations:
                obj["metadata"]["annotations"] = sent_annotations
            else:
                obj["metadata"].pop("annotations", None)
    elif rt.has_status:
        # writes to the main resource never change the status -- but for pods/binding, the
        # server's own write that sets PodScheduled=True beside spec.nodeName (BindingREST)
        if subresource == "binding":
            pass
        elif "status" in old:
            obj["status"] = json_copy(old["status"])
        else:
            obj.pop("status", None)
        # Deployments also count annotation changes: they are copied to the ReplicaSets.
        annotations_count = rt.kind == "Deployment" and metadata.get("annotations") != (
            old_metadata.get("annotations")
        )
        if spec_changed(old, obj) or annotations_count:
            obj["metadata"]["generation"] = int(old_metadata.get("generation", 1)) + 1
    _merge_string_data(rt, obj)
    defaults.apply_defaults(rt, obj)
    if rt.kind == "Pod" and rt.group == "" and subresource is None:
        # on updates too, as upstream: a re-applied manifest without them gets them back
        # (tolerations of a running pod may not be removed)
        add_default_tolerations(obj)
    if customadmission.applies(rt):
        customadmission.mutate(rt, obj, old, subresource)
    if validate:
        _validate(rt, obj, old=old)
    return obj


def _merge_string_data(rt: ResourceType, obj: Object) -> None:
    """Secrets: ``stringData`` is write-only convenience, merged into ``data`` (base64)."""
    if rt.kind == "Secret" and rt.group == "":
        causes = validation.merge_string_data(obj)
        if causes:
            raise errors.bad_request("; ".join(f"{c.field}: {c.message}" for c in causes))


def _validate(rt: ResourceType, obj: Object, *, old: Object | None) -> None:
    causes = meta.validate_object_meta(rt, obj, old=old) + validation.validate(rt, obj, old=old)
    if customadmission.applies(rt):
        causes += customadmission.validate(rt, obj, old)
    if causes:
        name = obj["metadata"].get("name") or obj["metadata"].get("generateName") or ""
        raise errors.invalid(rt, str(name), causes)
