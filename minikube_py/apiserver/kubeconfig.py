"""Kubeconfig files: where ``kubectl`` finds a cluster and which credentials it presents.

A kubeconfig is YAML with three lists of named entries: ``clusters`` (a server URL and the CA
to trust it by), ``users`` (credentials: here a client certificate and key) and ``contexts``
(a cluster, a user and a default namespace), plus ``current-context``, the context kubectl
uses unless told otherwise. Like minikube, each profile gets one cluster, one user and one
context, all named after the profile, and ``start`` makes that context current.

Most people keep one kubeconfig for every cluster they use, so ``write_kubeconfig`` merges
into it: the first entry of ``$KUBECONFIG`` if set, else ``~/.kube/config``. Only the three
entries of the profile are added or replaced; every other entry and field stays as it was.
Credentials are referenced by absolute path, as minikube does, so a reissued certificate is
picked up without rewriting the file. The file is replaced atomically with mode 0600 while
holding ``<file>.lock``, the lock ``kubectl config`` itself takes, so neither loses the
other's edit. A file that is not a valid kubeconfig is reported, never overwritten.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from minikube_py.apiserver.pki import Pki

_SECTIONS = ("clusters", "users", "contexts")
# kubectl fails at once when the lock exists; we wait a little, since its edits are quick.
_LOCK_TIMEOUT = 5.0


def default_kubeconfig_path() -> Path:
    """The file kubectl reads first: the first entry of ``$KUBECONFIG``, else ~/.kube/config."""
    for entry in os.environ.get("KUBECONFIG", "").split(os.pathsep):
        if entry:
            return Path(entry)
    return Path.home() / ".kube" / "config"


def write_kubeconfig(
    *,
    profile: str,
    server: str,
    pki: Pki,
    path: Path | None = None,
    set_current: bool = True,
) -> Path:
    """Record ``profile``'s cluster, admin user and context; returns the file written.

    With ``path`` the file holds this profile alone; without, the entries are merged into the
    default kubeconfig. A namespace the user chose for the context (``kubectl config
    set-context --current --namespace=…``) survives a restart.
    """
    cluster = {"certificate-authority": str(pki.ca_cert.resolve()), "server": server}
    user = {
        "client-certificate": str(pki.client_cert.resolve()),
        "client-key": str(pki.client_key.resolve()),
    }
    if path is not None:
        config = _new_config()
        _put(config["clusters"], profile, "cluster", cluster)
        _put(config["users"], profile, "user", user)
        _put(config["contexts"], profile, "context", _context(profile, "default"))
        config["current-context"] = profile if set_current else ""
        with _locked(path):
            _save(path, config)
        return path
    path = default_kubeconfig_path()
    with _locked(path):
        config = _load(path)
        old: dict[str, Any] = next((e for e in config["contexts"] if e.get("name") == profile), {})
        context = old.get("context")
        namespace = (context.get("namespace") if isinstance(context, dict) else None) or "default"
        _put(config["clusters"], profile, "cluster", cluster)
        _put(config["users"], profile, "user", user)
        _put(config["contexts"], profile, "context", _context(profile, namespace))
        if set_current:
            config["current-context"] = profile
        _save(path, config)
    return path


def remove_from_kubeconfig(profile: str, path: Path | None = None) -> bool:
    """Drop ``profile``'s cluster, user and context; whether the file changed.

    If the profile's context was current, no context is current afterwards (as minikube
    leaves it), rather than silently pointing kubectl at some other cluster.
    """
    path = default_kubeconfig_path() if path is None else path
    if not path.exists():
        return False
    with _locked(path):
        config = _load(path)
        changed = False
        for section in _SECTIONS:
            kept = [entry for entry in config[section] if entry.get("name") != profile]
            changed |= len(kept) != len(config[section])
            config[section] = kept
        if config.get("current-context") == profile:
            config["current-context"] = ""
            changed = True
        if changed:
            _save(path, config)
    return changed


def _new_config() -> dict[str, Any]:
    # The order `kubectl config view` prints, so a generated file reads like a familiar one.
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [],
        "contexts": [],
        "current-context": "",
        "preferences": {},
        "users": [],
    }


def _context(profile: str, namespace: str) -> dict[str, str]:
    return {"cluster": profile, "namespace": namespace, "user": profile}


def _put(entries: list[dict[str, Any]], name: str, key: str, value: dict[str, Any]) -> None:
    """Replace the entry called ``name`` in place (keeping the order), or append it."""
    for entry in entries:
        if entry.get("name") == name:
            entry.clear()
            entry.update({key: value, "name": name})
            return
    entries.append({key: value, "name": name})


def _load(path: Path) -> dict[str, Any]:
    """The kubeconfig at ``path`` (a new one if there is none), or a ValueError naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return _new_config()
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(f"{path} is not a valid kubeconfig (left unchanged): {error}") from None
    if config is None:  # an empty file is how some tools create a kubeconfig
        return _new_config()
    if not isinstance(config, dict):
        raise ValueError(f"{path} is not a valid kubeconfig (left unchanged): not a mapping")
    for section in _SECTIONS:
        entries = config.get(section)
        if entries is None:
            config[section] = entries = []
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ValueError(
                f"{path} is not a valid kubeconfig (left unchanged): "
                f"{section!r} is not a list of named entries"
            )
    config.setdefault("apiVersion", "v1")
    config.setdefault("kind", "Config")
    return config


def _save(path: Path, config: dict[str, Any]) -> None:
    """Replace ``path`` atomically (through a symlink, if it is one), mode 0600."""
    target = Path(os.path.realpath(path))
    text = yaml.safe_dump(config, default_flow_style=False, sort_keys=False)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            os.fchmod(file.fileno(), 0o600)  # it names credentials
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold ``<path>.lock`` the way client-go does: create it exclusively, delete it after."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = Path(f"{path}.lock")
    deadline = time.monotonic() + _LOCK_TIMEOUT
    while True:
        try:
            os.close(os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            break
        except FileExistsError:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{lock} exists: another program is editing {path}; "
                    "if none is, delete the lock file"
                ) from None
            time.sleep(0.05)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)
