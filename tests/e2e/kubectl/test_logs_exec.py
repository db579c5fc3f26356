"""Golden tests of the built-in ``kubectl logs`` and ``kubectl exec``: the real kubectl and the
built-in one, on the same real pods (``busybox`` processes), print the same and exit the same.
Each test has a namespace of its own. ``--all-containers`` and ``-l`` read several logs in an
order kubectl leaves to chance (a Go map), so those are compared line by line, sorted.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Kubectl
from tests.e2e.kubectl.golden import Result, builtin, mask, real, same

WAIT = 60.0
BUILTIN = "import sys; from minikube_py.kubectl import main; sys.exit(main(sys.argv[1:]))"


def container(name: str, script: str) -> dict[str, Any]:
    return {"name": name, "image": "busybox", "command": ["sh", "-c", script]}


def pod(name: str, *containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    """A pod labelled ``app=<name>``, quick to delete."""
    body = {"containers": list(containers), "terminationGracePeriodSeconds": 1, **spec}
    metadata = {"name": name, "labels": {"app": name}}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": body}


TWO = pod(
    "two",
    container("a", "echo hello-a; echo err-a >&2; sleep 3600"),
    container("b", "for i in 1 2 3; do echo b$i; done; sleep 3600"),
)


def eventually(check: Callable[[], Any], seconds: float = WAIT) -> Any:
    """``check()``'s first truthy result, polling until ``seconds`` pass (then fail)."""
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"not reached within {seconds} s; last seen: {last!r}")


def same_lines(kubectl: Kubectl, *args: str) -> None:
    """Both print the same lines, in any order (kubectl reads several logs in random order)."""
    expected, got = real(kubectl, *args), builtin(kubectl, *args)
    assert sorted(mask(got.out).splitlines()) == sorted(mask(expected.out).splitlines())
    assert (got.code, mask(got.err)) == (expected.code, mask(expected.err))
    assert expected.code == 0 and expected.out, expected


@pytest.fixture
def two(kubectl: Kubectl, ns: str) -> str:
    """The two-container pod, running, both containers' first lines written."""
    kubectl.out("apply", "-n", ns, "-f", "-", stdin=json.dumps(TWO))
    kubectl.out("wait", "-n", ns, "--for=condition=Ready", "pod/two", f"--timeout={WAIT:.0f}s")
    eventually(lambda: "b3" in kubectl.run("logs", "-n", ns, "two", "-c", "b", check=False).stdout)
    eventually(lambda: "err-a" in kubectl.run("logs", "-n", ns, "two", check=False).stdout)
    return "two"


@pytest.fixture
def web(kubectl: Kubectl, ns: str) -> str:
    """A Deployment of two pods, each printing its own name, rolled out."""
    kubectl.out(
        "create", "deployment", "web", "-n", ns, "--image=busybox", "--replicas=2",
        "--", "sh", "-c", "echo started $HOSTNAME; sleep 3600",
    )  # fmt: skip
    kubectl.out("rollout", "status", "-n", ns, "deployment/web", f"--timeout={WAIT:.0f}s")
    eventually(lambda: kubectl.out("logs", "-n", ns, "-l", "app=web").count("started") == 2)
    return "web"


def test_logs_of_one_container(kubectl: Kubectl, ns: str, two: str) -> None:
    expected = same(kubectl, "logs", "-n", ns, two)
    assert expected.out == "hello-a\nerr-a\n"
    assert expected.err == 'Defaulted container "a" out of: a, b\n'
    assert same(kubectl, "logs", "-n", ns, two, "-c", "b").out == "b1\nb2\nb3\n"
    assert same(kubectl, "logs", "-n", ns, f"pod/{two}", "b", "--tail=2").out == "b2\nb3\n"
    same(kubectl, "logs", "-n", ns, two, "-c", "a", "--timestamps")
    same(kubectl, "logs", "-n", ns, two, "-c", "a", "--since=1h")
    same(kubectl, "logs", "-n", ns, two, "-c", "a", "--limit-bytes=3")
    same(kubectl, "logs", "-n", ns, two, "-c", "b", "--since-time=2020-01-01T00:00:00.5+02:00")


def test_logs_of_every_container(kubectl: Kubectl, ns: str, two: str) -> None:
    same_lines(kubectl, "logs", "-n", ns, two, "--all-containers")
    same_lines(kubectl, "logs", "-n", ns, two, "--all-containers", "--prefix")
    same_lines(kubectl, "logs", "-n", ns, "-l", "app=two", "--all-containers", "--prefix")


def test_logs_mistakes(kubectl: Kubectl, ns: str, two: str) -> None:
    for args in (
        [two, "-c", "zz"],
        ["nope"],
        ["deployment/nope"],
        [two, "-p"],
        [two, "--tail=-2"],
        [two, "--since=-1s"],
        [two, "--since=xx"],
        [two, "--since-time=xx"],
        [two, "--since-time=2020-01-01T00:00:00Z", "--since=1h"],
        [two, "a", "-c", "b"],
        [two, "--all-containers", "-c", "a"],
        ["-l", "app=two", two],
        [],
    ):
        assert same(kubectl, "logs", "-n", ns, *args).code == 1, args
    assert same(kubectl, "logs", "-n", ns, "-l", "app=nobody").err.startswith("No resources")
    # several followed logs at once: the first failure ends them, unless told to go on
    # (which container's failure comes first is left to chance in kubectl)
    followed = ("logs", "-n", ns, two, "-f", "--all-containers", "-p")
    for result in (real(kubectl, *followed), builtin(kubectl, *followed)):
        assert (result.code, result.out) == (1, ""), result
        assert re.fullmatch(
            r'Error from server \(BadRequest\): previous terminated container "[ab]" '
            r'in pod "two" not found\n',
            result.err,
        ), result
    same_lines(kubectl, "logs", "-n", ns, two, "-f", "--all-containers", "-p", "--ignore-errors")


def test_logs_of_a_deployment(kubectl: Kubectl, ns: str, web: str) -> None:
    expected = same(kubectl, "logs", "-n", ns, f"deployment/{web}")
    assert expected.err.startswith("Found 2 pods, using pod/web-") and "started" in expected.out
    same(kubectl, "logs", "-n", ns, f"deploy/{web}", "--tail=1", "--prefix")
    same_lines(kubectl, "logs", "-n", ns, "-l", "app=web")
    same_lines(kubectl, "logs", "-n", ns, "-l", "app=web", "--prefix")
    same_lines(kubectl, "logs", "-n", ns, f"deployment/{web}", "--all-pods", "--prefix")
    # a Service's pods are its selector's; a kind without a pod selector is refused
    kubectl.out("expose", "-n", ns, f"deployment/{web}", "--port=80")
    kubectl.out("create", "configmap", "cm", "-n", ns)
    same(kubectl, "logs", "-n", ns, f"svc/{web}")
    for verb in (["logs"], ["exec", "--", "true"]):
        assert same(kubectl, *verb[:1], "-n", ns, "cm/cm", *verb[1:]).code == 1


def test_logs_follow_streams_until_the_containers_end(kubectl: Kubectl, ns: str) -> None:
    def counting(name: str) -> dict[str, Any]:
        return container(name, f"for i in 1 2 3 4; do echo {name} $i; sleep 1; done")

    seq = pod("seq", counting("one"), counting("two"), restartPolicy="Never")
    kubectl.out("apply", "-n", ns, "-f", "-", stdin=json.dumps(seq))
    eventually(lambda: "two 1" in kubectl.run("logs", "-n", ns, "seq", "two", check=False).stdout)
    # the built-in ones start while the containers still run, so they must follow to the end
    results: dict[str, Result] = {}
    readers = {
        "one": ("logs", "-f", "-n", ns, "seq", "-c", "one"),
        "both": ("logs", "-f", "-n", ns, "seq", "--all-containers", "--prefix"),
    }
    threads = [
        threading.Thread(target=lambda k=key, a=args: results.__setitem__(k, builtin(kubectl, *a)))
        for key, args in readers.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads), "logs -f did not end"
    assert results["one"] == Result(0, "one 1\none 2\none 3\none 4\n", "")
    both = results["both"].out.splitlines()
    assert sorted(both) == [f"[pod/seq/{c}] {c} {i}" for c in ("one", "two") for i in range(1, 5)]
    # read at once, not one after the other: the second container's lines came in between
    assert both.index("[pod/seq/two] two 1") < both.index("[pod/seq/one] one 4"), both
    same(kubectl, "logs", "-f", "-n", ns, "seq", "-c", "one")
    same_lines(kubectl, "logs", "-f", "-n", ns, "seq", "--all-containers", "--prefix")
    many = ("logs", "-f", "-n", ns, "seq", "--all-containers", "--max-log-requests=1")
    assert same(kubectl, *many).code == 1
    # a finished pod cannot be exec'd into, in kubectl's words
    assert "completed pod" in same(kubectl, "exec", "-n", ns, "seq", "--", "true").err


def test_exec_streams_and_exit_codes(kubectl: Kubectl, ns: str, two: str) -> None:
    expected = same(
        kubectl, "exec", "-n", ns, two, "--", "sh", "-c", "echo out; echo err >&2; exit 3"
    )
    assert (expected.code, expected.out) == (3, "out\n")
    assert expected.err.endswith("err\ncommand terminated with exit code 3\n")
    assert same(kubectl, "exec", "-n", ns, two, "-c", "b", "--", "echo", "hi").out == "hi\n"
    assert same(kubectl, "exec", "-n", ns, "-c", "b", two, "--", "sh", "-c", "exit 0").code == 0


def test_exec_forwards_stdin(kubectl: Kubectl, ns: str, two: str) -> None:
    data = "hello\nworld\n" * 1000
    expected = same(kubectl, "exec", "-n", ns, two, "-c", "b", "-i", "--", "cat", stdin=data)
    assert expected.out == data
    # the built-in one as a program, its stdin a real pipe (read on the event loop)
    args = ["--kubeconfig", kubectl.env["KUBECONFIG"], "exec", "-n", ns, two, "-c", "b", "-i"]
    piped = subprocess.run(
        [sys.executable, "-c", BUILTIN, *args, "--", "cat"],
        input=data.encode(),
        capture_output=True,
        timeout=WAIT,
        check=False,
    )
    assert (piped.returncode, piped.stdout, piped.stderr) == (0, data.encode(), b"")
    # -t without a terminal on stdin: kubectl warns and runs without one
    tty = same(kubectl, "exec", "-n", ns, two, "-c", "b", "-it", "--", "echo", "ok", stdin="")
    assert "Unable to use a TTY" in tty.err and tty.out == "ok\n"


def test_exec_mistakes(kubectl: Kubectl, ns: str, two: str, web: str) -> None:
    refused = ([two, "echo", "hi"], [two], ["nope", "--", "echo"], [two, "-c", "zz", "--", "echo"])
    for args in (*refused, ["-c", "b", "--", "echo"]):
        assert same(kubectl, "exec", "-n", ns, *args).code == 1, args
    # the runtime's message names a random exec id: compare the rest
    missing = ("exec", "-n", ns, two, "-c", "b", "--", "no-such-command")
    expected, got = real(kubectl, *missing), builtin(kubectl, *missing)
    assert (got.code, got.out) == (expected.code, expected.out) == (1, "")
    assert got.err.split('"')[0] == expected.err.split('"')[0]
    assert "executable file not found" in got.err
    assert same(kubectl, "exec", "-n", ns, f"deployment/{web}", "--", "echo", "ok").out == "ok\n"


class Terminal:
    """A command run on a pseudo-terminal (its stdin, stdout and stderr), as a person would
    run it: type at it, watch what it prints, resize the window."""

    def __init__(self, kubectl: Kubectl, command: list[str], size: tuple[int, int]) -> None:
        self.main, child = pty.openpty()
        self.resize(*size, signal_it=False)
        self.process = subprocess.Popen(
            command, stdin=child, stdout=child, stderr=child, env=kubectl.env, cwd=ROOT
        )
        os.close(child)
        self.seen = b""

    def resize(self, columns: int, lines: int, *, signal_it: bool = True) -> None:
        fcntl.ioctl(self.main, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        if signal_it:
            self.process.send_signal(signal.SIGWINCH)  # what the terminal's window does

    def type(self, text: bytes) -> None:
        os.write(self.main, text)

    def read_until(self, pattern: bytes, ended: bool = False, start: int = 0) -> bytes:
        """Everything printed so far, once ``pattern`` is in it from offset ``start`` on (or,
        ``ended``, at the end)."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and not (
            not ended and re.search(pattern, self.seen[start:])
        ):
            if select.select([self.main], [], [], 0.2)[0]:
                try:
                    chunk = os.read(self.main, 65536)
                except OSError:  # the other side closed: the command ended
                    chunk = b""
                if not chunk:
                    break
                self.seen += chunk
            elif self.process.poll() is not None:
                break
        assert re.search(pattern, self.seen[start:]), self.seen
        return self.seen

    def size_becomes(self, lines_columns: bytes) -> None:
        """Ask ``stty size`` until the remote terminal answers ``lines_columns``.

        The window's size travels in resize messages that kubectl (the real one too) sends
        beside the typed input, not in order with it: a question typed right after a resize
        may reach the shell first and get the old size, as a person would see, who would
        then ask again. A size that never arrives fails after ``WAIT``."""
        deadline = time.monotonic() + WAIT
        while True:
            start = len(self.seen)
            self.type(b"stty size\n")
            self.read_until(STTY_SIZE.pattern, start=start)
            answers = STTY_SIZE.findall(self.seen[start:])
            if b" ".join(answers[-1]) == lines_columns:
                return
            assert time.monotonic() < deadline, self.seen

    def close(self) -> int:
        try:
            return self.process.wait(WAIT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            os.close(self.main)


# stty's answer, "lines columns": at the start of a line, or right after the echoed command
# when the shell's line editor redrew its line for a SIGWINCH that came in the meantime
STTY_SIZE = re.compile(rb"(?<![\d.])(\d+) (\d+)\r\n")


def test_exec_with_a_terminal(kubectl: Kubectl, ns: str, two: str) -> None:
    args = ["exec", "-n", ns, "-it", two, "-c", "b", "--", "sh"]
    built_in = [sys.executable, "-c", BUILTIN, "--kubeconfig", kubectl.env["KUBECONFIG"], *args]
    for command in (kubectl.command(*args), built_in):
        terminal = Terminal(kubectl, command, (100, 30))
        try:
            # typed ahead of the session: nothing may be lost
            terminal.type(b"echo $((6 * 7))\nstty size\n")
            terminal.read_until(rb"[\r\n]42\r\n(.|\n)*(?<![\d.])\d+ \d+\r\n")
            terminal.size_becomes(b"30 100")  # the window's size at the start
            terminal.resize(120, 40)  # the remote terminal follows the window
            terminal.size_becomes(b"40 120")
            start = len(terminal.seen)
            terminal.type(b"exit 4\n")
            seen = terminal.read_until(rb"exit code 4\r\n$", ended=True, start=start)
        finally:
            code = terminal.close()
        assert code == 4, seen
        assert seen.endswith(b"command terminated with exit code 4\r\n"), seen
