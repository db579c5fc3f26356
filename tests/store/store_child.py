"""A second process for the store's crash and multi-process tests, and the parent's handle on it.

The tests run this module as a program, ``python -m tests.store.store_child MODE DB ...``, with
the repository root as working directory. Each mode opens the durable SQLite store at ``DB``
and talks to the parent over stdout, one line per message, flushed as it is written (a line is
written only *after* the store acknowledged the write it reports):

- ``crash DB RUN``: several writers create unique keys ``/crash/RUN/w<i>/<n>`` and update
  some of them again, forever, printing ``key revision version`` per acknowledged write; the
  value written is ``{"key": key, "version": version}``. The parent kills it with SIGKILL.
- ``cas DB N KEY...``: waits for ``go`` on stdin (after printing ``ready``), then performs ``N``
  compare-and-swap increments spread over the counter keys (get, update with
  ``expected_revision``, retry on ``Conflict``), with a few concurrent tasks so writes are
  group-committed too; finally prints one JSON line ``{"result": {...}}``.
- ``write DB PREFIX COUNT``: after ``ready``/``go``, writes ``COUNT`` times under ``PREFIX``
  (creates, updates and deletes, in bursts separated by idle pauses), printing
  ``key revision timestamp type`` per acknowledgement, ``timestamp`` being ``time.time()``
  taken just after the acknowledgement.

Any error other than the expected ``Conflict`` ends the program with its traceback on stderr
and exit status 1, so the parent can tell "the store misbehaved" from "the test lost".

:class:`Child` is the parent's side: it starts this program with ``sys.executable`` in its own
process group, reads its stdout into a list as lines arrive (so a chatty child never blocks on
a full pipe), lets the test wait — boundedly — for a condition on those lines, and kills it
for sure on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from minikube_py.store import Conflict, Retention, SqlStore, open_store

REPO_ROOT = Path(__file__).resolve().parents[2]


def _emit(line: str) -> None:
    # One write per line; lines are far below PIPE_BUF, so each reaches the pipe whole.
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _wait_for_go() -> None:
    _emit("ready")
    line = await asyncio.to_thread(sys.stdin.readline)
    if line.strip() != "go":
        raise RuntimeError(f"expected 'go' on stdin, got {line!r}")


async def _open(db: str) -> SqlStore:
    # No periodic compaction: the parent checks the whole history afterwards.
    return await open_store(f"sqlite:///{db}", retention=Retention(interval_seconds=0))


# --- crash --------------------------------------------------------------------------------

_CRASH_WRITERS = 6


async def _crash(db: str, run: str) -> None:
    store = await _open(db)

    async def writer(index: int) -> None:
        versions: dict[str, int] = {}
        rng = random.Random(f"{run}/{index}")
        n = 0
        while True:
            if versions and rng.random() < 0.3:
                key = rng.choice(list(versions))
                version = versions[key] + 1
                kv = await store.update(key, _crash_value(key, version), expected_revision=None)
            else:
                key = f"/crash/{run}/w{index}/{n:06d}"
                n += 1
                version = 1
                kv = await store.create(key, _crash_value(key, version))
            versions[key] = version
            _emit(f"{key} {kv.mod_revision} {version}")

    await asyncio.gather(*(writer(i) for i in range(_CRASH_WRITERS)))


def _crash_value(key: str, version: int) -> bytes:
    # Some padding, so a batch spans several pages and a torn write would show.
    return json.dumps({"key": key, "version": version, "pad": "x" * 300}).encode()


# --- cas ----------------------------------------------------------------------------------

_CAS_TASKS = 4


async def _cas(db: str, count: int, keys: Sequence[str]) -> None:
    store = await _open(db)
    try:
        await _wait_for_go()
        successes = dict.fromkeys(keys, 0)
        revisions: list[int] = []
        conflicts = 0
        rng = random.Random(os.getpid())

        async def task(share: int) -> None:
            nonlocal conflicts
            for _ in range(share):
                key = rng.choice(keys)
                while True:
                    kv = await store.get(key)
                    value = str(int(kv.value) + 1).encode()
                    try:
                        new = await store.update(key, value, expected_revision=kv.mod_revision)
                    except Conflict:
                        conflicts += 1
                        continue
                    successes[key] += 1
                    revisions.append(new.mod_revision)
                    break

        shares = [
            count // _CAS_TASKS + (1 if i < count % _CAS_TASKS else 0) for i in range(_CAS_TASKS)
        ]
        await asyncio.gather(*(task(share) for share in shares))
        result = {
            "successes": successes,
            "revisions": revisions,
            "conflicts": conflicts,
        }
        _emit(json.dumps({"result": result}))
    finally:
        await store.close()


# --- write --------------------------------------------------------------------------------


async def _write(db: str, prefix: str, count: int) -> None:
    store = await _open(db)
    try:
        await _wait_for_go()
        rng = random.Random(os.getpid())
        live: dict[str, int] = {}
        serial = 0
        done = 0

        async def one() -> None:
            nonlocal serial
            roll = rng.random()
            if live and roll < 0.2:
                key = rng.choice(list(live))
                del live[key]
                kv = await store.delete(key, expected_revision=None)
                kind = "DELETED"
            elif live and roll < 0.5:
                key = rng.choice(list(live))
                kv = await store.update(key, f"v{serial}".encode(), expected_revision=None)
                kind = "MODIFIED"
            else:
                key = f"{prefix}{serial:05d}"
                serial += 1
                live[key] = 1
                kv = await store.create(key, b"v0")
                kind = "ADDED"
            _emit(f"{key} {kv.mod_revision} {time.time():.6f} {kind}")

        while done < count:
            # A burst: one write at a time, or a few at once (one group commit)...
            burst = min(count - done, rng.choice([1, 1, 3, 8]))
            if burst == 1:
                await one()
            else:
                # Each write picks its key before its first await, so no two of a burst
                # delete the same key, nor create one twice.
                await asyncio.gather(*(one() for _ in range(burst)))
            done += burst
            # ...then the store stays idle for a while, so the other process's watch is fed
            # by its poll as well as right after its own writes.
            await asyncio.sleep(rng.uniform(0.0, 0.15))
    finally:
        await store.close()


def main(argv: Sequence[str]) -> int:
    mode, db, *rest = argv
    try:
        if mode == "crash":
            asyncio.run(_crash(db, rest[0]))
        elif mode == "cas":
            asyncio.run(_cas(db, int(rest[0]), rest[1:]))
        elif mode == "write":
            asyncio.run(_write(db, rest[0], int(rest[1])))
        else:
            raise SystemExit(f"unknown mode {mode!r}")
    except Exception:
        traceback.print_exc()
        sys.stderr.flush()
        return 1
    return 0


# --- the parent's side ----------------------------------------------------------------------


class Child:
    """This program running in a child process, seen from the test.

    Use as ``async with Child("crash", db, run, stderr_path=...) as child:``; on exit the child
    is killed (SIGKILL to its pid) if it is still running, and reaped. It runs in a session
    of its own, so a Ctrl-C at the terminal reaches pytest only.
    """

    def __init__(self, *args: str, stderr_path: Path) -> None:
        self.args = args
        self.stderr_path = stderr_path
        self.lines: list[str] = []  # complete lines received so far, without the newline
        self.partial = b""  # an unterminated last line, once stdout has ended
        self.proc: asyncio.subprocess.Process | None = None
        self._changed = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None
        self._eof = False

    async def __aenter__(self) -> Child:
        stderr = os.open(self.stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.store.store_child",
                *self.args,
                cwd=REPO_ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                start_new_session=True,
            )
        finally:
            os.close(stderr)  # the child has its own copy
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill()
        if self.proc is not None:
            with contextlib.suppress(TimeoutError, ProcessLookupError):
                await asyncio.wait_for(self.proc.wait(), 10)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL the child unless it has already been reaped."""
        if self.proc is None or self.proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGKILL)

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        stdout = self.proc.stdout
        try:
            while True:
                try:
                    line = await stdout.readuntil(b"\n")
                except asyncio.IncompleteReadError as end:
                    self.partial = end.partial
                    return
                async with self._changed:
                    self.lines.append(line[:-1].decode())
                    self._changed.notify_all()
        finally:
            self._eof = True
            async with self._changed:
                self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[list[str]], bool], within: float) -> None:
        """Wait until ``predicate(lines)`` holds; ``AssertionError`` after ``within``
        seconds, or if stdout ends first."""

        async def condition() -> None:
            async with self._changed:
                while not predicate(self.lines):
                    if self._eof:
                        raise AssertionError(
                            f"child {self.args[0]} ended its output first; {self.describe()}"
                        )
                    await self._changed.wait()

        try:
            await asyncio.wait_for(condition(), within)
        except TimeoutError:
            raise AssertionError(
                f"child {self.args[0]}: condition not met within {within} s; {self.describe()}"
            ) from None

    async def send(self, line: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await asyncio.wait_for(self.proc.stdin.drain(), 5)

    async def finish(self, within: float) -> int:
        """Wait for the child to exit by itself and its output to end; its exit status."""
        assert self.proc is not None and self._reader is not None
        try:
            await asyncio.wait_for(self.proc.wait(), within)
            await asyncio.wait_for(asyncio.shield(self._reader), 5)
        except TimeoutError:
            raise AssertionError(
                f"child {self.args[0]} still running after {within} s; {self.describe()}"
            ) from None
        assert self.proc.returncode is not None
        return self.proc.returncode

    async def killed(self, within: float = 10) -> None:
        """SIGKILL the child, wait for it, and read what it had written up to the end."""
        assert self.proc is not None and self._reader is not None
        self.kill()
        await asyncio.wait_for(self.proc.wait(), within)
        await asyncio.wait_for(asyncio.shield(self._reader), within)

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError as error:
            return f"<cannot read {self.stderr_path}: {error}>"

    def describe(self) -> str:
        status = None if self.proc is None else self.proc.returncode
        return (
            f"exit status {status}, {len(self.lines)} lines on stdout "
            f"(last: {self.lines[-3:]!r}), stderr:\n{self.stderr()[-4000:]}"
        )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
