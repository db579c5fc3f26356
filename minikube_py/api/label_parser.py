"""The label selector text grammar: ``kubectl get -l 'app=web,env in (prod,staging)'``.

This is a port of upstream's hand-written lexer and recursive-descent parser
(``k8s.io/apimachinery/pkg/labels``), kept close to the original so that the same text is
accepted or rejected with the same message. The lexer splits the text into identifiers, the
keywords ``in`` / ``notin`` and the symbols ``( ) , ! = == != > <``; the parser reads a
comma-separated list of requirements:

- ``key`` and ``!key`` — the label exists, or does not;
- ``key=value``, ``key==value``, ``key!=value``, ``key>1``, ``key<9`` — one value, which may
  be empty (``key=``);
- ``key in (a,b)``, ``key notin (a,b)`` — a set of values, where an empty slot (``(a,)``)
  names the empty value.

Every requirement is checked by ``new_requirement`` (``label_requirements``), so a bad key or
value is reported as upstream reports it. ``parse_requirements`` is the entry point;
``LabelSelector.parse`` (``selectors``) calls it.
"""

from __future__ import annotations

from minikube_py.api.label_requirements import Requirement, new_requirement
from minikube_py.api.validation_causes import go_quote
from minikube_py.api.validation_formats import is_qualified_name

_SPECIAL = frozenset("=!(),><")
_SPACE = frozenset(" \t\r\n")
# A token is named by its text ("!=", "in", "("), except identifiers ("ID") and the end ("END").
_SYMBOLS = frozenset(["(", ")", ",", "!", "=", "==", "!=", ">", "<"])
_OPERATORS = {"in": "in", "notin": "notin", "=": "=", "==": "==", "!=": "!=", ">": "gt", "<": "lt"}
_BINARY = "in, notin, =, ==, !=, gt, lt"
_END = "\x00"  # Go's lexer reads 0 at the end and treats a NUL byte the same way


def parse_requirements(text: str) -> list[Requirement]:
    """Parse ``kubectl -l`` syntax; raises ``ValueError`` with upstream's message."""
    return _Parser(text).parse()


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
