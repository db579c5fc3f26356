"""Golden tests for the built-in kubectl: the same command line through the real kubectl and
through ``minikube_py.kubectl``, on the same cluster, must print the same.

``same(kubectl, *args)`` runs both and compares exit code, standard output and standard error
after ``mask`` has replaced what legitimately differs between two runs: ages (``5s``, ``2m3s``),
timestamps, uids, resourceVersions, generated name suffixes — and column padding, which
follows the width of a masked value. The
built-in one runs in this process (``main`` with ``--kubeconfig``), so a failure shows its
traceback here.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from minikube_py.kubectl import main
from tests.e2e.conftest import KUBECTL_SECONDS, Kubectl


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


_SAFE = "[bcdfghjklmnpqrstvwxz2456789]"  # the alphabet of generated names
_MASKS = [
    # ages as kubectl's duration printer writes them, alone in a column or in "(5s ago)"
    (re.compile(r"(?<![\w.-])\d+[smhdy](\d+[smh])?(?![\w.-])"), "<age>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<time>"),
    (re.compile(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}"), "<time>"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uid>"),
    (re.compile(r'("resourceVersion": ?|resourceVersion: )"?\d+"?'), r"\1<rv>"),
    # generated names: pod-template-hash (8-10 characters) and generateName's 5 characters
    (re.compile(rf"-{_SAFE}{{8,10}}\b"), "-<hash>"),
    (re.compile(rf"-{_SAFE}{{5}}\b"), "-<x>"),
    # column padding: a masked value may have had another width in the other run
    (re.compile(r" {3,}"), "   "),
]


def mask(text: str) -> str:
    """``text`` with ages, times, uids, resourceVersions and generated suffixes masked."""
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


def real(kubectl: Kubectl, *args: str, stdin: str | None = None, timeout: float = 0) -> Result:
    """The real kubectl's answer."""
    done = kubectl.run(*args, check=False, stdin=stdin, timeout=timeout)
    return Result(done.returncode, done.stdout, done.stderr)


def builtin(kubectl: Kubectl, *args: str, stdin: str | None = None) -> Result:
    """The built-in kubectl's answer, run in this process against the same kubeconfig."""
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["--kubeconfig", kubectl.env["KUBECONFIG"], *args],
        stdin=io.StringIO(stdin or ""),
        stdout=out,
        stderr=err,
    )
    return Result(code, out.getvalue(), err.getvalue())


def same(kubectl: Kubectl, *args: str, stdin: str | None = None) -> Result:
    """Run ``args`` through both kubectls and assert they print the same (masked); the real
    kubectl's result, for further checks."""
    expected = real(kubectl, *args, stdin=stdin)
    got = builtin(kubectl, *args, stdin=stdin)
    return _compare(args, expected, got)


def same_at_once(kubectl: Kubectl, *args: str) -> Result:
    """``same`` for a read-only command that takes its time, as a watch that lasts until its
    ``--request-timeout``: the real kubectl runs as a child process while the built-in one runs
    here, so the two waits overlap instead of adding up. Only for commands that change
    nothing: two writes at once could see each other's effects."""
    process = kubectl.popen(*args)
    try:
        got = builtin(kubectl, *args)
        out, err = process.communicate(timeout=KUBECTL_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()  # our own child, by its pid
            process.wait(10)
    return _compare(args, Result(process.returncode, out, err), got)


def _compare(args: tuple[str, ...], expected: Result, got: Result) -> Result:
    shown = " ".join(args)
    assert mask(got.out) == mask(expected.out), f"kubectl {shown}: stdout differs"
    assert mask(got.err) == mask(expected.err), f"kubectl {shown}: stderr differs"
    assert got.code == expected.code, f"kubectl {shown}: exit {got.code}, kubectl {expected.code}"
    return expected
