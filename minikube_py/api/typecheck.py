"""Fields of the wrong JSON type, refused in the words of Go's JSON decoder.

The real API server decodes a request body into Go structs, so a value of the wrong JSON type
(a string where the schema says integer, an object where it says array) fails to decode before
any validation runs. Upstream then answers 400 with Go's sentence, for instance::

    Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal
    string into Go struct field DeploymentSpec.spec.replicas of type int32

This module walks an object along its kind's OpenAPI schema (``schema.py``) and returns that
sentence's ``json: …`` part for the first such value, or None. Go's rules, mirrored here:
``null`` fits every field; an integer field refuses fractions and numbers beyond its width
(``number 1.5``); ``IntOrString`` takes a string or an int32, ``Quantity`` a string or a
number, ``Time`` a string, ``[]byte`` a base64 string (their own decoders word those errors
without a field path); the path names fields from the root without list indices or map keys,
after the Go struct that holds the field.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.schema import definition_name, resolve
from minikube_py.api.validation import decode_base64

_PREFIX = "#/$defs/"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_TIMES = {
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
    "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
}
_QUANTITY_FORMAT = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


class _Mismatch(Exception):
    """A wrongly typed value; the fields around it are added while the walk unwinds."""

    def __init__(self, what: str, go_type: str = "", *, plain: bool = False) -> None:
        super().__init__(what)
        self.what, self.go_type, self.plain = what, go_type, plain
        self.fields: list[str] = []  # innermost first
        self.owner = ""  # the Go struct holding the innermost field

    def words(self) -> str:
        if self.plain:  # a type with its own decoder words its error without a path
            return self.what
        path = ".".join(reversed(self.fields))
        return (
            f"json: cannot unmarshal {self.what} into Go struct field {self.owner}.{path} "
            f"of type {self.go_type}"
        )


def type_error(group: str, version: str, kind: str, obj: Any) -> str | None:
    """Go's ``json: cannot unmarshal …`` for the first wrongly typed value of ``obj``, or None."""
    name = definition_name(group, version, kind)
    if name is None or not isinstance(obj, dict):
        return None
    definition = resolve({"$ref": _PREFIX + name})
    top = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
    try:
        _struct(_short(name), definition.get("properties") or {}, top)
    except _Mismatch as mismatch:
        return mismatch.words()
    return None


def _struct(struct: str, fields: dict[str, Any], value: dict[str, Any]) -> None:
    for key, item in value.items():
        field = fields.get(key)
        if field is None or item is None:  # null: Go leaves the zero value
            continue
        if type(item) is str and _node(field)[0] == "string":
            continue  # most fields are strings: spare them the call
        try:
            _check(field, item)
        except _Mismatch as mismatch:
            mismatch.fields.append(key)
            mismatch.owner = mismatch.owner or struct
            raise


# What a schema node means, worked out once per node (the definitions live as long as we do).
_Node = tuple[str, str, Any]  # (what to check, Go type, detail: struct fields / element)
_NODES: dict[int, _Node] = {}


def _node(schema: dict[str, Any]) -> _Node:
    node = _NODES.get(id(schema))
    if node is None:
        node = _NODES[id(schema)] = _compile(schema)
    return node


def _compile(schema: dict[str, Any]) -> _Node:
    ref = schema.get("$ref")
    if ref is not None:
        name = ref.removeprefix(_PREFIX)
        if name == _INT_OR_STRING:
            return ("int-or-string", "", None)
        if name == _QUANTITY:
            return ("quantity", "", None)
        if name in _TIMES:
            return ("time", "", None)
        definition = resolve(schema)
        if "properties" in definition:
            return ("struct", _go_type(schema), (_short(name), definition["properties"]))
        schema = definition
    kinds = schema.get("type")
    kind = next((k for k in kinds if k != "null"), None) if isinstance(kinds, list) else kinds
    if kind == "object":
        extra = schema.get("additionalProperties")
        return ("map", _go_type(schema), extra if isinstance(extra, dict) else None)
    if kind == "array":
        items = schema.get("items")
        return ("list", _go_type(schema), items if isinstance(items, dict) else None)
    if kind == "string" and schema.get("format") == "byte":
        return ("bytes", _go_type(schema), None)
    if kind in ("string", "boolean", "integer", "number"):
        return (str(kind), _go_type(schema), None)
    return ("any", "", None)


def _check(schema: dict[str, Any], value: Any) -> None:
    """Check a non-null ``value`` against ``schema``; raise ``_Mismatch`` if Go would refuse it."""
    what, go_type, detail = _node(schema)
    if what == "struct":
        if not isinstance(value, dict):
            raise _Mismatch(go_json_type(value), go_type)
        _struct(detail[0], detail[1], value)
    elif what == "map":
        if not isinstance(value, dict):
            raise _Mismatch(go_json_type(value), go_type)
        if detail is not None:
            for item in value.values():
                if item is not None:
                    _check(detail, item)
    elif what == "list":
        if not isinstance(value, list):
            raise _Mismatch(go_json_type(value), go_type)
        if detail is not None:
            for item in value:
                if item is not None:
                    _check(detail, item)
    elif what == "string":
        if not isinstance(value, str):
            raise _Mismatch(go_json_type(value), go_type)
    elif what == "bytes":  # []byte travels as base64, decoded while the body is read
        if not isinstance(value, str):
            raise _Mismatch(go_json_type(value), go_type)
        if (corrupt := decode_base64(value)[1]) is not None:
            raise _Mismatch(corrupt, plain=True)
    elif what == "boolean":
        if not isinstance(value, bool):
            raise _Mismatch(go_json_type(value), go_type)
    elif what == "integer":
        low, high = _INT_RANGES[go_type]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Mismatch(go_json_type(value), go_type)
        if isinstance(value, float) or not low <= value <= high:
            raise _Mismatch(f"number {value}", go_type)
    elif what == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Mismatch(go_json_type(value), go_type)
    elif what == "int-or-string":
        _check_int_or_string(value)
    elif what == "quantity":
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise _Mismatch(_QUANTITY_FORMAT, plain=True)
    elif what == "time" and not isinstance(value, str):
        what = go_json_type(value)
        raise _Mismatch(f"json: cannot unmarshal {what} into Go value of type string", plain=True)


def _check_int_or_string(value: Any) -> None:
    # IntOrString decodes a non-string into its int32 with a plain json.Unmarshal: no path
    if isinstance(value, str):
        return
    low, high = _INT_RANGES["int32"]
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return
    what = go_json_type(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        what = f"number {value}"
    raise _Mismatch(f"json: cannot unmarshal {what} into Go value of type int32", plain=True)


def go_json_type(value: Any) -> str:
    """How Go's JSON errors name the type of a value: ``string``, ``number``, ``array`` …"""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _go_type(schema: dict[str, Any]) -> str:
    """The Go type a schema stands for, as Go's error prints it (``[]v1.Container``)."""
    ref = schema.get("$ref")
    if ref is not None:
        name = ref.removeprefix(_PREFIX)
        package, _, short = name.rpartition(".")
        return f"{package.rsplit('.', 1)[-1]}.{short}"
    kinds = schema.get("type")
    kind = next((k for k in kinds if k != "null"), None) if isinstance(kinds, list) else kinds
    if kind == "array":
        items = schema.get("items")
        return "[]" + (_go_type(items) if isinstance(items, dict) else "interface {}")
    if kind == "object":
        extra = schema.get("additionalProperties")
        return "map[string]" + (_go_type(extra) if isinstance(extra, dict) else "interface {}")
    if kind == "string":
        return "[]uint8" if schema.get("format") == "byte" else "string"
    if kind == "integer":
        return "int32" if schema.get("format") == "int32" else "int64"
    return {"boolean": "bool", "number": "float64"}.get(str(kind), "interface {}")
