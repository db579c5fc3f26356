"""``kubectl exec POD [-c C] [-i] [-t] -- COMMAND ARGS…``: run a command in a container.

kubectl reads the pod first (a finished pod cannot be exec'd into; ``deployment/web`` means
its healthiest pod), picks the container (``-c``, else the default one, saying so when there
was a choice), then opens the exec WebSocket (``streams.py``) with the command as repeated
``command`` query parameters. With ``-i`` our standard input is forwarded until its end; ``-t``
asks for a terminal, which only makes sense when our own input is one — otherwise kubectl
says ``Unable to use a TTY - input is not a terminal or the right kind of file`` and goes on
without. The command's exit code becomes ours.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import stat
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, TextIO

from minikube_py.kubectl import podpick, streams
from minikube_py.kubectl.cmd_logs import FlagError, go_duration
from minikube_py.kubectl.session import KubectlError, Session
from minikube_py.runtime.pipereading import PipeReadTransport

_NO_TTY = "Unable to use a TTY - input is not a terminal or the right kind of file"
_USAGE_HINT = "See 'kubectl exec -h' for help and examples"


class _DashParser(argparse.ArgumentParser):
    """Remembers whether the words had a ``--``: ``exec POD CMD`` without one is refused by
    kubectl, and argparse drops the ``--`` before we could see it."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        words = list(args or [])
        if "--" not in words:
            parsed, rest = super().parse_known_args(words, namespace)
            parsed.dash_seen = False
            return parsed, rest
        # flags and the pod before the ``--``, the command after it, as cobra splits them
        dash = words.index("--")
        parsed, rest = super().parse_known_args(words[:dash], namespace)
        parsed.words = [*parsed.words, *words[dash + 1 :]]
        parsed.dash_seen = True
        return parsed, rest


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("exec", parents=parents, help="Execute a command in a container")
    parser.__class__ = type("ExecParser", (_DashParser, type(parser)), {})
    parser.add_argument("-c", "--container", default="")
    parser.add_argument("-i", "--stdin", action="store_true")
    parser.add_argument("-t", "--tty", action="store_true")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("--pod-running-timeout", default="1m0s")
    parser.add_argument("target", nargs="?", default="")
    parser.add_argument("words", nargs="*")
    parser.set_defaults(run=run)


async def run(session: Session, args: argparse.Namespace) -> int:
    if args.words and not getattr(args, "dash_seen", True):
        raise KubectlError(
            "exec [POD] [COMMAND] is not supported anymore. "
            f"Use exec [POD] -- [COMMAND] instead\n{_USAGE_HINT}"
        )
    if not args.target:
        raise KubectlError("pod, type/name or --filename must be specified")
    if not args.words:
        raise KubectlError("you must specify at least one command for the container")
    try:
        wait = go_duration(args.pod_running_timeout, "--pod-running-timeout")
    except FlagError as error:
        session.err.write(f"Error: {error}\nSee 'kubectl exec --help' for usage.\n")
        return 1
    pod = await podpick.resolve_target(
        session,
        args.target,
        podpick.for_attaching,
        announce=False,
        wait=wait,
        purpose="cannot attach to",
    )
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise KubectlError(
            f"cannot exec into a container in a completed pod; current phase is {phase}"
        )
    container = args.container or podpick.default_container(session, pod, quiet=args.quiet)
    tty = args.tty and args.stdin
    if tty and not _is_terminal(session.stdin):
        if not args.quiet:
            session.err.write(_NO_TTY + "\n")
        tty = False
    params = [("command", word) for word in args.words]
    params += [
        ("container", container),
        ("stdin", str(args.stdin).lower()),
        ("stdout", "true"),
        ("stderr", str(not tty).lower()),
        ("tty", str(tty).lower()),
    ]
    metadata = pod["metadata"]
    path = podpick.PODS.path(metadata.get("namespace") or session.namespace, metadata["name"])
    stdin = _input(session.stdin) if args.stdin else None
    try:
        with _raw_terminal(session.stdin) if tty else contextlib.nullcontext():
            await streams.run_exec(
                session,
                path + "/exec",
                params,
                stdin,
                sizes=_terminal_sizes() if tty else None,
            )
    except streams.ExitCodeError as error:
        session.err.write(f"{error}\n")
        return error.code
    return 0


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _fileno(stream: TextIO) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None  # an in-memory stream (tests, the embedded API)


async def _input(stream: TextIO) -> AsyncIterator[bytes]:
    """Our standard input as it arrives, without blocking the event loop: a pipe, socket or
    terminal through the loop's reader, a file or device in a thread, an in-memory stream at
    once."""
    fd = _fileno(stream)
    if fd is None:
        text = stream.read()
        if text:
            yield text.encode()
        return
    mode = os.fstat(fd).st_mode
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(fd)):
        # a file or a device like /dev/null: never blocks, and the event loop cannot poll it
        while data := await asyncio.to_thread(os.read, fd, streams.CHUNK):
            yield data
        return
    reader = asyncio.StreamReader()
    # a duplicate, so closing the transport at the end leaves our stdin open (and our own
    # transport, not connect_read_pipe's: uvloop's closes the number twice, see pipereading)
    transport = PipeReadTransport(asyncio.get_running_loop(), os.dup(fd), reader)
    try:
        while data := await reader.read(streams.CHUNK):
            yield data
    finally:
        transport.close()


async def _terminal_sizes() -> AsyncIterator[tuple[int, int]]:
    """Our terminal's size now and after every change (SIGWINCH), for the remote terminal."""
    changed = asyncio.Event()
    loop = asyncio.get_running_loop()
    # without SIGWINCH (another system, not the main thread) the first size must do
    unsupported = (AttributeError, NotImplementedError, RuntimeError, ValueError)
    with contextlib.suppress(*unsupported):
        loop.add_signal_handler(signal.SIGWINCH, changed.set)
    try:
        while True:
            size = shutil.get_terminal_size()
            yield size.columns, size.lines
            await changed.wait()
            changed.clear()
    finally:
        with contextlib.suppress(*unsupported):
            loop.remove_signal_handler(signal.SIGWINCH)


@contextlib.contextmanager
def _raw_terminal(stream: TextIO) -> Iterator[None]:
    """Our terminal in raw mode while a remote terminal runs (keys go through unchanged)."""
    fd = _fileno(stream)
    if fd is None or sys.platform == "win32":
        yield
        return
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd, termios.TCSANOW)  # TCSAFLUSH would drop input typed ahead
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
