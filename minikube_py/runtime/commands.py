"""What a container runs: its argv, its environment and its executable, as the contract says.

Docker and Kubernetes build a container's command line from two pairs: the image's
``Entrypoint`` and ``Cmd``, and the pod's ``command`` and ``args``. A pod ``command`` replaces
the entrypoint *and* drops the image's cmd; pod ``args`` replace the cmd only; with neither,
the image's own pair runs. This module does that, then maps the result onto the process
runtime, where a container is an ordinary host process whose "root" is a directory:

- ``PATH`` is the image's PATH entries placed under the container root, then the host's
  ``/usr/local/bin:/usr/bin:/bin`` (so ``sh`` and ``python3`` are found even in an image that
  ships no binaries);
- ``argv[0]`` without a slash is looked up along that PATH, root entries first, exactly as
  runc's ``exec`` does inside a real container;
- any argument that is an absolute path existing under the root is rewritten to the
  root-prefixed path, so image configs may say ``["python3", "/app/server.py"]``;
- the environment is the image's ``Env``, then the pod's env, plus ``POD_IP``, ``HOSTNAME``,
  ``MINIKUBE_PY_ROOT``, a ``PYTHONPATH`` starting with the interpreter start-up hook and, for
  a container with volume mounts, their table in ``MINIKUBE_PY_MOUNTS`` (the hook makes a
  Python program's file paths follow it: ``pyhook/sitecustomize.py``).

Failures carry upstream's words (containerd wrapping runc), so ``kubectl describe`` reads as
it would on a real node.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from .protocol import ContainerError, Mount

HOST_PATH = ("/usr/local/bin", "/usr/bin", "/bin")
# The directory holding the Python start-up hook (sitecustomize.py); the images helper owns it.
PYHOOK = Path(__file__).resolve().parent / "pyhook"
# containerd's wording around runc's own error, as `kubectl describe pod` shows it.
START_FAILED = (
    "failed to create containerd task: failed to create shim task: OCI runtime create failed: "
    "runc create failed: unable to start container process: {}: unknown"
)


def compose_argv(
    entrypoint: Sequence[str], cmd: Sequence[str], command: Sequence[str], args: Sequence[str]
) -> list[str]:
    """The command line Docker/Kubernetes semantics give; CreateContainerError if empty."""
    # The image's Cmd is dropped once the pod overrides the command.
    argv = [*command, *args] if command else [*entrypoint, *(args or cmd)]
    if not argv:
        raise ContainerError(
            "CreateContainerError",
            "failed to generate container spec: failed to generate spec: no command specified",
        )
    return argv


def parse_env(entries: Iterable[str]) -> dict[str, str]:
    """An OCI ``Env`` list (``["K=V", …]``) as a dict; later entries win."""
    env: dict[str, str] = {}
    for entry in entries:
        key, _, value = entry.partition("=")
        if key:
            env[key] = value
    return env


def search_path(root: Path, path: str) -> list[str]:
    """The container's PATH: ``path``'s entries under ``root`` first, then the host's."""
    inside = [str(root) + entry for entry in path.split(":") if entry.startswith("/")]
    return [*inside, *(entry for entry in HOST_PATH if entry not in inside)]


def mount_table(mounts: Sequence[Mount]) -> str:
    """The volume mounts as the Python start-up hook reads them from ``MINIKUBE_PY_MOUNTS``:
    JSON ``[[mount path, host path, read only], …]``, compact (the hook splits that form
    without importing ``json``). The host path is the volume itself, not the mount's
    symlink in the root, so the mount point looks like the volume's directory, not a link."""
    return json.dumps(
        [
            [
                os.path.normpath("/" + mount.container_path.lstrip("/")),
                os.path.abspath(mount.host_path),
                mount.read_only,
            ]
            for mount in mounts
        ],
        separators=(",", ":"),
    )


def container_env(
    image_env: Mapping[str, str],
    pod_env: Mapping[str, str],
    *,
    root: Path,
    pod_ip: str,
    hostname: str,
    tty: bool = False,
    mounts: Sequence[Mount] = (),
) -> dict[str, str]:
    """The environment a container process starts with (no variable of the host leaks in)."""
    env: dict[str, str] = {"HOSTNAME": hostname, "HOME": str(root)}
    if tty:
        env["TERM"] = "xterm"  # as Docker and containerd set it for a terminal
    env.update(image_env)
    env.update(pod_env)
    # PATH in the image or pod names container paths; they live under the root here.
    env["PATH"] = ":".join(search_path(root, env.get("PATH", "")))
    hook = [str(PYHOOK)]
    if env.get("PYTHONPATH"):
        hook.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = ":".join(hook)
    env["MINIKUBE_PY_ROOT"] = str(root)
    if mounts:
        env["MINIKUBE_PY_MOUNTS"] = mount_table(mounts)
    env["POD_IP"] = pod_ip
    return env


def _executable(candidate: str) -> bool:
    return os.path.isfile(candidate) and os.access(candidate, os.X_OK)


def _in_mount(argument: str, mounts: Sequence[str]) -> bool:
    return any(
        argument == mount or argument.startswith(mount.rstrip("/") + "/") for mount in mounts
    )


def rewrite_path(argument: str, root: Path, mounts: Sequence[str] = ()) -> str:
    """``argument`` under ``root`` if it is an absolute path that exists there or lies in one
    of the container's volume ``mounts`` (a file the program is about to create there), else
    as is. A directory volume's own mount point gets a trailing ``/``: the volume is a symlink
    here, a mount in a real container, and ``ls -l /etc/secret-volume`` must list what is in
    it, not the link."""
    if argument.startswith("/") and (
        os.path.lexists(str(root) + argument) or _in_mount(argument, mounts)
    ):
        placed = str(root) + argument
        if argument.rstrip("/") in {m.rstrip("/") for m in mounts} and os.path.isdir(placed):
            return placed.rstrip("/") + "/"
        return placed
    return argument


SHELLS = frozenset({"sh", "ash", "bash", "dash"})
# A word of a shell script that starts with an absolute path: not inside another word.
_SCRIPT_PATH = re.compile(r"(?<![\w./$~-])/[\w./@+-]*")


def rewrite_script(script: str, root: Path, mounts: Sequence[str]) -> str:
    """A ``sh -c`` script with the paths inside volume mounts placed under ``root``.

    The shell is the host's, so ``echo hi > /content/index.html`` would write the host's
    /content; a real container's shell writes its volume. Only paths in the container's own
    mounts are rewritten: ``/dev/null``, ``/etc/hosts`` and the rest stay the host's."""
    if not mounts:
        return script
    return _SCRIPT_PATH.sub(
        lambda match: str(root) + match[0] if _in_mount(match[0], mounts) else match[0], script
    )


def _is_script_flag(argument: str) -> bool:
    return argument.startswith("-") and not argument.startswith("--") and "c" in argument


def resolve_argv(
    argv: Sequence[str], env: Mapping[str, str], root: Path, cwd: Path, mounts: Sequence[str] = ()
) -> list[str]:
    """``argv`` ready for exec: argv[0] found along PATH, absolute paths mapped under root
    (and, for a shell's ``-c`` script, the paths in it that lie in the volume ``mounts``).

    Raises ``ExecFailure`` with runc's words when the executable cannot be found or run; a
    container start (``start_error``) and an exec (``exec_error``) wrap them differently."""
    name = argv[0]
    if "/" not in name:
        for directory in env.get("PATH", "").split(":"):
            if directory and _executable(os.path.join(directory, name)):
                program = os.path.join(directory, name)
                break
        else:
            raise ExecFailure(f'exec: "{name}": executable file not found in $PATH')
    else:
        program = rewrite_path(name, root)
        located = program if os.path.isabs(program) else os.path.join(cwd, program)
        if not os.path.lexists(located):
            raise ExecFailure(f'exec: "{name}": stat {name}: no such file or directory')
        if not _executable(located):
            raise ExecFailure(f'exec: "{name}": permission denied')
    resolved = [program]
    shell = os.path.basename(program) in SHELLS
    for index, argument in enumerate(argv[1:], start=1):
        if shell and index > 1 and _is_script_flag(argv[index - 1]):
            resolved.append(rewrite_script(argument, root, mounts))
        else:
            resolved.append(rewrite_path(argument, root, mounts))
    return resolved


class ExecFailure(Exception):
    """The executable of a command cannot be run; ``cause`` is runc's message."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


def start_error(cause: str) -> ContainerError:
    """A failed start in containerd's words (the kubelet shows it as RunContainerError)."""
    return ContainerError("RunContainerError", START_FAILED.format(cause))


def exec_error(exec_id: str, cause: str) -> ContainerError:
    """A failed exec in containerd's words; the API server answers it as an InternalError
    ("error executing command in container: " + this message)."""
    return ContainerError(
        "InternalError",
        f'failed to exec in container: failed to start exec "{exec_id}": OCI runtime exec '
        f"failed: exec failed: unable to start container process: {cause}: unknown",
    )
