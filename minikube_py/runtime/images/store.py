"""The local image store: content-addressed image roots, OCI-style configs and a tag index.

An image is a file tree (its root) plus a config naming how to run it: ``Entrypoint``, ``Cmd``,
``Env``, ``WorkingDir`` and ``ExposedPorts``, as the OCI image config spells them. Its id is the
``sha256:`` of that content, so the same content is stored once and a changed image gets a new
id. Layout under the store directory::

    images/<hex>/rootfs/...     the image's files (never modified by containers)
    images/<hex>/config.json    the config
    tags.json                   {"docker.io/library/nginx:latest": "sha256:<hex>", ...}

A file path ending in ``/`` stands for an empty directory (an image's ``/tmp``); the
``WorkingDir`` is created as Docker creates it.

Built-in images are materialised lazily on first use: their programs are small Python scripts
(``builtin/``) copied into the root and run with the host interpreter. Materialising is cached
per store, so a pod start costs a dictionary lookup after the first time.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .builtin.catalog import CATALOG
from .builtin.catalog import REPOSITORIES as BUILTIN_REPOSITORIES
from .references import ImageNotFound, parse, resolve_builtin


@dataclass(frozen=True)
class Image:
    """One stored image: its id, root directory and config."""

    id: str
    root: Path
    config: dict[str, Any]


def _builtin(name: str, tag: str) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The files and config of the built-in image ``name`` at ``tag`` (``builtin.catalog``)."""
    image = CATALOG.get(name)
    if image is None:
        raise ImageNotFound(name)
    return image.files(), image.config(tag)


def content_id(files: dict[str, bytes], config: dict[str, Any]) -> str:
    """``sha256:`` over the sorted files and the canonical config: equal content, equal id."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
    digest.update(json.dumps(config, sort_keys=True).encode())
    return f"sha256:{digest.hexdigest()}"


def tree_id(root: Path, config: dict[str, Any]) -> str:
    """``sha256:`` over a file tree (names, modes, contents, link targets) and the config."""
    digest = hashlib.sha256()
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted([*dirnames, *filenames]):
            path = Path(directory) / name
            info = path.lstat()
            relative = path.relative_to(root).as_posix()
            digest.update(f"{relative}\0{info.st_mode:o}\0".encode())
            if stat.S_ISLNK(info.st_mode):
                digest.update(os.readlink(path).encode())
            elif stat.S_ISREG(info.st_mode):
                with open(path, "rb") as file:
                    digest.update(hashlib.file_digest(file, "sha256").digest())
    digest.update(json.dumps(config, sort_keys=True).encode())
    return f"sha256:{digest.hexdigest()}"


class ImageStore:
    """Images under one directory; see the module docstring for the layout.

    Other processes (``minikube-py image build`` beside a running cluster) may tag images in
    the same directory: the tag file is replaced atomically, and a changed file (a new inode)
    empties this instance's cache, so a rebuilt ``NAME:TAG`` is seen by the next pull."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: dict[str, Image] = {}
        self._stamp: tuple[int, int] | None = None

    def _tags(self) -> dict[str, str]:
        path = self.directory / "tags.json"
        return dict(json.loads(path.read_text())) if path.exists() else {}

    def _fresh(self) -> None:
        """Forget cached answers once another writer replaced the tag file."""
        try:
            info = (self.directory / "tags.json").stat()
            stamp: tuple[int, int] | None = (info.st_ino, info.st_mtime_ns)
        except OSError:
            stamp = None
        if stamp != self._stamp:
            self._cache.clear()
            self._stamp = stamp

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise read-modify-write of the tag file between processes (flock)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "tags.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _write_tags(self, tags: dict[str, str]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.directory / "tags.json.tmp"
        temporary.write_text(json.dumps(tags, indent=1, sort_keys=True))
        os.replace(temporary, self.directory / "tags.json")  # readers never see half a file

    def _load(self, image_id: str) -> Image:
        folder = self.directory / "images" / image_id.removeprefix("sha256:")
        config = json.loads((folder / "config.json").read_text())
        return Image(image_id, folder / "rootfs", config)

    def add(self, reference: str, files: dict[str, bytes], config: dict[str, Any]) -> Image:
        """Store an image's files and config (once per content) and tag it ``reference``."""
        image_id = content_id(files, config)
        folder = self.directory / "images" / image_id.removeprefix("sha256:")
        if not folder.exists():
            # Build beside the final place and rename, so a crash never leaves half an image.
            (self.directory / "images").mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=self.directory / "images"))
            for relative, data in files.items():
                target = staging / "rootfs" / relative
                if relative.endswith("/"):  # an empty directory, like an image's /tmp
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                target.chmod(0o755)
            # Docker creates WORKDIR even when no file lives there (redis's /data).
            (staging / "rootfs" / str(config.get("WorkingDir") or "/").lstrip("/")).mkdir(
                parents=True, exist_ok=True
            )
            (staging / "config.json").write_text(json.dumps(config, indent=1, sort_keys=True))
            try:
                staging.rename(folder)
            except OSError:  # someone else stored the same content first: theirs is equal
                shutil.rmtree(staging)
        self.tag(reference, image_id)
        return self._load(image_id)

    def get(self, reference: str) -> Image:
        """The image ``reference`` names, materialising a built-in one on first use."""
        key = str(parse(reference))
        self._fresh()
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        image_id = self._tags().get(key)
        if image_id is not None:
            image = self._load(image_id)
        else:
            try:
                files, config = _builtin(resolve_builtin(reference), parse(reference).tag)
            except ImageNotFound:
                raise ImageNotFound(reference) from None  # name what the user asked for
            image = self.add(reference, files, config)
        self._cache[key] = image
        return image

    def add_tree(self, reference: str, staging: Path, config: dict[str, Any]) -> Image:
        """Store the tree ``staging/rootfs`` (moved, not copied: ``staging`` must be on the
        store's file system, see ``staging_area``) with ``config``, and tag it."""
        image_id = tree_id(staging / "rootfs", config)
        folder = self.directory / "images" / image_id.removeprefix("sha256:")
        (staging / "config.json").write_text(json.dumps(config, indent=1, sort_keys=True))
        if folder.exists():
            shutil.rmtree(staging)
        else:
            try:
                staging.rename(folder)  # atomic: a running cluster never sees half an image
            except OSError:  # stored by someone else meanwhile: the same content
                shutil.rmtree(staging)
        self.tag(reference, image_id)
        return self._load(image_id)

    def staging_area(self) -> Path:
        """A new empty directory inside the store, for building a tree to ``add_tree``."""
        (self.directory / "images").mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="building-", dir=self.directory / "images"))

    def local(self, reference: str) -> str | None:
        """The id of ``reference`` if it was built or loaded into this store, else None.

        The kubelet asks this before pulling (CRI ``ImageStatus``): such an image is on the
        node already, so ``imagePullPolicy: Never`` / ``IfNotPresent`` run it without a pull.
        Built-in images are not "local" until pulled: their first use shows the pull events."""
        try:
            key = parse(reference)
        except ValueError:
            return None
        if key.repository in BUILTIN_REPOSITORIES:
            return None
        return self._tags().get(str(key))

    def has(self, image_id: str) -> bool:
        folder = self.directory / "images" / image_id.removeprefix("sha256:")
        return (folder / "config.json").is_file()

    def tag(self, reference: str, image_id: str) -> None:
        """Point ``reference`` at the stored image ``image_id``."""
        with self._locked():
            tags = self._tags()
            tags[str(parse(reference))] = image_id
            self._write_tags(tags)
        self._cache.pop(str(parse(reference)), None)

    def inspect(self, reference: str) -> dict[str, Any]:
        image = self.get(reference)
        return {"Id": image.id, "RepoTags": self._names(image.id), "Config": image.config}

    def _names(self, image_id: str) -> list[str]:
        return sorted(name for name, tagged in self._tags().items() if tagged == image_id)

    def list(self) -> list[tuple[str, str]]:
        """(reference, image id) for every tag, sorted by reference."""
        return sorted(self._tags().items())

    def remove(self, reference: str) -> None:
        """Untag ``reference``; delete the image's files once no tag names it."""
        key = str(parse(reference))
        with self._locked():
            tags = self._tags()
            image_id = tags.pop(key, None)
            if image_id is None:
                raise ImageNotFound(reference)
            self._write_tags(tags)
        self._cache.pop(key, None)
        if image_id not in tags.values():
            shutil.rmtree(self.directory / "images" / image_id.removeprefix("sha256:"))
