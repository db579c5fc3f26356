"""Variables and quotes in Dockerfile arguments, replaced as Docker's shell-like lexer does.

``FROM``, ``COPY``, ``ADD``, ``ENV``, ``ARG``, ``LABEL``, ``EXPOSE``, ``USER``, ``WORKDIR``,
``VOLUME`` and ``STOPSIGNAL`` see variables: ``$NAME`` and ``${NAME}`` give the value (empty
when unset); ``${NAME:-word}`` gives ``word`` when NAME is unset or empty (``${NAME-word}``:
only when unset); ``${NAME:+word}`` gives ``word`` when NAME is set and not empty (``+``:
when set); ``${NAME:?message}`` fails the build when NAME is unset or empty. ``word`` itself
may hold variables. Quotes group and vanish: single quotes keep everything literal, double
quotes still replace variables; a backslash makes the next character literal (inside double
quotes only before ``"``, ``$`` and ``\\``). ``RUN``, ``CMD`` and ``ENTRYPOINT`` are left
alone: their shell (or nobody, in the exec form) does that.
"""

from __future__ import annotations

from collections.abc import Mapping

NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class SubstitutionError(ValueError):
    """A ``${…}`` the lexer cannot read, or a ``${NAME:?message}`` that fired."""


class _Lexer:
    def __init__(self, text: str, env: Mapping[str, str]) -> None:
        self.text, self.env, self.pos = text, env, 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        self.pos += 1
        return char

    def word(self, stop: str = "") -> str:
        """Characters up to the end (or an unquoted ``stop``), quotes and variables done."""
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.peek()
            if stop and char in stop:
                break
            self.pos += 1
            if char == "'":
                end = self.text.find("'", self.pos)
                if end < 0:
                    raise SubstitutionError("unexpected end of statement while looking for '")
                out.append(self.text[self.pos : end])
                self.pos = end + 1
            elif char == '"':
                out.append(self.double_quoted())
            elif char == "\\":
                out.append(self.take())
            elif char == "$":
                out.append(self.dollar())
            else:
                out.append(char)
        return "".join(out)

    def double_quoted(self) -> str:
        out: list[str] = []
        while True:
            char = self.take()
            if not char:
                raise SubstitutionError('unexpected end of statement while looking for "')
            if char == '"':
                return "".join(out)
            if char == "\\" and self.peek() in ('"', "$", "\\"):
                out.append(self.take())
            elif char == "$":
                out.append(self.dollar())
            else:
                out.append(char)

    def name(self) -> str:
        start = self.pos
        while self.peek() and self.peek() in NAME_CHARS:
            self.pos += 1
        return self.text[start : self.pos]

    def dollar(self) -> str:
        if self.peek() != "{":
            name = self.name()
            return self.env.get(name, "") if name else "$"
        self.pos += 1
        name = self.name()
        if not name:
            raise SubstitutionError(f"bad substitution in {self.text!r}")
        operator = self.take()
        if operator == "}":
            return self.env.get(name, "")
        colon = operator == ":"
        if colon:
            operator = self.take()
        if operator not in ("-", "+", "?"):
            raise SubstitutionError(f"unsupported modifier ({operator}) in substitution")
        word = self.word(stop="}")
        if self.take() != "}":
            raise SubstitutionError(f"missing '}}' in {self.text!r}")
        value = self.env.get(name)
        present = value is not None and (value != "" or not colon)
        if operator == "-":
            return value if present and value is not None else word
        if operator == "+":
            return word if present else ""
        if not present:
            raise SubstitutionError(f"{name}: {word or 'is not allowed to be empty'}")
        return value or ""


def expand(text: str, env: Mapping[str, str]) -> str:
    """One word with its quotes removed and its variables replaced."""
    return _Lexer(text, env).word()


def split_words(text: str) -> list[str]:
    """Blank-separated words, quotes and backslashes kept (a quoted blank does not split),
    as Docker splits ``ENV a="x y" b=z`` before replacing anything."""
    words: list[str] = []
    current: list[str] = []
    quote = ""
    escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\" and quote != "'":
            current.append(char)
            escaped = True
        elif quote:
            current.append(char)
            if char == quote:
                quote = ""
        elif char in "'\"":
            current.append(char)
            quote = char
        elif char.isspace():
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(char)
    if current:
        words.append("".join(current))
    return words


def pairs(text: str, env: Mapping[str, str], keyword: str) -> list[tuple[str, str]]:
    """``ENV``/``LABEL``/``ARG`` arguments as (name, value): ``k=v k2="v 2"``, or the old
    ``ENV name value with blanks`` form (one pair, the rest of the line its value)."""
    words = split_words(text)
    if not words:
        raise SubstitutionError(f"{keyword} requires at least one argument")
    if "=" not in words[0]:
        if keyword == "ARG":
            return [(expand(words[0], env), "")]
        name, _, value = text.strip().partition(" ")
        if not value.strip():
            raise SubstitutionError(f"{keyword} names can not be blank")
        return [(name, expand(value.strip(), env))]
    result: list[tuple[str, str]] = []
    for word in words:
        name, equals, value = word.partition("=")
        if not equals:
            raise SubstitutionError(f"{keyword} expects key=value pairs, got {word!r}")
        result.append((expand(name, env), expand(value, env)))
    return result
