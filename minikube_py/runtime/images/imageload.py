"""``image load``: an image saved by ``docker save`` (a tar) added to the store.

The tarball holds ``manifest.json`` — ``[{"Config": "<file>", "RepoTags": ["name:tag"],
"Layers": ["<dir>/layer.tar", …]}]`` — the config file it names (the OCI image config, whose
``config`` object has ``Entrypoint``, ``Cmd``, ``Env``, ``WorkingDir``, ``ExposedPorts``…) and
the layers, each a tar (maybe compressed) of the files it adds, changes or deletes (OCI
whiteouts). Docker 25+ writes the same manifest over an OCI layout (``blobs/sha256/…``), so
both read the same way. The layers are applied in order over an empty root, which is then
stored (``ImageStore.add_tree``) under every name in ``RepoTags``.

The programs inside a real image are usually linked against the image's own libraries and run
on the host here (no container), so only static binaries and scripts for the host's
interpreters are likely to run; the files are there either way.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from minikube_py.runtime.images.store import ImageStore

from .buildfiles import apply_layer

CONFIG_KEYS = (
    "Entrypoint",
    "Cmd",
    "Env",
    "WorkingDir",
    "ExposedPorts",
    "Labels",
    "User",
    "Volumes",
    "StopSignal",
)


class LoadError(ValueError):
    """The file is not an image tarball ``docker save`` writes."""


def _member(archive: tarfile.TarFile, name: str) -> bytes:
    try:
        reader = archive.extractfile(name)
    except KeyError:
        reader = None
    if reader is None:
        raise LoadError(f"the archive has no {name!r}: is it a `docker save` tarball?")
    with reader:
        return reader.read()


def load_image(store: ImageStore, path: Path) -> list[str]:
    """Add every image of the tarball at ``path`` to ``store``; returns the names tagged."""
    try:
        archive = tarfile.open(path, "r:*")  # noqa: SIM115 - closed by the `with` below
    except (OSError, tarfile.TarError) as error:
        raise LoadError(f"cannot read {path}: {error}") from None
    loaded: list[str] = []
    with archive, tempfile.TemporaryDirectory(prefix="image-load-") as scratch:
        text = _member(archive, "manifest.json")
        try:
            manifest = json.loads(text)
        except ValueError:
            raise LoadError("manifest.json is not valid JSON") from None
        if not isinstance(manifest, list) or not manifest:
            raise LoadError("manifest.json lists no image")
        for image in manifest:
            loaded += _load_one(store, archive, image, Path(scratch))
    return loaded


def _load_one(
    store: ImageStore, archive: tarfile.TarFile, image: dict[str, Any], scratch: Path
) -> list[str]:
    image_config = json.loads(_member(archive, str(image.get("Config", ""))))
    container = image_config.get("config") or {}
    config: dict[str, Any] = {key: container[key] for key in CONFIG_KEYS if container.get(key)}
    config.setdefault("WorkingDir", "/")
    staging = store.staging_area()
    try:
        root = staging / "rootfs"
        root.mkdir()
        for index, layer in enumerate(image.get("Layers") or []):
            # Layers are members of the tarball; tarfile reads a compressed one from a file.
            target = scratch / f"layer-{index}"
            target.write_bytes(_member(archive, str(layer)))
            apply_layer(root, target)
            target.unlink()
        names = [str(name) for name in image.get("RepoTags") or []]
        if not names:
            raise LoadError("the image has no name (RepoTags); save it with `docker save NAME`")
        stored = store.add_tree(names[0], staging, config)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for name in names[1:]:
        store.tag(name, stored.id)
    return names
