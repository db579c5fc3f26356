"""Writing into an image root: ``COPY`` and ``ADD`` placement, archives and image layers.

Paths inside an image are resolved as the container would see them: ``secure_join`` follows
symlinks *inside* the root (an absolute link target means the image's ``/``, not the host's),
so nothing a Dockerfile or a loaded image says can write outside the root.

``COPY src dest`` follows Docker's rules: a directory source copies its *contents*; a
destination ending in ``/`` (or an existing directory) receives files by their own names;
several sources need such a destination; missing parents are created; file modes are kept.
``ADD`` of a local tar archive (plain, gzip, bzip2 or xz) unpacks it into the destination
directory instead. An image layer is a tar applied over the root, where ``.wh.NAME`` deletes
NAME from the layers below and ``.wh..wh..opq`` empties its directory first (OCI whiteouts).
"""

from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path, PurePosixPath

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_LINKS = 40  # as the kernel's limit on nested symlinks


def secure_join(root: Path, path: str) -> Path:
    """``path`` (absolute in the image) under ``root``, symlinks resolved within the root."""
    resolved = PurePosixPath("/")
    pending = list(PurePosixPath("/", path).parts[1:])
    hops = 0
    while pending:
        part = pending.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            resolved = resolved.parent
            continue
        candidate = resolved / part
        host = root / str(candidate).lstrip("/")
        if host.is_symlink():
            hops += 1
            if hops > MAX_LINKS:
                raise OSError(f"too many levels of symbolic links at {candidate}")
            target = PurePosixPath(os.readlink(host))
            base = PurePosixPath("/") if target.is_absolute() else resolved
            pending = [*(base / target).parts[1:], *pending]
            resolved = PurePosixPath("/")
            continue
        resolved = candidate
    return root / str(resolved).lstrip("/")


def _place(source: Path, target: Path) -> None:
    """One path copied to ``target`` (replacing a file there; a directory is merged into)."""
    if source.is_symlink():
        if target.is_symlink() or target.is_file():
            target.unlink()
        os.symlink(os.readlink(source), target)
    elif source.is_dir():
        if target.is_symlink() or target.is_file():
            target.unlink()
        target.mkdir(parents=True, exist_ok=True)
        shutil.copymode(source, target)
    else:
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
        shutil.copy2(source, target)


def copy_tree(root: Path, paths: list[Path], source: Path, destination: str) -> None:
    """``paths`` (``source`` and what ``walk`` found under it) copied to ``destination``."""
    top = secure_join(root, destination)
    for path in paths:
        relative = path.relative_to(source).as_posix()
        target = top if relative == "." else secure_join(root, f"{destination}/{relative}")
        target.parent.mkdir(parents=True, exist_ok=True)
        _place(path, target)


def copy_file(root: Path, source: Path, destination: str, into_directory: bool) -> None:
    """A single file (or link) copied to ``destination`` or, as a directory, into it."""
    target = secure_join(root, destination)
    if into_directory or target.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        target = secure_join(root, f"{destination}/{source.name}")
    target.parent.mkdir(parents=True, exist_ok=True)
    _place(source, target)


def is_archive(path: Path) -> bool:
    """True for a tar archive Docker's ADD would unpack (any compression tarfile reads)."""
    if not path.is_file() or path.is_symlink():
        return False
    try:
        with tarfile.open(path, "r:*") as archive:
            return archive.next() is not None
    except (tarfile.TarError, OSError, EOFError):
        return False


def _safe_members(archive: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = []
    for member in archive.getmembers():
        name = os.path.normpath("/" + member.name).lstrip("/")
        if not name or name == ".":
            continue
        member.name = name
        if member.isdev():
            continue  # device nodes need privileges and mean nothing here
        members.append(member)
    return members


def extract(root: Path, archive_path: Path, destination: str) -> None:
    """Unpack an archive into ``destination`` inside ``root`` (ADD's local-archive rule)."""
    with tarfile.open(archive_path, "r:*") as archive:
        _extract_members(root, archive, destination, _safe_members(archive))


def _extract_members(
    root: Path, archive: tarfile.TarFile, destination: str, members: list[tarfile.TarInfo]
) -> None:
    for member in members:
        target = secure_join(root, f"{destination}/{member.name}")
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            target.unlink()
        elif target.is_dir() and not member.isdir():
            shutil.rmtree(target)
        if member.isdir():
            target.mkdir(exist_ok=True)
            target.chmod(member.mode & 0o7777 | 0o700)
        elif member.issym():
            os.symlink(member.linkname, target)
        elif member.islnk():
            linked = secure_join(root, f"{destination}/{os.path.normpath('/' + member.linkname)}")
            os.link(linked, target)
        elif member.isfile():
            reader = archive.extractfile(member)
            if reader is None:
                continue
            with reader, open(target, "wb") as out:
                shutil.copyfileobj(reader, out)
            target.chmod(member.mode & 0o777)


def apply_layer(root: Path, layer: Path) -> None:
    """Apply one image layer (a tar, maybe compressed) with its whiteouts over ``root``."""
    with tarfile.open(layer, "r:*") as archive:
        members = _safe_members(archive)
        kept = []
        for member in members:
            directory, _, name = member.name.rpartition("/")
            if name == OPAQUE:
                folder = secure_join(root, directory or "/")
                if folder.is_dir():
                    for child in folder.iterdir():
                        _remove(child)
            elif name.startswith(WHITEOUT):
                _remove(secure_join(root, f"{directory}/{name[len(WHITEOUT) :]}"))
            else:
                kept.append(member)
        _extract_members(root, archive, "/", kept)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
