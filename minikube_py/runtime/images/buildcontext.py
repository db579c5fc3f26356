"""The build context: the directory ``COPY`` and ``ADD`` read from, minus ``.dockerignore``.

``.dockerignore`` holds one pattern a line, matched against paths relative to the context
(``#`` starts a comment, a leading ``/`` is dropped, paths are cleaned). ``*`` and ``?`` do
not cross ``/``; ``**`` matches any number of directories; ``[a-z]`` a class. A pattern that
matches a directory excludes everything under it. ``!pattern`` re-includes what it matches, and
the last matching line decides, as Docker's pattern matcher does.

A ``COPY`` source is a path or glob (same syntax) relative to the context; it must not leave
the context. ``sources`` resolves one to the files it names (excluded ones are invisible, as
if never sent to a Docker daemon) and ``digest`` hashes them (path, mode and content) for the
build cache.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

GLOB_CHARS = frozenset("*?[")


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A pattern as a regular expression over ``/``-separated relative paths."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**", index):
            index += 2
            if pattern.startswith("/", index):  # `**/` : any directories, or none
                out.append("(?:.*/)?")
                index += 1
            else:
                out.append(".*")
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end < 0:
                out.append(re.escape(char))
            else:
                body = pattern[index + 1 : end]
                body = "^" + body[1:] if body.startswith("!") else body
                out.append(f"[{body.replace(chr(92), chr(92) * 2)}]")
                index = end
        elif char == "\\" and index + 1 < len(pattern):
            index += 1
            out.append(re.escape(pattern[index]))
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("".join(out) + r"\Z")


@dataclass(frozen=True)
class _Rule:
    regex: re.Pattern[str]
    include: bool


class Ignore:
    """The ``.dockerignore`` rules of one context."""

    def __init__(self, lines: list[str]) -> None:
        self.rules: list[_Rule] = []
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            include = line.startswith("!")
            line = line[1:].strip() if include else line
            cleaned = os.path.normpath(line.lstrip("/")) if line.lstrip("/") else "."
            if cleaned == ".":
                continue  # Docker ignores a pattern meaning "the whole context"
            self.rules.append(_Rule(_pattern_regex(cleaned), include))

    @classmethod
    def of(cls, context: Path) -> Ignore:
        path = context / ".dockerignore"
        return cls(path.read_text().splitlines() if path.is_file() else [])

    def excluded(self, relative: str) -> bool:
        """True if ``relative`` (or a directory above it) is matched, last rule deciding."""
        parts = relative.split("/")
        prefixes = ["/".join(parts[: count + 1]) for count in range(len(parts))]
        verdict = False
        for rule in self.rules:
            if any(rule.regex.match(prefix) for prefix in prefixes):
                verdict = not rule.include
        return verdict


class ContextError(ValueError):
    """A source that is missing, excluded, or outside the context."""


@dataclass(frozen=True)
class Source:
    """One file tree a COPY source names: its path and where its own name starts."""

    path: Path
    is_dir: bool


def sources(root: Path, pattern: str, ignore: Ignore | None) -> list[Source]:
    """The files and directories ``pattern`` names under ``root`` (sorted, as Docker)."""
    cleaned = os.path.normpath("/" + pattern).lstrip("/")
    if any(char in GLOB_CHARS for char in cleaned):
        names = sorted(glob.glob(cleaned, root_dir=root, include_hidden=True))
    else:
        names = [cleaned] if cleaned and (os.path.lexists(root / cleaned)) else []
        if not cleaned:
            names = ["."]
    found = [
        Source(root / name, (root / name).is_dir())
        for name in names
        if ignore is None or name == "." or not ignore.excluded(name)
    ]
    if not found:
        raise ContextError(
            f'"{pattern}": not found (no such file in the build context, or excluded by'
            " .dockerignore)"
        )
    return found


def walk(source: Source, root: Path, ignore: Ignore | None) -> list[Path]:
    """Every path under ``source`` that is not excluded (the source itself first)."""
    paths = [source.path]
    if not source.is_dir:
        return paths
    for directory, dirnames, filenames in os.walk(source.path):
        dirnames.sort()
        for name in [*dirnames, *sorted(filenames)]:
            path = Path(directory) / name
            if ignore is not None and ignore.excluded(path.relative_to(root).as_posix()):
                continue
            paths.append(path)
        dirnames[:] = [
            name
            for name in dirnames
            if ignore is None
            or not ignore.excluded((Path(directory) / name).relative_to(root).as_posix())
            or any(rule.include for rule in ignore.rules)  # a `!` rule may re-include below
        ]
    return paths


def digest(paths: list[Path], root: Path) -> str:
    """sha256 over the paths' names, modes and contents (link targets for symlinks)."""
    hasher = hashlib.sha256()
    for path in paths:
        info = path.lstat()
        hasher.update(f"{path.relative_to(root).as_posix()}\0{info.st_mode:o}\0".encode())
        if stat.S_ISLNK(info.st_mode):
            hasher.update(os.readlink(path).encode())
        elif stat.S_ISREG(info.st_mode):
            with open(path, "rb") as file:
                hasher.update(hashlib.file_digest(file, "sha256").digest())
    return hasher.hexdigest()
