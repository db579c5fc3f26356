"""kubectl's JSONPath templates: ``-o jsonpath='{.items[*].metadata.name}'``.

A template is literal text with *actions* in braces. An action is a path walked from the
object kubectl prints (``$``, or ``@`` inside a range — a leading ``.`` means the same):
``.name`` a field, ``..name`` that field at any depth, ``[2]``/``[-1]`` an element,
``[1:3]``/``[::2]`` a slice, ``[*]`` or ``.*`` everything, ``[0,2]``/``['a','b']`` a union,
``[?(@.status.phase=="Running")]`` the elements a filter keeps. A path can yield several
values; they print separated by one space, strings as they are, maps and lists as compact
JSON. ``{range .items[*]}...{end}`` repeats its body for each value, relative to it;
``{"\\n"}`` is a literal (Go string syntax). As in ``kubectl get``, a missing field prints
nothing rather than failing; an index past the end of a list is an error.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

Step = tuple[Any, ...]  # ("field", name) | ("index", [ints|slices]) | ("all",) | ...


class JsonPathError(Exception):
    """A template kubectl cannot parse or execute; the message is kubectl's reason."""


@dataclass
class Action:
    """``{path}`` or ``{"literal"}``: ``steps`` walked from the current value."""

    steps: list[Step]
    literal: str | None = None


@dataclass
class Range:
    """``{range path}body{end}``: the body once per value the path yields."""

    steps: list[Step]
    body: list[Any] = field(default_factory=list)


_NUMBER = re.compile(r"-?\d+(\.\d+)?$")
# an action: braces around anything but a brace, where a quoted string may hold braces
_ACTION = re.compile(r"""\{((?:"(?:\\.|[^"\\])*"|'[^']*'|[^}"'])*)\}""")
# the operators of filters, longest first: "<=" is not "<" followed by "="
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {"==": operator.eq, "!=": operator.ne}
_COMPARE |= {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}


def parse(template: str) -> list[Any]:
    """The template as text, ``Action`` and ``Range`` nodes; ``JsonPathError`` if malformed."""
    root: list[Any] = []
    stack = [root]
    position = 0
    while position < len(template):
        start = template.find("{", position)
        if start < 0:
            stack[-1].append(template[position:])
            break
        if start > position:
            stack[-1].append(template[position:start])
        action = _ACTION.match(template, start)
        if action is None:
            raise JsonPathError("unclosed action")
        body = action.group(1).strip()
        position = action.end()
        if body == "end":
            if len(stack) == 1:
                raise JsonPathError("not in range, nothing to end")
            stack.pop()
        elif body.startswith("range ") or body == "range":
            node = Range(_path(body[5:].strip()))
            stack[-1].append(node)
            stack.append(node.body)
        else:
            stack[-1].append(_action(body))
    if len(stack) > 1:
        raise JsonPathError("unclosed range")
    return root


def _action(body: str) -> Action:
    if body.startswith('"'):
        try:
            return Action([], json.loads(body))
        except ValueError:
            raise JsonPathError(f"invalid string literal {body}") from None
    if body in ("true", "false") or _NUMBER.match(body):
        return Action([], body)
    return Action(_path(body))


def _path(text: str) -> list[Step]:
    """The steps of a path such as ``.items[*].metadata.name`` or ``$..image``."""
    steps: list[Step] = [("root",)] if text[:1] == "$" else []
    rest = text[1:] if text[:1] in "$@" else text
    while rest:
        if rest.startswith(".."):
            steps.append(("recursive",))
            rest = rest[1:]
        elif rest.startswith("."):
            match = re.match(r"\.((?:\\.|[^.\[\\])*)", rest)
            assert match is not None
            name = match.group(1).replace("\\.", ".")
            rest = rest[match.end() :]
            if name == "*":
                steps.append(("all",))
            elif name:
                steps.append(("field", name))
        elif rest.startswith("["):
            close = _closing_bracket(rest)
            steps.append(_bracket(rest[1:close].strip()))
            rest = rest[close + 1 :]
        else:
            raise JsonPathError(f"unrecognized character in action: {rest[:1]!r}")
    return steps


def _closing_bracket(text: str) -> int:
    depth = 0
    for index, char in enumerate(text):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth == 0:
            return index
    raise JsonPathError("unterminated array")


def _bracket(inside: str) -> Step:
    if inside == "*":
        return ("all",)
    if inside.startswith("?(") and inside.endswith(")"):
        return _filter(inside[2:-1].strip())
    parts = [part.strip() for part in inside.split(",")]
    if all(len(p) >= 2 and p[0] == p[-1] == "'" for p in parts):
        return ("fields", [p[1:-1] for p in parts])
    picks: list[int | slice] = []
    for part in parts:
        try:
            if ":" in part:
                bounds = [int(b) if b.strip() else None for b in part.split(":")]
                if len(bounds) > 3:
                    raise ValueError
                if len(bounds) == 3 and bounds[2] is not None and bounds[2] <= 0:
                    raise JsonPathError("step must be > 0")
                picks.append(slice(*bounds))
            else:
                picks.append(int(part))
        except ValueError:
            raise JsonPathError(f"invalid array index {part}") from None
    return ("index", picks)


def _filter(expression: str) -> Step:
    for symbol in _COMPARE:
        left, found, right = expression.partition(symbol)
        if found:
            return ("filter", _operand(left.strip()), symbol, _operand(right.strip()))
    return ("filter", _operand(expression), None, None)


def _operand(text: str) -> Any:
    if text[:1] in "@$.":
        return _path(text)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return ("literal", text[1:-1])
    try:
        number = float(text)
    except ValueError:
        raise JsonPathError(f"unrecognized filter operand {text!r}") from None
    return ("literal", int(number) if re.fullmatch(r"-?\d+", text) else number)


def relaxed(expression: str) -> str:
    """``.a.b`` or ``a.b`` as the template ``{.a.b}`` (``--sort-by``, custom columns)."""
    if expression.startswith("{"):
        return expression
    return "{" + (expression if expression.startswith(".") else "." + expression) + "}"


def render(template: str, data: Any) -> str:
    """The text ``template`` makes of ``data`` (a JSON-shaped object)."""
    out: list[str] = []
    _render(parse(template), data, data, out)
    return "".join(out)


def _render(nodes: list[Any], root: Any, current: Any, out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, Action):
            if node.literal is not None:
                out.append(node.literal)
            else:
                out.append(" ".join(text(v) for v in walk(node.steps, root, current)))
        else:
            # each value the path yields, as it is: ``{range .items}`` runs once, on the list
            for value in walk(node.steps, root, current):
                _render(node.body, root, value, out)


def text(value: Any) -> str:
    """How one value prints: strings bare, maps and lists as compact JSON (Go's form)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return go_json(value)
    return str(value)


def go_json(value: Any, indent: int | None = None) -> str:
    """JSON as Go's encoder writes it: sorted keys, ``<``, ``>``, ``&`` escaped."""
    separators = (",", ": ") if indent else (",", ":")
    encoded = json.dumps(
        value, sort_keys=True, ensure_ascii=False, indent=indent, separators=separators
    )
    return encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def walk(steps: list[Step], root: Any, current: Any) -> list[Any]:
    """The values ``steps`` lead to from ``current`` (``root`` for ``$`` in filters)."""
    values = [current]
    for step in steps:
        values = [found for value in values for found in _step(step, value, root)]
    return values


def _step(step: Step, value: Any, root: Any) -> Iterator[Any]:
    kind = step[0]
    if kind == "root":
        yield root
    elif kind == "field":
        if isinstance(value, dict) and step[1] in value:
            yield value[step[1]]
    elif kind == "fields":
        if isinstance(value, dict):
            yield from (value[name] for name in step[1] if name in value)
    elif kind == "all":
        if isinstance(value, dict):
            yield from (value[key] for key in sorted(value))
        elif isinstance(value, list):
            yield from value
    elif kind == "recursive":
        yield from _descendants(value)
    elif kind == "index" and value is not None:
        if not isinstance(value, list):
            raise JsonPathError(f"{_go_type(value)} is not array or slice")
        for pick in step[1]:
            if isinstance(pick, slice):
                yield from value[pick]
            elif -len(value) <= pick < len(value):
                yield value[pick]
            else:
                raise JsonPathError(f"array index out of bounds: index {pick}, length {len(value)}")
    elif kind == "filter" and isinstance(value, list):
        yield from (item for item in value if _keeps(step, item, root))


def _go_type(value: Any) -> str:
    """The Go type a decoded JSON value has, as kubectl's errors name it."""
    kinds = {dict: "map[string]interface {}", str: "string", bool: "bool", float: "float64"}
    return kinds.get(type(value), "int64")


def _descendants(value: Any) -> Iterator[Any]:
    yield value
    children = [value[k] for k in sorted(value)] if isinstance(value, dict) else value
    if isinstance(value, (dict, list)):
        for child in children:
            yield from _descendants(child)


def _keeps(step: Step, item: Any, root: Any) -> bool:
    _, left, symbol, right = step
    lefts = _operand_values(left, item, root)
    if symbol is None:
        return bool(lefts)
    rights = _operand_values(right, item, root)
    if not lefts or not rights:
        return False
    a, b = lefts[0], rights[0]
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
    comparable = numeric or (isinstance(a, str) and isinstance(b, str))
    if not comparable and symbol not in ("==", "!="):
        return False
    return bool(_COMPARE[symbol](a, b))


def _operand_values(operand: Any, item: Any, root: Any) -> list[Any]:
    if isinstance(operand, tuple) and operand[:1] == ("literal",):
        return [operand[1]]
    return walk(operand, root, item)
