"""Manifests as ``Cluster.apply`` takes them: YAML text, a dict, a list of dicts, or a file.

What ``kubectl apply -f`` reads: one or many YAML documents separated by ``---`` (empty ones
skipped), a ``kind: List`` whose ``items`` are the objects, or a directory of ``.yaml``,
``.yml`` and ``.json`` files in name order. A string is YAML text unless it is the path of an
existing file (a ``Path`` is always a path). Every object must name its ``apiVersion`` and
``kind``: without them nobody can tell what it is.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from minikube_py.client.protocol import Object
from minikube_py.cluster.settings import ClusterError

Manifest = str | Path | Mapping[str, Any] | Iterable[Mapping[str, Any]]
_SUFFIXES = (".yaml", ".yml", ".json")


def _yaml_documents(text: str, source: str) -> Iterator[Any]:
    try:
        yield from yaml.safe_load_all(text)
    except yaml.YAMLError as error:
        raise ClusterError(f"cannot read {source}: {error}") from None


def _files(path: Path) -> Iterator[Path]:
    if path.is_dir():
        yield from sorted(p for p in path.iterdir() if p.is_file() and p.suffix in _SUFFIXES)
    elif path.exists():
        yield path
    else:
        raise ClusterError(f'the path "{path}" does not exist')


def _flattened(document: Any, source: str) -> Iterator[Object]:
    if document is None:
        return
    if not isinstance(document, Mapping):
        raise ClusterError(f"{source}: a manifest must be a mapping, not {type(document).__name__}")
    # kubectl reads a List (or any <Kind>List, as `kubectl get -o yaml` writes) item by item
    if str(document.get("kind", "")).endswith("List") and isinstance(document.get("items"), list):
        for item in document["items"]:
            yield from _flattened(item, source)
        return
    obj = dict(document)
    if not obj.get("apiVersion") or not obj.get("kind"):
        raise ClusterError(f"{source}: an object needs apiVersion and kind: {_brief(obj)}")
    yield obj


def _brief(obj: Object) -> str:
    text = repr(obj)
    return text if len(text) <= 120 else text[:117] + "..."


def objects(manifest: Manifest) -> list[Object]:
    """The objects ``manifest`` holds, in order."""
    documents: list[tuple[Any, str]] = []
    if isinstance(manifest, str) and "\n" not in manifest and os.path.exists(manifest):
        manifest = Path(manifest)
    if isinstance(manifest, Path):
        for path in _files(manifest):
            documents += [(doc, str(path)) for doc in _yaml_documents(path.read_text(), str(path))]
    elif isinstance(manifest, str):
        documents = [(doc, "the manifest") for doc in _yaml_documents(manifest, "the manifest")]
    elif isinstance(manifest, Mapping):
        documents = [(manifest, "the manifest")]
    else:
        documents = [(doc, "the manifest") for doc in manifest]
    return [obj for document, source in documents for obj in _flattened(document, source)]
