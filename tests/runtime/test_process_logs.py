"""Container logs: the CRI format, partial lines, long lines and rotation."""

from __future__ import annotations

import re
from pathlib import Path

from minikube_py.runtime.images.store import ImageStore
from minikube_py.runtime.logfiles import MAX_LINE, LogWriter, parse_line, rfc3339_nano
from minikube_py.runtime.process import ProcessRuntime
from minikube_py.runtime.protocol import SandboxConfig

from .process_helpers import finished, log_lines, no_leftovers, python, run, runtime, sandbox

__all__ = ["no_leftovers", "runtime", "sandbox"]

CRI_LINE = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z (stdout|stderr) [FP] ")


def test_timestamps_are_go_rfc3339_nano() -> None:
    assert rfc3339_nano(1_700_000_000_123_456_789) == "2023-11-14T22:13:20.123456789Z"
    assert rfc3339_nano(1_700_000_000_120_000_000) == "2023-11-14T22:13:20.12Z"  # zeros trimmed
    assert rfc3339_nano(1_700_000_000_000_000_000) == "2023-11-14T22:13:20Z"


def test_writer_splits_lines_and_marks_partial_ones(tmp_path: Path) -> None:
    ticks = iter(range(1_700_000_000_000_000_001, 1_800_000_000_000_000_000))
    writer = LogWriter(tmp_path / "0.log", max_bytes=10**6, clock_ns=lambda: next(ticks))
    writer.write("stdout", b"one\ntw")
    writer.write("stderr", b"err\r\n")
    writer.write("stdout", b"o\n")
    writer.write("stdout", b"x" * (MAX_LINE + 10) + b"\nthree")
    writer.close()  # "three" never got its newline: a partial line at the end
    raw = (tmp_path / "0.log").read_bytes().splitlines()
    assert all(CRI_LINE.match(line) for line in raw)
    parsed = [parse_line(line) for line in raw]
    assert [(p.stream, p.partial, p.content[:5]) for p in parsed if p] == [
        ("stdout", False, b"one"),
        ("stderr", False, b"err"),
        ("stdout", False, b"two"),
        ("stdout", True, b"xxxxx"),
        ("stdout", False, b"xxxxx"),
        ("stdout", True, b"three"),
    ]
    assert len(parsed[3].content) == MAX_LINE and len(parsed[4].content) == 10  # type: ignore[union-attr]
    assert parsed[0].timestamp == "2023-11-14T22:13:20.000000001Z"  # type: ignore[union-attr]
    assert parse_line(b"garbage") is None


def test_writer_rotates_keeping_one_old_file(tmp_path: Path) -> None:
    writer = LogWriter(tmp_path / "0.log", max_bytes=500)
    for number in range(40):
        writer.write("stdout", f"line {number:02d}\n".encode())
    writer.close()
    current = (tmp_path / "0.log").read_bytes().splitlines()
    rotated = (tmp_path / "0.log.1").read_bytes().splitlines()
    assert len((tmp_path / "0.log").read_bytes()) <= 500
    assert len((tmp_path / "0.log.1").read_bytes()) <= 500
    contents = [parse_line(line).content for line in rotated + current]  # type: ignore[union-attr]
    # The newest lines, in order, with nothing lost between the two files.
    assert contents == [f"line {n:02d}".encode() for n in range(40 - len(contents), 40)]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["0.log", "0.log.1"]


async def test_container_output_goes_to_its_log(runtime: ProcessRuntime, sandbox: str) -> None:
    code = (
        "import sys\n"
        "print('hello', flush=True)\n"
        "print('oops', file=sys.stderr, flush=True)\n"
        "sys.stdout.write('no newline')\n"
    )
    container = await run(runtime, sandbox, python(code))
    await finished(runtime, container)
    path = runtime.log_path(container)
    assert path.name == "0.log" and path.parent.name == "main"
    lines = log_lines(path)
    assert ("stdout", "F", "hello") in lines and ("stderr", "F", "oops") in lines
    assert lines[-1] == ("stdout", "P", "no newline")


async def test_container_logs_rotate(tmp_path: Path, no_leftovers: None) -> None:
    runtime = ProcessRuntime(tmp_path / "rt", ImageStore(tmp_path / "images"), log_max_bytes=2000)
    try:
        pod = await runtime.create_sandbox(
            SandboxConfig("u", "default", "p", "127.244.0.9", "p", tmp_path / "pod")
        )
        code = "for n in range(200): print(f'line {n:03d}', flush=True)"
        container = await run(runtime, pod, python(code))
        await finished(runtime, container)
        path = runtime.log_path(container)
        assert path.stat().st_size <= 2000
        rotated = path.with_name("0.log.1")
        assert rotated.stat().st_size <= 2000
        texts = [text for _, _, text in log_lines(rotated) + log_lines(path)]
        assert texts[-1] == "line 199" and texts == sorted(texts)
    finally:
        await runtime.close()
