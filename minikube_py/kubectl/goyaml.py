"""YAML as kubectl writes it: what go-yaml (v2, behind ``sigs.k8s.io/yaml``) makes of JSON.

kubectl turns an object into JSON and the JSON into YAML, so every map is written with its
keys sorted — in go-yaml's *natural* order, where runs of digits compare as numbers (``e2``
before ``e10``) and a letter sorts after any other character. A string that YAML 1.1 would
read back as something else is double-quoted (``"12"``, ``"true"``, ``"y"``, ``"1e3"``,
timestamps, ``""``); a string that merely cannot be plain (``'x: y'``, ``' lead'``) is
single-quoted; one with line breaks is a literal block (``|-``). Sequences are not indented
under their key and long strings fold at 80 columns. PyYAML's emitter makes the same layout
choices as go-yaml (both descend from libyaml) once told which strings need double quotes, so
only the quoting decision and the key order are ours.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import yaml

_STR = "tag:yaml.org,2002:str"
# what go-yaml reads as non-strings though PyYAML does not: y/n booleans, 1e3, 0o17
_GO_SPECIAL = {"y", "Y", "n", "N"}
_GO_NUMBER = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?0o[0-7_]+")


class _GoYamlDumper(yaml.SafeDumper):
    """PyYAML, quoting strings the way go-yaml does."""


def _represent_str(dumper: _GoYamlDumper, value: str) -> yaml.ScalarNode:
    resolved = dumper.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    if "\n" in value:
        style: str | None = "|"
    elif resolved != _STR or value in _GO_SPECIAL or _GO_NUMBER.fullmatch(value):
        style = '"'
    else:
        style = None  # plain if it can be; the emitter falls back to single quotes
    return dumper.represent_scalar(_STR, value, style=style)


_GoYamlDumper.add_representer(str, _represent_str)


def _number(text: str, start: int, lead: int) -> tuple[int, int]:
    """The digits of ``text`` from ``start`` read as a number (after ``lead``); and their end."""
    end, number = start, lead
    while end < len(text) and text[end].isdigit():
        number = number * 10 + int(text[end])
        end += 1
    return number, end


def natural_compare(a: str, b: str) -> int:
    """go-yaml's order of map keys: -1, 0 or 1."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x == y:
            continue
        x_letter, y_letter = x.isalpha(), y.isalpha()
        if x_letter and y_letter:
            return -1 if x < y else 1
        if x_letter or y_letter:
            return -1 if y_letter else 1
        # digits compare as numbers; a zero inside a number already begun keeps its weight
        lead = int((x == "0" or y == "0") and any(c != "0" for c in _run_before(a, i)))
        (x_number, x_end), (y_number, y_end) = _number(a, i, lead), _number(b, i, lead)
        if x_number != y_number:
            return -1 if x_number < y_number else 1
        if x_end != y_end:
            return -1 if x_end < y_end else 1
        return -1 if x < y else 1
    return (len(a) > len(b)) - (len(a) < len(b))


def _run_before(text: str, index: int) -> str:
    """The digits just before ``index``."""
    start = index
    while start > 0 and text[start - 1].isdigit():
        start -= 1
    return text[start:index]


def _ordered(value: Any) -> Any:
    if isinstance(value, dict):
        keys = sorted(value, key=functools.cmp_to_key(natural_compare))
        return {key: _ordered(value[key]) for key in keys}
    if isinstance(value, list):
        return [_ordered(item) for item in value]
    return value


def yaml_text(obj: Any) -> str:
    """``obj`` (JSON-shaped) as kubectl's ``-o yaml`` writes it."""
    return yaml.dump(
        _ordered(obj),
        Dumper=_GoYamlDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
    )
