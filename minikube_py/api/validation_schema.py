"""Validating a custom resource against its version's OpenAPI v3 schema, in upstream's words.

Upstream checks custom resources with kube-openapi's validator and turns each failure into a
field error: a wrong type reads ``spec.replicas: Invalid value: "string": spec.replicas in
body must be of type integer: "string"`` (the quoted word is the type that was sent), a
missing property ``spec.image: Required value``, a value outside an ``enum``
``spec.mode: Unsupported value: "x": supported values: "a", "b"``, and bounds, lengths and
patterns ``Invalid value: 15: spec.replicas in body should be less than or equal to 10``.
Metadata is validated by the ordinary ObjectMeta rules, not here.
"""

from __future__ import annotations

import re
from typing import Any

from minikube_py.api.errors import Cause
from minikube_py.api.validation_causes import (
    INVALID,
    Rendered,
    go_quote,
    go_value,
    invalid,
    not_supported,
    required,
)

Schema = dict[str, Any]


def type_name(value: Any) -> str:
    """The OpenAPI type a JSON value has, as kube-openapi names it in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _has_type(value: Any, wanted: str) -> bool:
    actual = type_name(value)
    if wanted == "number":
        return actual in ("integer", "number")
    if wanted == "integer" and isinstance(value, float):
        return value.is_integer()  # JSON has one number type: 2.0 is an integer
    return actual == wanted


def _number(limit: Any) -> str:
    if isinstance(limit, float) and limit.is_integer():
        return str(int(limit))
    return str(limit)


def validate(schema: Schema, obj: Any) -> list[Cause]:
    """The causes for a whole custom resource (its ``metadata`` is left to ObjectMeta)."""
    causes: list[Cause] = []
    if isinstance(obj, dict):
        properties = schema.get("properties") or {}
        for key in schema.get("required") or []:
            if key not in obj and key != "metadata":
                causes.append(required(key))
        for key, value in obj.items():
            if key in ("apiVersion", "kind", "metadata") or key not in properties:
                continue
            _check(properties[key], value, key, causes)
    return causes


def _type_error(path: str, value: Any, wanted: str) -> Cause:
    if value is None:  # kube-openapi names no type for a null, and shows an empty value
        return Cause(INVALID, f'Invalid value: "": {path} in body must be of type {wanted}', path)
    actual = type_name(value)
    detail = f"{path} in body must be of type {wanted}: {go_quote(actual)}"
    return Cause(INVALID, f"Invalid value: {go_quote(actual)}: {detail}", path)


def _check(schema: Any, value: Any, path: str, causes: list[Cause]) -> None:
    if not isinstance(schema, dict):
        return
    if value is None:
        if not schema.get("nullable") and schema.get("type"):
            causes.append(_type_error(path, value, schema["type"]))
        return
    wanted = schema.get("type")
    if schema.get("x-kubernetes-int-or-string"):
        if type_name(value) not in ("integer", "string"):
            causes.append(_type_error(path, value, "integer-or-string"))
            return
    elif isinstance(wanted, str) and not _has_type(value, wanted):
        causes.append(_type_error(path, value, wanted))
        return
    _check_value(schema, value, path, causes)
    if isinstance(value, dict):
        _check_object(schema, value, path, causes)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            _check(schema["items"], item, f"{path}[{index}]", causes)
    for sub in schema.get("allOf") or []:
        _check({k: v for k, v in sub.items() if k != "type"}, value, path, causes)


def _check_object(schema: Schema, value: dict[str, Any], path: str, causes: list[Cause]) -> None:
    for key in schema.get("required") or []:
        if key not in value:
            causes.append(required(f"{path}.{key}"))
    properties = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        if key in properties:
            _check(properties[key], item, f"{path}.{key}", causes)
        elif isinstance(extra, dict):
            _check(extra, item, f"{path}.{key}", causes)
    limit = schema.get("maxProperties")
    if isinstance(limit, int) and len(value) > limit:
        causes.append(Cause("FieldValueTooMany", f"Too many: {len(value)}: must have at most "
                            f"{limit} items", path))  # fmt: skip
    limit = schema.get("minProperties")
    if isinstance(limit, int) and len(value) < limit:
        shown = Rendered(go_value(len(value)))
        causes.append(invalid(path, shown, f"{path} in body should have at least {limit} "
                              "properties"))  # fmt: skip


def _check_value(schema: Schema, value: Any, path: str, causes: list[Cause]) -> None:
    """Enum, numeric bounds, string and array lengths, patterns."""
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        supported = [v if isinstance(v, str) else go_value(v) for v in enum]
        causes.append(not_supported(path, value, supported))
    if type_name(value) in ("integer", "number"):
        _check_number(schema, value, path, causes)
    if isinstance(value, str):
        _check_string(schema, value, path, causes)
    if isinstance(value, list):
        _check_array(schema, value, path, causes)


def _check_number(schema: Schema, value: float, path: str, causes: list[Cause]) -> None:
    maximum, minimum = schema.get("maximum"), schema.get("minimum")
    if isinstance(maximum, int | float):
        if schema.get("exclusiveMaximum") and value >= maximum:
            detail = f"should be less than {_number(maximum)}"
            causes.append(invalid(path, value, f"{path} in body {detail}"))
        elif value > maximum:
            detail = f"should be less than or equal to {_number(maximum)}"
            causes.append(invalid(path, value, f"{path} in body {detail}"))
    if isinstance(minimum, int | float):
        if schema.get("exclusiveMinimum") and value <= minimum:
            detail = f"should be greater than {_number(minimum)}"
            causes.append(invalid(path, value, f"{path} in body {detail}"))
        elif value < minimum:
            detail = f"should be greater than or equal to {_number(minimum)}"
            causes.append(invalid(path, value, f"{path} in body {detail}"))
    factor = schema.get("multipleOf")
    if isinstance(factor, int | float) and factor and (value / factor) % 1:
        detail = f"should be a multiple of {_number(factor)}"
        causes.append(invalid(path, value, f"{path} in body {detail}"))


def _check_string(schema: Schema, value: str, path: str, causes: list[Cause]) -> None:
    longest, shortest = schema.get("maxLength"), schema.get("minLength")
    length = len(value)  # kube-openapi counts characters (runes), not bytes
    if isinstance(longest, int) and length > longest:
        unit = "byte" if longest == 1 else "bytes"
        causes.append(Cause("FieldValueTooLong", f"Too long: may not be more than {longest} "
                            f"{unit}", path))  # fmt: skip
    if isinstance(shortest, int) and length < shortest:
        detail = f"should be at least {shortest} chars long"
        causes.append(invalid(path, value, f"{path} in body {detail}"))
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        try:
            matched = re.search(pattern, value) is not None
        except re.error:
            matched = True  # a pattern Python cannot read was accepted at CRD creation
        if not matched:
            causes.append(invalid(path, value, f"{path} in body should match '{pattern}'"))


def _check_array(schema: Schema, value: list[Any], path: str, causes: list[Cause]) -> None:
    most, least = schema.get("maxItems"), schema.get("minItems")
    if isinstance(most, int) and len(value) > most:
        causes.append(Cause("FieldValueTooMany", f"Too many: {len(value)}: must have at most "
                            f"{most} items", path))  # fmt: skip
    if isinstance(least, int) and len(value) < least:
        detail = f"should have at least {least} items"
        causes.append(invalid(path, Rendered(_go_list(value)), f"{path} in body {detail}"))
    if schema.get("uniqueItems") and len({repr(v) for v in value}) < len(value):
        causes.append(invalid(path, Rendered(_go_list(value)), f"{path} in body shouldn't "
                              "contain duplicates"))  # fmt: skip


def _go_list(value: list[Any]) -> str:
    return "[]interface {}{" + ", ".join(go_value(v) for v in value) + "}"
