"""What a PATCH body must look like before it is applied, refused in upstream's words.

The API server decodes each patch format into a Go value first, and its errors reach the
client as 400 ``BadRequest`` with Go's sentence:

- a JSON patch decodes into a list of operations whose ``op``, ``path`` and ``from`` are
  strings: ``error decoding patch: json: cannot unmarshal object into Go value of type
  []handlers.jsonPatchOp``; more than 10000 operations are a 413;
- a merge patch decodes into a map: ``error decoding patch: json: cannot unmarshal array into
  Go value of type map[string]interface {}``, and ``null`` is json-patch's ``Invalid JSON
  Patch``;
- a strategic merge patch decodes into a map too (without the prefix; ``null`` is an empty
  patch), and its directives must be well formed: ``invalid patch format of retainKeys``,
  ``… of setElementOrder list``, ``… of primitive list``, ``unknown patch type: x in map: …``.
  (Upstream lets that last one through as a 500; a 400 says the same to the client.)
"""

from __future__ import annotations

from typing import Any

from minikube_py.api import errors
from minikube_py.api.typecheck import go_json_type

MAX_JSON_PATCH_OPERATIONS = 10000  # upstream's limit
_MAP = "map[string]interface {}"


def check_json_patch(operations: Any) -> None:
    if not isinstance(operations, list):
        raise _undecodable(operations, "[]handlers.jsonPatchOp")
    for operation in operations:
        if operation is not None and not isinstance(operation, dict):
            raise _undecodable(operation, "handlers.jsonPatchOp")
        for key in ("op", "path", "from"):
            value = (operation or {}).get(key)
            if value is not None and not isinstance(value, str):
                raise errors.bad_request(
                    f"error decoding patch: json: cannot unmarshal {go_json_type(value)} into "
                    f"Go struct field jsonPatchOp.{key} of type string"
                )
    if len(operations) > MAX_JSON_PATCH_OPERATIONS:
        raise errors.too_large(
            "Request entity too large: The allowed maximum operations in a JSON patch is "
            f"{MAX_JSON_PATCH_OPERATIONS}, got {len(operations)}"
        )


def check_merge_patch(patch: Any) -> None:
    if patch is None:
        raise errors.bad_request("Invalid JSON Patch")  # evanphx/json-patch's words
    if not isinstance(patch, dict):
        raise _undecodable(patch, _MAP)


def check_strategic_patch(patch: Any) -> None:
    if patch is not None and not isinstance(patch, dict):
        raise errors.bad_request(
            f"json: cannot unmarshal {go_json_type(patch)} into Go value of type {_MAP}"
        )
    _check_directives(patch, in_list=False)


def _check_directives(value: Any, *, in_list: bool) -> None:
    if isinstance(value, list):
        for item in value:
            _check_directives(item, in_list=True)
        return
    if not isinstance(value, dict):
        return
    directive = value.get("$patch")
    allowed = ("replace", "delete", "merge") if in_list else ("replace", "delete")
    if directive is not None and directive not in allowed:
        raise errors.bad_request(
            f"unknown patch type: {go_text(directive)} in map: {go_text(value)}"
        )
    for key, item in value.items():
        if key == "$retainKeys" and not isinstance(item, list):
            raise errors.bad_request("invalid patch format of retainKeys")
        if key.startswith("$setElementOrder/") and not isinstance(item, list):
            raise errors.bad_request("invalid patch format of setElementOrder list")
        if key.startswith("$deleteFromPrimitiveList/") and not isinstance(item, list):
            raise errors.bad_request("invalid patch format of primitive list")
        _check_directives(item, in_list=False)


def go_text(value: Any) -> str:
    """A decoded JSON value as Go's ``%v`` prints it: ``map[a:1 b:[x y]]``."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_text(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_text(item) for item in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


def _undecodable(value: Any, go_type: str) -> errors.ApiError:
    return errors.bad_request(
        f"error decoding patch: json: cannot unmarshal {go_json_type(value)} into Go value of "
        f"type {go_type}"
    )
