"""Label requirements: the terms a label selector is made of, and the rules that check them.

A label selector such as ``app=web,env in (prod,staging),!canary`` is a list of
*requirements*, all of which must hold. Each names a label key, an operator and the values it
compares with:

- ``=`` / ``==`` / ``in``: the label is present and has one of the values;
- ``!=`` / ``notin``: the label is absent or has none of the values;
- ``exists`` (written as the bare key) and ``!`` (``!key``): the label is present or absent;
- ``gt`` / ``lt`` (``>``, ``<``): the label's value, read as an integer, is above or below the
  single value; a label that is not an integer matches neither.

``new_requirement`` is upstream's ``labels.NewRequirement``: it checks the key (a qualified
name), the number of values the operator takes, and each value (a valid label value, an
integer for ``gt``/``lt``) and raises ``ValueError`` with upstream's wording, several errors
joined as Go's aggregate error joins them. The text parser (``label_parser``) and the object
form (``LabelSelector.from_object`` in ``selectors``) both build requirements through it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import attrs

from minikube_py.api.validation_causes import go_quote, go_string_list
from minikube_py.api.validation_formats import is_label_value, is_qualified_name


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
