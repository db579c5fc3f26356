"""``RUN`` during a build: a command on the host, in the image root, with the image's environment.

Docker runs ``RUN`` inside a container of the image being built. minikube_py has no
containers in that sense (a pod is a process group on the host, see ``runtime.process``), so a
``RUN`` is a host process too, set up the way the process runtime sets up a container:

- the working directory is the image's ``WORKDIR`` *under the image root* (created first);
- the environment is the image's ``Env`` plus the build arguments in scope, ``PATH`` with the
  image's entries placed under the root first and the host's ``/usr/local/bin:/usr/bin:/bin``
  after (so the host's ``sh``, ``python3``, ``go`` are found), ``HOME`` the image root's
  ``/root`` and ``MINIKUBE_PY_ROOT`` the image root;
- absolute paths into the image's own top-level directories (``/app/...`` once the image has
  an ``/app``) are placed under the root, in the exec form's arguments and in a shell form's
  script; system directories (``/usr``, ``/etc``, ``/tmp``…) stay the host's. A ``RUN`` that
  installs packages therefore installs them *on the host*: write to relative paths or under
  ``$MINIKUBE_PY_ROOT`` to put files into the image.

A command that exits non-zero fails the build with buildkit's words.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from minikube_py.runtime.commands import ExecFailure, container_env, parse_env, resolve_argv

from .buildfiles import secure_join

# Top-level directories that name the host's system even when the image has them too.
SYSTEM_DIRECTORIES = frozenset(
    {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "dev", "proc", "sys", "tmp"}
    | {"run", "etc", "var", "root", "home", "opt", "srv", "mnt", "media", "boot"}
)
RUN_SECONDS = 600.0


class RunFailed(RuntimeError):
    """A ``RUN`` exited non-zero (or could not start)."""


def image_directories(root: Path) -> list[str]:
    """The image's own top-level directories, as container paths (``/app``)."""
    if not root.is_dir():
        return []
    return sorted(
        f"/{child.name}"
        for child in root.iterdir()
        if child.name not in SYSTEM_DIRECTORIES and child.is_dir() and not child.is_symlink()
    )


def run_step(
    root: Path,
    argv: Sequence[str],
    config: Mapping[str, object],
    build_args: Mapping[str, str],
    output: Callable[[str], None],
) -> None:
    """Run ``argv`` for a ``RUN`` step; ``output`` gets each line it prints."""
    working_dir = str(config.get("WorkingDir") or "/")
    cwd = secure_join(root, working_dir)
    cwd.mkdir(parents=True, exist_ok=True)
    image_env = parse_env(list(config.get("Env") or []))  # type: ignore[call-overload]
    # Build arguments are seen by RUN but never kept in the image; ENV wins over ARG.
    env = container_env(
        {**build_args, **image_env}, {}, root=root, pod_ip="127.0.0.1", hostname="buildkitsandbox"
    )
    env["HOME"] = str(root / "root")
    own = image_directories(root)
    try:
        command = resolve_argv(argv, env, root, cwd, own)
    except ExecFailure as error:
        raise RunFailed(f"{_quoted(argv)} did not complete successfully: {error}") from None
    env.pop("POD_IP", None)  # the build has no pod address: sockets stay the host's
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    # A step that hangs is a bug in the Dockerfile: kill its process group after a while.
    timer = threading.Timer(RUN_SECONDS, _kill_group, (process.pid,))
    timer.start()
    try:
        assert process.stdout is not None
        with process.stdout:
            for raw in process.stdout:
                output(raw.decode("utf-8", errors="replace").rstrip("\n"))
        code = process.wait()
    finally:
        timer.cancel()
    if code != 0:
        raise RunFailed(f"{_quoted(argv)} did not complete successfully: exit code: {code}")


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _quoted(argv: Sequence[str]) -> str:
    return "process " + '"' + " ".join(argv).replace('"', '\\"') + '"'
