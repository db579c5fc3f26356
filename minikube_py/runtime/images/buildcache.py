"""The build cache: the result of every build step, keyed by everything that step depends on.

A step's key is a sha256 over its parent's key (the base image's id for ``FROM``), the
instruction with its variables replaced, and what else it reads: the digest of the files a
``COPY`` takes from the context, or the environment a ``RUN`` sees. Equal key, equal result:
an unchanged rebuild finds every step here and runs nothing; changing one file re-runs only
the steps from the first ``COPY`` that reads it, as Docker's layer cache does.

An entry is a directory ``build-cache/<key>/`` with ``state.json`` (the image config after the
step, and the id of the finished image when the step was a build's last) and, for steps that
changed files, ``rootfs/`` — a full copy of the tree after the step (images here are small;
copies keep entries independent of each other and of the store). Entries are written beside
their final place and renamed in, so a crashed build never leaves a half entry.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def step_key(parent: str, instruction: str, *inputs: str) -> str:
    """The key of a step: its parent, what it says, and what it reads."""
    digest = hashlib.sha256(parent.encode())
    for part in (instruction, *inputs):
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Entry:
    """A cached step: the config after it, its tree (if it changed files), the image made."""

    key: str
    config: dict[str, Any]
    root: Path | None
    image_id: str | None


class BuildCache:
    """Cached build steps under one directory (``<image store>/build-cache``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def get(self, key: str) -> Entry | None:
        folder = self.directory / key
        try:
            state = json.loads((folder / "state.json").read_text())
        except (OSError, ValueError):
            return None
        root = folder / "rootfs"
        return Entry(key, state["config"], root if root.is_dir() else None, state.get("image_id"))

    def put(self, key: str, config: dict[str, Any], root: Path | None) -> Entry:
        """Record a step's result; ``root`` (the tree after it) is copied, not moved."""
        self.directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="entry-", dir=self.directory))
        try:
            if root is not None:
                shutil.copytree(root, staging / "rootfs", symlinks=True)
            (staging / "state.json").write_text(json.dumps({"config": config}, sort_keys=True))
            try:
                staging.rename(self.directory / key)
            except OSError:  # another build stored the same key meanwhile: the same result
                shutil.rmtree(staging, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        entry = self.get(key)
        assert entry is not None
        return entry

    def remember_image(self, key: str, image_id: str) -> None:
        """Note that the build whose last step is ``key`` produced ``image_id``."""
        path = self.directory / key / "state.json"
        state = json.loads(path.read_text())
        state["image_id"] = image_id
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, sort_keys=True))
        temporary.replace(path)
