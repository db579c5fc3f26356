"""Label and field selectors: how a list, a watch or a controller says which objects it means.

A *label selector* is a conjunction of requirements on an object's labels: ``app=web``,
``tier!=db``, ``env in (prod,staging)``, ``env notin (dev)``, ``release`` (the key exists),
``!canary`` (it does not). ``kubectl get -l`` sends it as text, which ``LabelSelector.parse``
reads with upstream's own grammar and error messages; Deployments and Services carry it as an
object (``matchLabels`` / ``matchExpressions``), which ``LabelSelector.from_object`` reads.

Field selectors (``--field-selector``) live in ``field_selectors.py``; their public names are
re-exported here so that ``selectors`` is the one import for both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

# Re-exported: the field selector names belong to this module's public interface.
from minikube_py.api.field_selectors import FieldRequirement as FieldRequirement
from minikube_py.api.field_selectors import FieldSelector as FieldSelector
from minikube_py.api.field_selectors import check_field_selector as check_field_selector
from minikube_py.api.field_selectors import object_fields as object_fields
from minikube_py.api.validation_causes import go_quote, go_string_list
from minikube_py.api.validation_formats import is_label_value, is_qualified_name

_SPECIAL = frozenset("=!(),><")
_SPACE = frozenset(" \t\r\n")
# A token is named by its text ("!=", "in", "("), except identifiers ("ID") and the end ("END").
_SYMBOLS = frozenset(["(", ")", ",", "!", "=", "==", "!=", ">", "<"])
_OPERATORS = {"in": "in", "notin": "notin", "=": "=", "==": "==", "!=": "!=", ">": "gt", "<": "lt"}
_BINARY = "in, notin, =, ==, !=, gt, lt"
_END = "\x00"  # Go's lexer reads 0 at the end and treats a NUL byte the same way


@attrs.frozen
class Requirement:
    """One label requirement; ``operator`` is upstream's: = == != in notin exists ! gt lt."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, Any]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.operator in ("=", "==", "in"):
            return present and value in self.values
        if self.operator in ("!=", "notin"):
            return not present or value not in self.values
        if self.operator in ("exists", "!"):
            return present == (self.operator == "exists")
        number, limit = _go_int(value), _go_int(self.values[0] if self.values else None)
        if number is None or limit is None:
            return False
        return number > limit if self.operator == "gt" else number < limit

    def __str__(self) -> str:
        if self.operator in ("exists", "!"):
            return ("!" if self.operator == "!" else "") + self.key
        values = ",".join(sorted(self.values))
        if self.operator in ("in", "notin"):
            return f"{self.key} {self.operator} ({values})"
        return self.key + {"gt": ">", "lt": "<"}.get(self.operator, self.operator) + values


def _go_int(value: Any) -> int | None:
    if isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]+", value):
        number = int(value)
        return number if -(2**63) <= number < 2**63 else None
    return None


def _aggregate(errors: list[str]) -> str:
    unique = list(dict.fromkeys(errors))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


def _count_error(operator: str, values: list[str]) -> str | None:
    if operator in ("in", "notin") and not values:
        return "for 'in', 'notin' operators, values set can't be empty"
    if operator in ("=", "==", "!=") and len(values) != 1:
        return "exact-match compatibility requires one single value"
    if operator in ("exists", "!") and values:
        return "values set must be empty for exists and does not exist"
    if operator in ("gt", "lt") and len(values) != 1:
        return "for 'Gt', 'Lt' operators, exactly one value is required"
    return None


def new_requirement(key: str, operator: str, values: list[str]) -> Requirement:
    """``labels.NewRequirement``: check the key, the value count and every value."""
    errors = []
    if key_errors := is_qualified_name(key):
        errors.append(f"key: Invalid value: {go_quote(key)}: {'; '.join(key_errors)}")
    if problem := _count_error(operator, values):
        errors.append(f"values: Invalid value: {go_string_list(values)}: {problem}")
    for index, value in enumerate(values):
        if operator in ("gt", "lt") and _go_int(value) is None:
            errors.append(
                f"values[{index}]: Invalid value: {go_quote(value)}: for 'Gt', 'Lt' "
                "operators, the value must be an integer"
            )
    for index, value in enumerate(values):
        if value_errors := is_label_value(value):
            shown = f"values[{index}][{key}]: Invalid value: {go_quote(value)}"
            errors.append(f"{shown}: {'; '.join(value_errors)}")
    if errors:
        raise ValueError(_aggregate(errors))
    return Requirement(key, operator, tuple(values))


class _Parser:
    """Upstream's hand-written lexer and recursive-descent parser, one method per rule."""

    def __init__(self, text: str) -> None:
        self.text, self.pos, self.items, self.at = text, 0, [], 0
        while True:
            self.items.append(self._lex())
            if self.items[-1][0] == "END":
                break

    def _read(self) -> str:
        if self.pos < len(self.text):
            self.pos += 1
            return self.text[self.pos - 1]
        return _END

    def _lex(self) -> tuple[str, str]:
        char = self._read()
        while char in _SPACE:
            char = self._read()
        if char == _END:
            return "END", ""
        self.pos -= 1
        if char in _SPECIAL:
            found, buffer = None, ""
            while (char := self._read()) != _END:
                if char not in _SPECIAL:
                    self.pos -= 1
                    break
                buffer += char
                if buffer in _SYMBOLS:
                    found = (buffer, buffer)
                elif found:
                    self.pos -= 1
                    break
            return found or ("ERROR", f"error expected: keyword found '{buffer}'")
        word = ""
        while (char := self._read()) != _END:
            if char in _SPECIAL or char in _SPACE:
                self.pos -= 1
                break
            word += char
        return (word, word) if word in ("in", "notin") else ("ID", word)

    def peek(self, values: bool = True) -> tuple[str, str]:
        token, literal = self.items[min(self.at, len(self.items) - 1)]
        # In value position "in" and "notin" are ordinary words: "x in (in)".
        return ("ID", literal) if values and token in ("in", "notin") else (token, literal)

    def take(self, values: bool = True) -> tuple[str, str]:
        item = self.peek(values)
        self.at += 1
        return item

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            token, literal = self.peek()
            if token == "END":
                return requirements
            if token not in ("ID", "!"):
                raise ValueError(f"found '{literal}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self.requirement())
            except ValueError as error:
                raise ValueError(f"unable to parse requirement: {error}") from None
            token, literal = self.take()
            if token == "END":
                return requirements
            if token != ",":
                raise ValueError(f"found '{literal}', expected: ',' or 'end of string'")
            after, literal = self.peek()
            if after not in ("ID", "!"):
                raise ValueError(f"found '{literal}', expected: identifier after ','")

    def requirement(self) -> Requirement:
        operator = ""
        token, key = self.take()
        if token == "!":
            operator, (token, key) = "!", self.take()
        if token != "ID":
            raise ValueError(f"found '{key}', expected: identifier")
        if errors := is_qualified_name(key):
            raise ValueError(f"<nil>: Invalid value: {go_quote(key)}: {'; '.join(errors)}")
        if operator or self.peek()[0] in ("END", ","):
            return new_requirement(key, operator or "exists", [])
        token, literal = self.take(values=False)
        if token not in _OPERATORS:
            raise ValueError(f"found '{literal}', expected: {_BINARY}")
        operator = _OPERATORS[token]
        values = self.value_set() if operator in ("in", "notin") else self.exact_value()
        return new_requirement(key, operator, sorted(values))

    def exact_value(self) -> set[str]:
        if self.peek()[0] in ("END", ","):
            return {""}
        token, literal = self.take()
        if token != "ID":
            raise ValueError(f"found '{literal}', expected: identifier")
        return {literal}

    def value_set(self) -> set[str]:
        token, literal = self.take()
        if token != "(":
            raise ValueError(f"found '{literal}' expected: '('")
        token, literal = self.peek()
        if token == ")":
            self.take()
            return {""}
        if token not in ("ID", ","):
            raise ValueError(f"found '{literal}', expected: ',', ')' or identifier")
        values: set[str] = set()
        while True:
            token, word = self.take()
            if token == "ID":
                values.add(word)
                after, shown = self.peek()
                if after == ")":
                    break
                if after != ",":
                    raise ValueError(f"found '{shown}', expected: ',' or ')'")
            elif token == ",":
                # "(,a)", "(a,,b)" and "(a,)" all name the empty value as well.
                if not values or self.peek()[0] in (")", ","):
                    values.add("")
                if self.peek()[0] == ")":
                    break
            else:
                raise ValueError(f"found '{word}', expected: ',', or identifier")
        self.take()  # the ")" the loop stopped at
        return values


class LabelSelector:
    """A parsed label selector; ``LabelSelector.nothing()`` is the one that matches nothing."""

    def __init__(self, requirements: Iterable[Requirement] = (), *, nothing: bool = False) -> None:
        self.requirements = tuple(sorted(requirements, key=lambda r: r.key))
        self._nothing = nothing

    @classmethod
    def parse(cls, text: str) -> LabelSelector:
        """Parse ``kubectl -l`` syntax; raises ``ValueError`` with upstream's message."""
        return cls(_Parser(text).parse())

    @classmethod
    def nothing(cls) -> LabelSelector:
        return cls(nothing=True)

    @classmethod
    def from_object(cls, selector: Any) -> LabelSelector:
        """``metav1.LabelSelectorAsSelector``: None selects nothing, ``{}`` everything."""
        if selector is None:
            return cls.nothing()
        if not isinstance(selector, dict):
            raise ValueError("invalid label selector")
        labels, expressions = selector.get("matchLabels") or {}, selector.get("matchExpressions")
        if not isinstance(labels, dict) or not isinstance(expressions or [], list):
            raise ValueError("invalid label selector")
        requirements = []
        for key, value in labels.items():
            if not isinstance(value, str):
                raise ValueError(f"values[0][{key}]: Invalid value: {value!r}: must be a string")
            requirements.append(new_requirement(key, "=", [value]))
        for expr in expressions or []:
            expr = expr if isinstance(expr, dict) else {}
            operator = _EXPRESSION_OPERATORS.get(str(expr.get("operator")))
            if operator is None:
                raise ValueError(
                    f"{go_quote(str(expr.get('operator', '')))} is not a valid "
                    "label selector operator"
                )
            values = expr.get("values") or []
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ValueError("invalid label selector")
            requirements.append(new_requirement(str(expr.get("key", "")), operator, values))
        return cls(requirements)

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything (``Everything``)."""
        return not self._nothing and not self.requirements

    def matches(self, labels: Any) -> bool:
        labels = labels if isinstance(labels, dict) else {}
        return not self._nothing and all(r.matches(labels) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)


_EXPRESSION_OPERATORS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
