"""Runs every command of ``docs/tutorial.md`` and checks what it prints, so the tutorial cannot rot.

The tutorial's source starts with an HTML comment defining its format: ```console blocks,
``$ `` command lines (continued by a trailing ``\\`` or a heredoc), the expected output after
each, and what varies between runs (addresses, ages, generated names, ``…``). This module
parses that, then runs the commands one by one in one bash shell — so variables, aliases and
``cd`` carry over as in the reader's terminal — with a fresh HOME, a fresh KUBECONFIG, the real
kubectl with its own cache directory, and ``minikube-py`` on PATH as a wrapper running this
interpreter on this checkout. The cluster the tutorial starts is deleted at the end even when a
step fails (``minikube-py delete``, then the cluster's pid killed if it is still there), and the
shell is ended by its pid.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from minikube_py.config import may_bind_low_ports

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"
STEP_SECONDS = 120.0  # the tutorial's waits say --timeout=60s; this bounds everything else
DELETE_SECONDS = 60.0
LOW_PORTS_MARK = "<!-- tutorial: needs-low-ports -->"
DONE = "\x1e"  # a character no command prints: it ends each step's output, then the exit code
HEREDOC = re.compile(r"<<-?\s*(['\"]?)(\w+)\1")

# What varies between runs, masked on both sides before comparing (the tutorial's comment
# lists them). Order matters: UUIDs before ages, generated names before ages.
_MASKS = [
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "UUID"),
    (re.compile(r"\b(\d{1,3}\.){3}\d{1,3}\b"), "IP"),
    (re.compile(r"\b([a-z][a-z0-9-]*?)-[a-z0-9]{6,10}-[a-z0-9]{5}\b"), r"\1-HASH-SUFFIX"),
    (re.compile(r"\b\d+[smhd](\d+[sm])?\b"), "AGE"),
    (re.compile(r"[ \t]*\t[ \t]*| {2,}"), "  "),
    (re.compile(r"-{3,}"), "---"),
]
_PLACEHOLDERS = {"…": ".*?", "<port>": r"\d+", "<id>": "[0-9a-f]+"}
_PLACEHOLDER = re.compile("|".join(re.escape(name) for name in _PLACEHOLDERS))


@dataclass
class Step:
    """One command of the tutorial and the lines it should print."""

    line: int  # where the command starts in the tutorial, for failure messages
    command: str
    expected: list[str]
    needs_low_ports: bool


def parse(text: str) -> list[Step]:
    """The tutorial's ```console blocks as steps, in order."""
    steps: list[Step] = []
    lines = text.splitlines()
    index, low_ports = 0, False
    while index < len(lines):
        line = lines[index]
        index += 1
        if line.strip() == LOW_PORTS_MARK:
            low_ports = True
            continue
        if line.strip() != "```console":
            if line.strip():
                low_ports = False
            continue
        block_low_ports, low_ports = low_ports, False
        while index < len(lines) and lines[index].strip() != "```":
            if not lines[index].startswith("$ "):
                raise ValueError(f"tutorial line {index + 1}: output before any command")
            start = index + 1
            command = [lines[index][2:]]
            index += 1
            terminators = [m.group(2) for m in HEREDOC.finditer(command[0])]
            while command[-1].endswith("\\") or terminators:
                if index >= len(lines) or lines[index].strip() == "```":
                    raise ValueError(f"tutorial line {start}: the command does not end")
                command.append(lines[index])
                if terminators and lines[index] == terminators[0]:
                    terminators.pop(0)
                index += 1
            expected = []
            while index < len(lines) and not lines[index].startswith("$ "):
                if lines[index].strip() == "```":
                    break
                expected.append(lines[index])
                index += 1
            steps.append(Step(start, "\n".join(command), expected, block_low_ports))
        index += 1  # the closing fence
    return steps


def mask(text: str) -> str:
    """``text`` with what varies between runs made equal, trailing blanks dropped."""
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


def expected_pattern(expected: list[str]) -> re.Pattern[str]:
    """A regular expression for the masked output: ``…`` alone on a line is any lines."""
    parts = []
    for line in mask("\n".join(expected)).split("\n"):
        if line.strip() == "…":
            parts.append("(?:[^\n]*\n)*?")
            continue
        pieces = _PLACEHOLDER.split(line)
        names = _PLACEHOLDER.findall(line)
        regex = re.escape(pieces[0])
        for name, piece in zip(names, pieces[1:], strict=True):
            regex += _PLACEHOLDERS[name] + re.escape(piece)
        parts.append(regex + "\n")
    return re.compile("".join(parts))


def matches(expected: list[str], output: str) -> bool:
    if not expected or all(not line.strip() for line in expected):
        return not output.strip()
    return expected_pattern(expected).fullmatch(mask(output) + "\n") is not None


# ----------------------------------------------------------------------------- fast checks


def test_tutorial_parses_into_steps() -> None:
    steps = parse(TUTORIAL.read_text())
    commands = [step.command.split()[0] for step in steps]
    assert "minikube-py" in commands and "kubectl" in commands and "curl" in commands
    assert steps[0].command == "minikube-py start"
    assert steps[-1].command == "minikube-py delete"  # the tutorial cleans up after itself
    heredocs = [step for step in steps if "<<'EOF'" in step.command]
    assert heredocs and all(step.command.endswith("\nEOF") for step in heredocs)
    assert all(not step.expected for step in heredocs)  # a heredoc prints nothing
    assert any(step.needs_low_ports for step in steps)


def test_masking_compares_what_varies_loosely_and_the_rest_exactly() -> None:
    shown = ["NAME    READY   IP            AGE", "web-7c5ddbdf54-2xq9z   1/1   127.244.0.2   5s"]
    assert matches(shown, "NAME   READY  IP  AGE\nweb-6f9c8d7b5-abcde  1/1  127.241.3.9  2m3s\n")
    assert not matches(shown, "NAME   READY  IP  AGE\nweb-6f9c8d7b5-abcde  0/1  127.241.3.9  2m\n")
    assert matches(["…", "done"], "a\nb\ndone\n") and matches(["…", "done"], "done")
    assert not matches(["…", "done"], "done\nmore")
    assert matches(["http://127.49.0.2:<port>"], "http://127.49.7.2:31234\n")
    assert not matches(["http://127.49.0.2:<port>"], "http://127.49.7.2:\n")
    assert matches(["x … z"], "x y y z") and not matches(["x … z"], "x y y")
    assert matches([], "") and not matches([], "something\n")


# ----------------------------------------------------------------------------- the shell


def _require(program: str, why: str) -> str:
    """The program's path; skip saying what is missing (fail in CI)."""
    path = shutil.which(program)
    if path is None:
        message = f"{program} is not on PATH: {why}"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(message + " (CI=true: failing instead of skipping)")
        pytest.skip(message)
    return path


class Shell:
    """One bash process the steps run in, one after the other, as in a terminal."""

    def __init__(self, work: Path, env: dict[str, str], scripts: Path) -> None:
        self.scripts = scripts
        self.process = subprocess.Popen(
            ["bash", "--norc", "--noprofile"],
            cwd=work,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group, so its children end with it
        )
        self.count = 0
        self.send("shopt -s expand_aliases\n")

    def send(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text.encode())
        self.process.stdin.flush()

    def run(self, command: str, timeout: float) -> tuple[int, str]:
        """Run ``command`` (sourced from a file, so heredocs and aliases behave as typed, with
        stdin closed so no command eats the next); its exit code and output."""
        self.count += 1
        script = self.scripts / f"step{self.count}.sh"
        script.write_text(command + "\n")
        self.send(f". {script} </dev/null 2>&1; printf '{DONE}%s\\n' \"$?\"\n")
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        data = b""
        deadline = time.monotonic() + timeout
        while not re.search(rb"\x1e(\d+)\n", data):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer in {timeout:.0f} s; output so far:\n{data!r}")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise RuntimeError(f"the shell ended; output so far:\n{data.decode()}")
                data += chunk
        output, _, code = data.decode(errors="replace").rpartition(DONE)
        return int(code.strip()), output

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


def _environment(base: Path) -> dict[str, str]:
    """A fresh HOME and KUBECONFIG, kubectl's own cache, ``minikube-py`` running this
    interpreter on this checkout."""
    home, cache, bin_dir = base / "home", base / "kubecache", base / "bin"
    for directory in (home, cache, bin_dir):
        directory.mkdir()
    wrapper = bin_dir / "minikube-py"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m minikube_py "$@"\n')
    wrapper.chmod(0o755)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KUBECTL_", "MINIKUBE_PY_")) and key != "KUBECONFIG"
    }
    env.update(
        HOME=str(home),
        KUBECONFIG=str(home / ".kube" / "config"),
        KUBECACHEDIR=str(cache),
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        NO_PROXY="*",
        no_proxy="*",
    )
    return env


def _cluster_pid(home: Path) -> int | None:
    try:
        text = (home / ".minikube_py" / "profiles" / "minikube" / "cluster.lock").read_text()
    except OSError:
        return None
    found = re.search(r"pid (\d+)", text)
    return int(found.group(1)) if found else None


def _end_cluster(env: dict[str, str], work: Path, pid: int | None) -> None:
    """``minikube-py delete`` (a no-op when the tutorial already deleted it), then the
    cluster's own pid if it is still there."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        subprocess.run(
            ["minikube-py", "delete"],
            cwd=work,
            env=env,
            capture_output=True,
            timeout=DELETE_SECONDS,
            check=False,
        )
    if pid is None:
        return
    with contextlib.suppress(OSError):
        if b"minikube_py" in Path(f"/proc/{pid}/cmdline").read_bytes():
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def _tutorial_shell(base: Path) -> Iterator[tuple[Shell, dict[str, str]]]:
    env = _environment(base)
    work, scripts = base / "work", base / "scripts"
    work.mkdir()
    scripts.mkdir()
    shell = Shell(work, env, scripts)
    try:
        yield shell, env
    finally:
        pid = _cluster_pid(Path(env["HOME"]))  # still there unless the tutorial deleted it
        shell.close()
        _end_cluster(env, work, pid)


@pytest.mark.slow
def test_every_command_of_the_tutorial_prints_what_it_says(tmp_path: Path) -> None:
    _require("kubectl", "the tutorial uses the real kubectl 1.32")
    _require("curl", "the tutorial talks to pods and the API server with curl")
    _require("openssl", "the tutorial reads the client certificate with openssl")
    steps = parse(TUTORIAL.read_text())
    low_ports = may_bind_low_ports()
    skipped = []
    with _tutorial_shell(tmp_path) as (shell, _):
        for step in steps:
            if step.needs_low_ports and not low_ports:
                skipped.append(step.line)
                continue
            code, output = shell.run(step.command, STEP_SECONDS)
            where = f"docs/tutorial.md:{step.line}: $ {step.command}"
            assert code == 0, f"{where}\nexited {code}:\n{output}"
            expected = "\n".join(step.expected)
            assert matches(step.expected, output), (
                f"{where}\n--- the tutorial says:\n{expected}\n--- it printed:\n{output}"
            )
    if skipped:
        print(f"skipped the steps at tutorial lines {skipped}: they need ports below 1024")
