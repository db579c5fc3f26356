"""Reading a Dockerfile: lines into instructions, as Docker's parser splits them.

A Dockerfile is a list of instructions, one per logical line: ``KEYWORD arguments``, the
keyword in any case. A line ending in ``\\`` continues on the next one (the backslash and the
line break vanish, nothing else is inserted); a line whose first non-blank character is ``#``
is a comment, also in the middle of a continued instruction. Parser directives
(``# syntax=…``, ``# escape=…`` at the very top) are comments here too: the builder has one
syntax and the escape character is always ``\\``.

``RUN``, ``CMD``, ``ENTRYPOINT`` and ``SHELL`` come in two forms: the *exec* form is a JSON
array of strings (``CMD ["python3", "app.py"]``) and runs as written; anything else is the
*shell* form, a command line for ``/bin/sh -c``. ``COPY`` and ``ADD`` take the JSON form for
paths with blanks. Leading ``--name=value`` words are flags (``COPY --from=build``).

Variables (``$NAME``, ``${NAME}``, ``${NAME:-default}``…) are not replaced here: which ones
apply depends on where the build is (``substitution.py``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

# Keywords whose arguments may be a JSON array (the exec form).
JSON_FORMS = frozenset({"RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"})
FLAG = re.compile(r"--([a-zA-Z][a-zA-Z0-9-]*)(?:=(\S*))?$")


class DockerfileError(ValueError):
    """A Dockerfile the builder cannot read or run, with the line at fault."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(f"Dockerfile:{line}: {message}" if line else message)


@dataclass(frozen=True)
class Instruction:
    """One instruction: its keyword (upper case), flags, and arguments as written.

    ``exec_form`` holds the JSON array when the arguments were one; ``text`` is always the
    argument text after the flags (what the shell form runs)."""

    line: int
    keyword: str
    text: str
    flags: dict[str, str] = field(default_factory=dict)
    exec_form: list[str] | None = None
    original: str = ""

    def __str__(self) -> str:
        return self.original


def logical_lines(source: str) -> list[tuple[int, str]]:
    """(first line number, joined text) of every instruction: continuations joined,
    comments and blank lines dropped."""
    result: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(source.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and pending):
            continue  # a comment, or a blank line inside a continuation (Docker skips both)
        if not stripped:
            continue
        if not pending:
            start = number
        body = raw.rstrip()
        if body.endswith("\\"):
            pending.append(body[:-1])
            continue
        pending.append(raw)
        result.append((start, "".join(pending).strip()))
        pending = []
    if pending:  # a trailing backslash at the end of the file: Docker takes the text as is
        result.append((start, "".join(pending).strip()))
    return result


def _flags(line: int, rest: str) -> tuple[dict[str, str], str]:
    """Leading ``--name=value`` words, and what follows them."""
    flags: dict[str, str] = {}
    while rest.startswith("--"):
        word, _, after = rest.partition(" ")
        match = FLAG.match(word)
        if match is None:
            raise DockerfileError(line, f"invalid flag {word!r}")
        flags[match.group(1)] = match.group(2) if match.group(2) is not None else "true"
        rest = after.lstrip()
    return flags, rest


def _exec_form(text: str) -> list[str] | None:
    """The JSON array the text is, or None for the shell form (Docker's rule: a text that
    does not parse as an array of strings is a shell command, brackets and all)."""
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def parse(source: str) -> list[Instruction]:
    """The instructions of a Dockerfile's text; DockerfileError on a malformed line."""
    instructions: list[Instruction] = []
    for line, text in logical_lines(source):
        keyword, _, rest = text.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if "\t" in keyword:  # `RUN\techo` is legal: any blank separates the keyword
            keyword, _, more = keyword.partition("\t")
            rest = f"{more.strip()} {rest}".strip()
        if not re.fullmatch(r"[A-Z]+", keyword):
            raise DockerfileError(line, f"unknown instruction: {text.split()[0]}")
        flags: dict[str, str] = {}
        if keyword in {"COPY", "ADD", "FROM", "RUN", "HEALTHCHECK"}:
            flags, rest = _flags(line, rest)
        exec_form = _exec_form(rest) if keyword in JSON_FORMS else None
        instructions.append(Instruction(line, keyword, rest, flags, exec_form, text))
    if not instructions:
        raise DockerfileError(0, "the Dockerfile cannot be empty")
    return instructions
