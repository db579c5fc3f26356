"""Admission for custom resources and for the CustomResourceDefinitions that define them.

Built-in kinds get their defaults and rules from ``defaults.py`` and ``validation.py``. A custom
resource gets them from its CRD's schema instead (upstream's ``customResourceStrategy``):
unknown fields are pruned, ``default`` values filled in, then the object is validated against
the schema. Its ``generation`` starts at 1 and grows with every change outside ``metadata``
(outside ``metadata`` and ``status`` when it has a status subresource, whose writes never
touch the rest — that part is the generic status handling in ``admission.py``); with a status
subresource a new object starts without a status.

A CRD itself is defaulted (``singular``, ``listKind``, ``conversion``), has its storage version
recorded in ``status.storedVersions`` and is validated by ``validation_crds.py``.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api import errors
from minikube_py.api.customresources import CustomResourceType, is_crd
from minikube_py.api.errors import Cause
from minikube_py.api.resources import ResourceType
from minikube_py.api.structural import apply_defaults, prune
from minikube_py.api.validation_crds import defaults as crd_defaults
from minikube_py.api.validation_crds import validate_crd
from minikube_py.api.validation_schema import validate as validate_schema

Object = dict[str, Any]


def applies(rt: ResourceType) -> bool:
    return rt.schema is not None or is_crd(rt)


def mutate(rt: ResourceType, obj: Object, old: Object | None, subresource: str | None) -> None:
    """Prune and default ``obj`` (a custom resource or a CRD) before it is validated."""
    if is_crd(rt):
        crd_defaults(obj)
        return
    if rt.schema is None:
        return
    if old is None and isinstance(rt, CustomResourceType) and rt.terminating:
        raise errors.method_not_allowed(
            "create not allowed while custom resource definition is terminating"
        )
    prune(rt.schema, obj)
    apply_defaults(rt.schema, obj)
    if old is None:
        obj["metadata"]["generation"] = 1
        if rt.has_status:
            obj.pop("status", None)  # upstream's PrepareForCreate: status is written via /status
        return
    if subresource == "status" or rt.has_status:
        return  # admission.py's generic rules keep status and spec writes apart
    changed = {k: v for k, v in obj.items() if k != "metadata"} != {
        k: v for k, v in old.items() if k != "metadata"
    }
    generation = int(old["metadata"].get("generation") or 1)
    obj["metadata"]["generation"] = generation + 1 if changed else generation


def validate(rt: ResourceType, obj: Object, old: Object | None) -> list[Cause]:
    """The schema's causes for a custom resource, the CRD rules for a CRD."""
    if is_crd(rt):
        return validate_crd(obj, old)
    if rt.schema is None:
        return []
    return validate_schema(rt.schema, obj)


def check_patch_type(content_type: str) -> None:
    """415 for a strategic merge patch: without Go structs there are no patch strategies."""
    if content_type == "application/strategic-merge-patch+json":
        raise errors.ApiError(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json-patch+json, application/merge-patch+json, "
            "application/apply-patch+yaml",
        )
