"""The ``paths`` of an OpenAPI v3 group-version document: one entry per URL, one operation per verb.

Upstream documents every endpoint of a group version. For a namespaced kind that is the
collection ``/apis/apps/v1/namespaces/{namespace}/deployments`` (``get`` = list, ``post`` =
create, ``delete`` = delete collection), the object ``…/deployments/{name}`` (``get``,
``put``, ``patch``, ``delete``), its subresources (``…/{name}/status``, ``…/{name}/scale``)
and the all-namespaces list ``/apis/apps/v1/deployments``. Each operation names its
``x-kubernetes-action`` and ``x-kubernetes-group-version-kind`` and refers to the schemas of
its request and response bodies. Clients read this: kubectl looks for the PATCH operation of
a kind to learn that the server validates fields (the ``fieldValidation`` parameter) and
whether it takes strategic merge patches (the ``requestBody`` content types).
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.catalog import subresource
from minikube_py.api.resources import ResourceType
from minikube_py.apiserver import openapi_schemas
from minikube_py.apiserver.openapi_schemas import V3

STATUS = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
DELETE_OPTIONS = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
PATCH = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
SCALE = "io.k8s.api.autoscaling.v1.Scale"
# Subresources documented here: the ones read and written like their parent (get/put/patch).
_DOCUMENTED = ("status", "scale", "approval", "ephemeralcontainers")
_PATCH_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)


def _query(name: str, description: str, kind: str = "string") -> dict[str, Any]:
    return {
        "description": description,
        "in": "query",
        "name": name,
        "schema": {"type": kind, "uniqueItems": True},
    }


_DRY_RUN = _query(
    "dryRun",
    "When present, indicates that modifications should not be persisted. Valid values are: "
    "- All: all dry run stages will be processed",
)
_FIELD_MANAGER = _query(
    "fieldManager",
    "fieldManager is a name associated with the actor or entity that is making these changes.",
)
_FIELD_VALIDATION = _query(
    "fieldValidation",
    "fieldValidation instructs the server on how to handle objects in the request "
    "(POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: Ignore, Warn "
    "(the default) and Strict.",
)
_FORCE = _query("force", 'Force is going to "force" Apply requests.', "boolean")
_PRETTY = _query("pretty", "If 'true', then the output is pretty printed.")
_WRITE = [_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION]
_DELETE = [
    _DRY_RUN,
    _query(
        "gracePeriodSeconds",
        "The duration in seconds before the object should be deleted.",
        "integer",
    ),
    _query(
        "propagationPolicy",
        "Whether and how garbage collection will be performed: "
        "'Orphan', 'Background' or 'Foreground'.",
    ),
]
_LIST = [
    _query("allowWatchBookmarks", "requests watch events with type BOOKMARK.", "boolean"),
    _query("continue", "The continue option from a previous paginated list call."),
    _query("fieldSelector", "A selector to restrict the list of returned objects by fields."),
    _query("labelSelector", "A selector to restrict the list of returned objects by labels."),
    _query("limit", "The maximum number of responses to return for a list call.", "integer"),
    _query("resourceVersion", "Which versions of the resources the request may be served from."),
    _query("timeoutSeconds", "Timeout for the list/watch call.", "integer"),
    _query("watch", "Watch for changes to the described resources.", "boolean"),
]


def _path_parameter(name: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "in": "path",
        "name": name,
        "required": True,
        "schema": {"type": "string", "uniqueItems": True},
    }


def _body(name: str, types: tuple[str, ...] = ("*/*",)) -> dict[str, Any]:
    return {"content": {t: {"schema": {"$ref": V3 + name}} for t in types}, "required": True}


def _responses(name: str, *codes: str) -> dict[str, Any]:
    words = {"200": "OK", "201": "Created", "202": "Accepted"}
    content = {"application/json": {"schema": {"$ref": V3 + name}}}
    answers: dict[str, Any] = {
        code: {"content": content, "description": words[code]} for code in codes
    }
    answers["401"] = {"description": "Unauthorized"}
    return answers


def group_version_path(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def _words(group: str, version: str) -> str:
    """``AppsV1``, ``CoreV1``, ``RbacAuthorizationV1``: how operation ids name a group."""
    parts = (group.removesuffix(".k8s.io") or "core").replace("-", ".").split(".")
    return "".join(part[:1].upper() + part[1:] for part in parts) + version.capitalize()


def paths(types: list[ResourceType]) -> dict[str, Any]:
    """The paths of every resource of one group version."""
    found: dict[str, Any] = {}
    for rt in types:
        _resource(rt, found)
    return dict(sorted(found.items()))


class _Operations:
    """Builds the operations of one resource: shared tag, group-version-kind and id words."""

    def __init__(self, rt: ResourceType, gvk: tuple[str, str, str] | None = None) -> None:
        self.rt = rt
        group, version, kind = gvk or (rt.group, rt.version, rt.kind)
        self.gvk = {"group": group, "kind": kind, "version": version}
        self.group_words = _words(rt.group, rt.version)
        group_word = self.group_words.removesuffix(rt.version.capitalize())
        self.tag = f"{group_word[:1].lower()}{group_word[1:]}_{rt.version}"  # rbacAuthorization_v1
        self.word = self.group_words + ("Namespaced" if rt.namespaced else "") + rt.kind

    def make(self, action: str, op_id: str, text: str, **extra: Any) -> dict[str, Any]:
        return {
            "description": text,
            "operationId": op_id,
            **extra,
            "tags": [self.tag],
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": self.gvk,
        }

    def read_write(
        self, verbs: tuple[str, ...], entry: dict[str, Any], what: str, obj: str, suffix: str = ""
    ) -> None:
        """``get``, ``put`` and ``patch`` of one object (or of one of its subresources)."""
        word = self.word + suffix
        if "get" in verbs:
            entry["get"] = self.make(
                "get", f"read{word}", f"read {what}", responses=_responses(obj, "200")
            )
        if "update" in verbs:
            entry["put"] = self.make(
                "put",
                f"replace{word}",
                f"replace {what}",
                parameters=_WRITE,
                requestBody=_body(obj),
                responses=_responses(obj, "200", "201"),
            )
        if "patch" in verbs:
            # custom resources take no strategic merge patch: kubectl then sends a merge patch
            types = _PATCH_TYPES if self.rt.schema is None else _PATCH_TYPES[:3]
            entry["patch"] = self.make(
                "patch",
                f"patch{word}",
                f"partially update {what}",
                parameters=[*_WRITE, _FORCE],
                requestBody=_body(PATCH, types),
                responses=_responses(obj, "200", "201"),
            )


def _resource(rt: ResourceType, found: dict[str, Any]) -> None:
    obj = openapi_schemas.object_name(rt)
    listing = openapi_schemas.list_name(rt)
    if obj is None or listing is None:
        return
    ops = _Operations(rt)
    base = "/" + group_version_path(rt.group, rt.version)
    where = base + ("/namespaces/{namespace}" if rt.namespaced else "") + f"/{rt.plural}"
    namespace = _path_parameter(
        "namespace", "object name and auth scope, such as for teams and projects"
    )
    shared = [namespace] if rt.namespaced else []
    collection = _collection(ops, obj, listing, [*shared, _PRETTY])
    if len(collection) > 1:
        found[where] = collection
    if rt.namespaced and "list" in rt.verbs:
        every = ops.make(
            "list",
            f"list{ops.group_words}{rt.kind}ForAllNamespaces",
            f"list or watch objects of kind {rt.kind}",
            responses=_responses(listing, "200"),
        )
        found[f"{base}/{rt.plural}"] = {"get": every, "parameters": [*_LIST, _PRETTY]}

    item_parameters = [_path_parameter("name", f"name of the {rt.kind}"), *shared, _PRETTY]
    item: dict[str, Any] = {"parameters": item_parameters}
    ops.read_write(rt.verbs, item, f"the specified {rt.kind}", obj)
    if "delete" in rt.verbs:
        item["delete"] = ops.make(
            "delete",
            f"delete{ops.word}",
            f"delete a {rt.kind}",
            parameters=_DELETE,
            requestBody=_body(DELETE_OPTIONS),
            responses=_responses(STATUS, "200", "202"),
        )
    if len(item) > 1:
        found[where + "/{name}"] = item

    for name in rt.subresources:
        if name not in _DOCUMENTED:
            continue
        sub = subresource(rt, name)
        sub_ops = _Operations(rt, (sub.group, sub.version, sub.kind))
        entry: dict[str, Any] = {"parameters": item_parameters}
        sub_obj = obj if name != "scale" else SCALE
        what = f"{name} of the specified {rt.kind}"
        sub_ops.read_write(sub.verbs, entry, what, sub_obj, name.capitalize())
        found[f"{where}/{{name}}/{name}"] = entry


def _collection(
    ops: _Operations, obj: str, listing: str, parameters: list[dict[str, Any]]
) -> dict[str, Any]:
    """List (``get``), create (``post``) and delete collection (``delete``)."""
    verbs, kind, word = ops.rt.verbs, ops.rt.kind, ops.word
    collection: dict[str, Any] = {"parameters": parameters}
    if "list" in verbs:
        collection["get"] = ops.make(
            "list",
            f"list{word}",
            f"list or watch objects of kind {kind}",
            parameters=_LIST,
            responses=_responses(listing, "200"),
        )
    if "create" in verbs:
        collection["post"] = ops.make(
            "post",
            f"create{word}",
            f"create a {kind}",
            parameters=_WRITE,
            requestBody=_body(obj),
            responses=_responses(obj, "200", "201", "202"),
        )
    if "deletecollection" in verbs:
        collection["delete"] = ops.make(
            "deletecollection",
            f"deleteCollection{word}",
            f"delete collection of {kind}",
            parameters=_DELETE + _LIST,
            requestBody=_body(DELETE_OPTIONS),
            responses=_responses(STATUS, "200"),
        )
    return collection
