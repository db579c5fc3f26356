"""Field validation: what happens to unknown, repeated and wrongly typed fields of a body.

A request says how strict to be with ``fieldValidation``: ``Strict`` (what kubectl sends)
refuses a body with unknown or duplicate fields, ``Warn`` (the default) accepts it and answers
with one ``Warning`` header per problem, ``Ignore`` accepts it silently. Unknown fields are
dropped in every mode but Strict. A field of the wrong JSON type is refused in every mode,
since Go could not have decoded it. Upstream's words differ by verb:

- POST / PUT: 400, ``Deployment in version "v1" cannot be handled as a Deployment: strict
  decoding error: duplicate field "spec.paused", unknown field "spec.foo"`` (or ``json: cannot
  unmarshal …``). JSON problems come in document order; a YAML body's repeated keys come first
  as go-yaml's ``yaml: unmarshal errors:`` block, then its unknown fields in key order.
- server-side apply (YAML): ``error strict decoding YAML: error converting YAML to JSON: yaml:
  unmarshal errors: …`` (400), or one warning per repeated key;
- PATCH: the patched object is decoded again, so its problems are about the patch: 422,
  ``"" is invalid: patch: Invalid value: "…": strict decoding error: …``, listing the patch's
  repeated keys first, then the unknown fields of the result in key order.
"""

from __future__ import annotations

from typing import Any

import attrs

from minikube_py.api import errors, schema, structural
from minikube_py.api.resources import ResourceType
from minikube_py.api.typecheck import type_error
from minikube_py.apiserver.duplicates import Duplicates
from minikube_py.apiserver.objects import patch_invalid
from minikube_py.apiserver.patchinput import go_text


def check_body(
    rt: ResourceType, body: Any, mode: str, warnings: list[str], duplicates: Duplicates
) -> Any:
    """A POST or PUT body after ``fieldValidation``; 400 for what it may not carry."""
    if not isinstance(body, dict):
        return body
    wrong = type_error(rt.group, rt.version, rt.kind, body)
    if wrong is not None:
        raise errors.bad_request(_cannot_handle(rt, body) + wrong)
    position = _positions(body) if duplicates.paths and mode != "Ignore" else {}
    unknown = _unknown(rt, body, drop=mode != "Strict")
    if mode == "Ignore":
        return body
    if duplicates.yaml_lines:
        block = "yaml: unmarshal errors:\n  " + "\n  ".join(duplicates.yaml_lines)
        problems = [block, *_unknown_words(sorted(unknown, key=_key_order))]
        shown = [*duplicates.yaml_lines, *problems[1:]]
    else:
        problems = shown = _in_document_order(position, unknown, duplicates.paths)
    if problems and mode == "Strict":
        words = ", ".join(problems)
        raise errors.bad_request(f"{_cannot_handle(rt, body)}strict decoding error: {words}")
    warnings.extend(shown)
    return body


@attrs.frozen
class PatchFindings:
    """What a patch body carries that Strict refuses, and how upstream shows the patch."""

    problems: list[str]
    shown: str | None = None  # None: the patched object as JSON


def patch_problems(content_type: str, patch: Any, duplicates: Duplicates) -> PatchFindings:
    """What a patch body itself repeats (or, for a JSON patch, what its operations carry)."""
    if "json-patch" in content_type:
        problems = [f'json patch duplicate field "{path}"' for path in duplicates.paths]
        for index, operation in enumerate(patch if isinstance(patch, list) else []):
            if isinstance(operation, dict):
                problems.extend(
                    f'json patch unknown field "[{index}].{key}"'
                    for key in operation
                    if key not in ("op", "path", "from", "value")
                )
        problems.sort(key=lambda text: int(text.split('"[', 1)[1].split("]", 1)[0]))
        return PatchFindings(problems)
    if duplicates.yaml_lines:
        return PatchFindings(["yaml: unmarshal errors:\n  " + "\n  ".join(duplicates.yaml_lines)])
    problems = [f'duplicate field "{path}"' for path in duplicates.paths]
    strategic = "strategic" in content_type and isinstance(patch, dict)
    return PatchFindings(problems, go_text(patch) if strategic else None)


def check_patched(
    rt: ResourceType, patched: Any, mode: str, warnings: list[str], findings: PatchFindings
) -> Any:
    """A patched object after ``fieldValidation``; 422 naming the patch when Strict refuses.

    The patch's own problems (``patch_problems``) come first, then the result's unknown fields.
    """
    if not isinstance(patched, dict):
        return patched
    unknown = _unknown(rt, patched, drop=mode != "Strict")
    if mode == "Ignore":
        return patched
    found = [*findings.problems, *_unknown_words(sorted(unknown, key=_key_order))]
    if found and mode == "Strict":
        detail = "strict decoding error: " + ", ".join(found)
        raise patch_invalid(patched, detail, value=findings.shown)
    warnings.extend(found)
    return patched


def check_apply_duplicates(mode: str, warnings: list[str], duplicates: Duplicates) -> None:
    """Server-side apply reads its YAML strictly again: 400 (Strict) or one warning a line."""
    if not duplicates.yaml_lines or mode == "Ignore":
        return
    if mode == "Strict":
        block = "yaml: unmarshal errors:\n  " + "\n  ".join(duplicates.yaml_lines)
        raise errors.bad_request(
            f"error strict decoding YAML: error converting YAML to JSON: {block}"
        )
    warnings.extend(duplicates.yaml_lines)


def _unknown(rt: ResourceType, obj: dict[str, Any], *, drop: bool) -> list[str]:
    if rt.schema is not None:  # a custom resource: what its CRD's structural schema prunes
        return structural.unknown_fields(rt.schema, obj, drop=drop)
    return schema.unknown_fields(rt.group, rt.version, rt.kind, obj, drop=drop)


def _cannot_handle(rt: ResourceType, body: dict[str, Any]) -> str:
    kind = body.get("kind") if isinstance(body.get("kind"), str) and body["kind"] else rt.kind
    api_version = body.get("apiVersion")
    version = api_version.rpartition("/")[2] if isinstance(api_version, str) else rt.version
    return f'{kind} in version "{version or rt.version}" cannot be handled as a {rt.kind}: '


def _unknown_words(paths: list[str]) -> list[str]:
    return [f'unknown field "{path}"' for path in paths]


def _key_order(path: str) -> tuple[Any, ...]:
    """Where ``path`` comes when keys are visited sorted, as Go's maps serialise them."""
    parts: list[Any] = []
    for piece in path.replace("[", ".[").split("."):
        if piece.startswith("[") and piece.endswith("]") and piece[1:-1].isdigit():
            parts.append((1, int(piece[1:-1]), ""))
        elif piece:
            parts.append((0, 0, piece))
    return tuple(parts)


def _in_document_order(
    position: dict[str, int], unknown: list[str], repeated: list[str]
) -> list[str]:
    """Unknown and repeated fields as Go meets them reading the body (unknown wins a tie)."""
    if not repeated:
        return _unknown_words(unknown)
    dropped = set(unknown)
    words = {path: f'duplicate field "{path}"' for path in repeated if path not in dropped}
    words.update((path, f'unknown field "{path}"') for path in unknown)
    last = len(position)
    return [words[path] for path in sorted(words, key=lambda path: position.get(path, last))]


def _positions(body: Any) -> dict[str, int]:
    """Each path of ``body`` numbered in document order."""
    position: dict[str, int] = {}
    _number_paths(body, "", position)
    return position


def _number_paths(value: Any, path: str, position: dict[str, int]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            position.setdefault(where, len(position))
            _number_paths(item, where, position)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _number_paths(item, f"{path}[{index}]", position)
