"""Duplicate keys in request bodies, found the way upstream's strict decoders report them.

JSON and YAML parsers keep the last of two equal keys in one object, silently; Go's strict
decoders used by the API server (``fieldValidation=Strict`` or ``Warn``) report them instead:

- JSON, by path: ``duplicate field "spec.paused"`` (a field that is also unknown is reported
  only as unknown); in a JSON patch, only the operations' own keys count:
  ``json patch duplicate field "[1].path"``;
- YAML, by line, as go-yaml words it: ``line 14: key "paused" already set in map``.

Most bodies have no duplicates, so JSON is checked cheaply first: each member is written
``"key":``, so a body shows as many ``":`` as the parsed object re-serialised, unless a key
was repeated (or the body spells things unusually: whitespace before a colon, Unicode escapes).
Only a body that fails this count is parsed again, slowly, with a hook that records where its
repeated keys are.
"""

from __future__ import annotations

import json
import re
from typing import Any

import attrs
import yaml

from minikube_py.apiserver.objects import dump_json


@attrs.define
class Duplicates:
    """What one body repeats: JSON paths, or go-yaml's ``line N: key … already set`` lines."""

    paths: list[str] = attrs.field(factory=list)
    yaml_lines: list[str] = attrs.field(factory=list)

    def __bool__(self) -> bool:
        return bool(self.paths or self.yaml_lines)


# a colon after whitespace, or a \u escape, makes the quick count unreliable
_UNUSUAL = re.compile(rb'"\s+:|\\u')


def json_duplicates(raw: bytes, parsed: Any) -> list[str]:
    """Paths of the repeated keys of a JSON body (``parsed`` is what the fast parser made)."""
    if not isinstance(parsed, (dict, list)):
        return []
    # every member is `"key":`, so a parse that lost none shows as many of them re-serialised
    if not _UNUSUAL.search(raw) and raw.count(b'":') == dump_json(parsed).count(b'":'):
        return []
    found: list[str] = []
    _walk(json.loads(raw, object_pairs_hook=_Tagged.of), "", found)
    return found


def json_patch_duplicates(raw: bytes, parsed: Any) -> list[str]:
    """In a JSON patch only the operations' own keys count (``[1].path``)."""
    return [path for path in json_duplicates(raw, parsed) if _OPERATION_KEY.fullmatch(path)]


_OPERATION_KEY = re.compile(r"\[\d+\]\.[^.\[]+")


class _Tagged(dict[str, Any]):
    """A parsed JSON object that remembers which of its keys came more than once."""

    repeated: list[str]

    @classmethod
    def of(cls, pairs: list[tuple[str, Any]]) -> _Tagged:
        tagged = cls(pairs)
        tagged.repeated = []
        if len(tagged) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen and key not in tagged.repeated:
                    tagged.repeated.append(key)
                seen.add(key)
        return tagged


def _walk(value: Any, path: str, found: list[str]) -> None:
    if isinstance(value, _Tagged):
        found.extend(f"{path}.{key}" if path else key for key in value.repeated)
        for key, item in value.items():
            _walk(item, f"{path}.{key}" if path else key, found)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, f"{path}[{index}]", found)


class _RecordingLoader(yaml.SafeLoader):
    """PyYAML's safe loader, noting each key a mapping repeats (the last one still wins)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.repeated: list[tuple[int, str]] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                repeated = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: the constructor below refuses it
                continue
            if repeated:
                shown = f'"{key}"' if isinstance(key, str) else str(key)
                line = key_node.start_mark.line + 1
                self.repeated.append((line, f"line {line}: key {shown} already set in map"))
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, duplicates: Duplicates | None) -> Any:
    """A YAML document; its repeated keys go to ``duplicates`` (in line order) when given."""
    try:
        return _load_yaml(text, duplicates)
    except yaml.YAMLError:
        if "\t" not in text or not text.lstrip().startswith(("{", "[")):
            raise
        # JSON is YAML, but JSON may indent with tabs, which PyYAML (unlike go-yaml) refuses
        # outside strings; JSON strings hold no raw tabs, so spaces change nothing else.
        return _load_yaml(text.replace("\t", " "), duplicates)


def _load_yaml(text: str, duplicates: Duplicates | None) -> Any:
    if duplicates is None:
        return yaml.safe_load(text)
    loader = _RecordingLoader(text)
    try:
        body = loader.get_single_data()
    finally:
        loader.dispose()
    duplicates.yaml_lines.extend(line for _, line in sorted(loader.repeated))
    return body
