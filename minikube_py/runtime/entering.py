"""Entering a running container: ``kubectl exec`` and ``kubectl attach`` in the process runtime.

Both need a container that is running now — upstream answers a stopped one as not found —
and differ in what they connect to:

- **exec** starts a *new* command in the container's context. There is no namespace to enter
  here, so "the context" is rebuilt from what the container was started with: its environment
  (plus ``TERM`` when a terminal is asked for, as the CRI sets it), its working directory, and
  its root and volume mounts, under which the command's path and absolute arguments are
  resolved exactly as the container's own command line was (``commands``). The command runs
  in a session of its own (``execsession``), registered with the runtime's reaper so that it
  dies with the runtime, and its memory counts against the container's limit, as it would in
  the container's cgroup (``memory``). A command that cannot be started fails with upstream's
  wording (``exec: "nope": executable file not found in $PATH``).
- **attach** joins the container's *own* main process: its output from now on, and its stdin
  if the container asked for one (``attachment``).

``ProcessRuntime.exec`` and ``ProcessRuntime.attach`` look the container up and call these.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence

from .attachment import Attachment
from .commands import ExecFailure, exec_error, resolve_argv
from .containers import Container
from .execsession import ProcessExecSession, start_exec
from .memory import MemoryWatcher
from .protocol import ContainerError
from .reaper import Reaper


def _require_running(container: Container) -> None:
    if container.state != "running":
        raise ContainerError("NotFound", f'container not found ("{container.config.name}")')


async def exec_in(
    container: Container,
    command: Sequence[str],
    *,
    stdin: bool,
    tty: bool,
    reaper: Reaper,
    memory: MemoryWatcher,
) -> ProcessExecSession:
    """Start ``command`` in ``container``'s context; see the module docstring."""
    _require_running(container)
    if not command:
        raise ContainerError("BadRequest", "you must specify at least one command")
    env = dict(container.env)
    if tty:
        env["TERM"] = "xterm"
    exec_id = secrets.token_hex(32)  # names the exec in its error messages, as the CRI's does
    try:
        mounts = [mount.container_path for mount in container.config.mounts]
        argv = resolve_argv(command, env, container.paths.root, container.workdir, mounts)
        session = await start_exec(
            argv, cwd=container.workdir, env=env, stdin=stdin, tty=tty, reaper=reaper
        )
    except ExecFailure as failure:
        raise exec_error(exec_id, failure.cause) from None
    except OSError as error:
        cause = f'exec: "{command[0]}": {os.strerror(error.errno or 0).lower()}'
        raise exec_error(exec_id, cause) from None
    # The container keeps its execs so that they are killed when its main process exits.
    container.execs.add(session)
    session.add_done_callback(container.execs.discard)
    memory.add_exec(container.id, session.pid)
    session.add_done_callback(lambda done: memory.remove_exec(container.id, done.pid))
    return session


def attach_to(container: Container, *, stdin: bool) -> Attachment:
    """The running container's own streams (``kubectl attach``); see ``attachment``."""
    _require_running(container)
    return Attachment(container, stdin=stdin)
