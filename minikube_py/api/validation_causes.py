"""Field errors, worded exactly as upstream's ``field.Error`` prints them.

Every validation problem Kubernetes reports names a *field path* (``spec.containers[0].image``),
a *reason* (``FieldValueRequired``, ``FieldValueInvalid``, …) and a message whose first words
come from the reason (``Required value``, ``Invalid value: 70000: …``). ``kubectl`` shows them
joined: ``spec.containers[0].image: Required value``. Scripts and people match on these words,
so the constructors here reproduce apimachinery's ``ErrorBody`` of Kubernetes 1.32, including
how it renders the offending value: strings Go-quoted, numbers bare, and other values the way
Go's ``%#v`` prints them (``map[string]string{"app":"x"}``). Callers that know the Go type of a
value render it themselves and pass a ``Rendered`` string.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any, TypeGuard

from minikube_py.api.errors import Cause

REQUIRED = "FieldValueRequired"
INVALID = "FieldValueInvalid"
NOT_SUPPORTED = "FieldValueNotSupported"
DUPLICATE = "FieldValueDuplicate"
FORBIDDEN = "FieldValueForbidden"
TOO_LONG = "FieldValueTooLong"
NOT_FOUND = "FieldValueNotFound"

IMMUTABLE = "field is immutable"


class Rendered(str):
    """A value already rendered the way Go would print it; used verbatim in messages."""


_ESCAPES = {
    "\a": r"\a",
    "\b": r"\b",
    "\f": r"\f",
    "\n": r"\n",
    "\r": r"\r",
    "\t": r"\t",
    "\v": r"\v",
    "\\": "\\\\",
    '"': '\\"',
}


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote``: printable runes kept, the rest escaped."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def _go_float(number: float) -> str:
    # Go's %v for a float64: shortest digits, exponent form below 1e-4 and from 1e21 on.
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    exact = Decimal(repr(number))
    exponent = exact.adjusted()
    if -4 <= exponent < 21:
        text = format(exact, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    sign, digits, _ = exact.as_tuple()
    mantissa = "".join(map(str, digits)).rstrip("0") or "0"
    if len(mantissa) > 1:
        mantissa = mantissa[0] + "." + mantissa[1:]
    return f"{'-' if sign else ''}{mantissa}e{'+' if exponent >= 0 else '-'}{abs(exponent):02d}"


def go_value(value: Any) -> str:
    """How 1.32's ``ErrorBody`` prints a bad value of a JSON-shaped type."""
    if isinstance(value, Rendered):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return go_quote(value)
    # Typed Go structs print with %#v, which JSON-shaped input cannot reproduce without the
    # type; compact JSON (what newer releases print) is the honest stand-in.
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


def go_string_map(value: Any) -> Rendered:
    """``%#v`` of a ``map[string]string`` (keys sorted, as Go's fmt does)."""
    if not isinstance(value, dict):
        return Rendered("map[string]string(nil)")
    items = ", ".join(
        f"{go_quote(str(key))}:{go_quote(str(value[key]))}" for key in sorted(value, key=str)
    )
    return Rendered("map[string]string{" + items + "}")


def go_string_list(value: Any) -> Rendered:
    """``%#v`` of a ``[]string``."""
    if not isinstance(value, list):
        return Rendered("[]string(nil)")
    return Rendered("[]string{" + ", ".join(go_quote(str(item)) for item in value) + "}")


def go_label_selector(selector: Any) -> Rendered:
    """``%#v`` of a ``metav1.LabelSelector`` (pointers are dereferenced by ``ErrorBody``)."""
    if not isinstance(selector, dict):
        return Rendered("null")
    labels = go_string_map(selector.get("matchLabels"))
    expressions = selector.get("matchExpressions")
    if isinstance(expressions, list):
        parts = []
        for expr in expressions:
            expr = expr if isinstance(expr, dict) else {}
            parts.append(
                "v1.LabelSelectorRequirement{"
                f"Key:{go_quote(str(expr.get('key', '')))}, "
                f"Operator:{go_quote(str(expr.get('operator', '')))}, "
                f"Values:{go_string_list(expr.get('values'))}}}"
            )
        rendered = "[]v1.LabelSelectorRequirement{" + ", ".join(parts) + "}"
    else:
        rendered = "[]v1.LabelSelectorRequirement(nil)"
    return Rendered(f"v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{rendered}}}")


def _body(kind: str, value: Any, detail: str) -> str:
    text = f"{kind}: {go_value(value)}"
    return f"{text}: {detail}" if detail else text


def required(path: str, detail: str = "") -> Cause:
    return Cause(REQUIRED, f"Required value: {detail}" if detail else "Required value", path)


def forbidden(path: str, detail: str) -> Cause:
    return Cause(FORBIDDEN, f"Forbidden: {detail}" if detail else "Forbidden", path)


def invalid(path: str, value: Any, detail: str) -> Cause:
    return Cause(INVALID, _body("Invalid value", value, detail), path)


def not_supported(path: str, value: Any, supported: list[str]) -> Cause:
    detail = "supported values: " + ", ".join(go_quote(item) for item in supported)
    body = _body("Unsupported value", value, detail if supported else "")
    return Cause(NOT_SUPPORTED, body, path)


def duplicate(path: str, value: Any) -> Cause:
    return Cause(DUPLICATE, _body("Duplicate value", value, ""), path)


def not_found(path: str, value: Any) -> Cause:
    return Cause(NOT_FOUND, _body("Not found", value, ""), path)


def too_long(path: str, max_bytes: int) -> Cause:
    unit = "byte" if max_bytes == 1 else "bytes"
    return Cause(TOO_LONG, f"Too long: may not be more than {max_bytes} {unit}", path)


def nonnegative(path: str, value: Any) -> list[Cause]:
    """``ValidateNonnegativeField``: integers below zero are refused."""
    if is_int(value) and value < 0:
        return [invalid(path, value, "must be greater than or equal to 0")]
    return []


def is_int(value: Any) -> TypeGuard[int]:
    """A JSON integer (``bool`` is an ``int`` in Python, never in JSON)."""
    return isinstance(value, int) and not isinstance(value, bool)


def byte_len(text: str) -> int:
    """Go's ``len(s)``: UTF-8 bytes; lone surrogates from JSON count as three bytes."""
    return len(text.encode("utf-8", "surrogatepass"))


# Readers for JSON-shaped input of unknown quality: a value of the wrong type reads as absent.
# Types are the decoder's and the schema's business; validation then reports what is missing.


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def has(parent: Any, key: str) -> bool:
    return isinstance(parent, dict) and parent.get(key) is not None


def text(parent: Any, key: str) -> str:
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, str) else ""


def items(parent: Any, key: str) -> list[Any]:
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, list) else []


def mapping(parent: Any, key: str) -> dict[str, Any]:
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else {}


def _normalized(value: Any) -> Any:
    if isinstance(value, dict):
        kept = {key: _normalized(item) for key, item in value.items()}
        return {key: item for key, item in kept.items() if item not in (None, "", [], {})}
    if isinstance(value, list):
        return [_normalized(item) for item in value]
    return value


def same(left: Any, right: Any) -> bool:
    """``apiequality.Semantic.DeepEqual`` on JSON: null, "" and empty lists and maps are equal
    to absent, as they are for Go's non-pointer fields and in its nil-equals-empty comparison.
    """
    return bool(_normalized(left) == _normalized(right))
