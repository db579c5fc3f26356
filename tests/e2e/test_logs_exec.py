"""``kubectl logs``, ``exec``, ``attach``, ``cp`` and the Python client's ``stream`` against a
real API server whose kubelet is a scripted fake (``tests/apiserver/fakestreams.py``).

The server runs in the test's event loop; kubectl runs as a child process (fresh HOME and
cache directory, killed by pid if it overruns) and the synchronous Python client in a thread,
so the loop keeps serving while they talk to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import shutil
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from minikube_py.runtime.protocol import LogOptions
from tests.apiserver.fakestreams import FakeNodeStreams, Served, serving

SECONDS = 30.0


@pytest.fixture
def streams() -> FakeNodeStreams:
    return FakeNodeStreams(
        logs_by_container={
            ("web", "web"): [b"one\n", b"two\n", b"three\n"],
            ("duo", "b"): [b"from b\n"],
        }
    )


@pytest.fixture
async def served(tmp_path: Path, streams: FakeNodeStreams) -> AsyncIterator[Served]:
    async with serving(tmp_path / "server", streams) as served:
        await served.create_pod("web", "web")
        await served.create_pod("duo", "a", "b")
        await served.create_pod("done", "c", phase="Succeeded")
        yield served


class Kubectl:
    """The real kubectl as a child process of the test, against ``served``."""

    def __init__(self, binary: str, served: Served, base: Path) -> None:
        home, self.cache = base / "home", base / "cache"
        home.mkdir(parents=True)
        self.binary = binary
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KUBECTL_")}
        self.env.update(HOME=str(home), KUBECONFIG=str(served.kubeconfig), NO_PROXY="*")
        self.workdir = base

    async def start(self, *args: str, stdin: bool = False) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            self.binary,
            f"--cache-dir={self.cache}",
            *args,
            env=self.env,
            cwd=self.workdir,
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )

    async def run(self, *args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
        process = await self.start(*args, stdin=stdin is not None)
        try:
            out, err = await asyncio.wait_for(process.communicate(stdin), SECONDS)
        finally:
            await stop(process)
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()


async def stop(process: asyncio.subprocess.Process) -> None:
    """Kill the child we started, by pid, if it still runs; reap it either way."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    await process.wait()


@pytest.fixture
def kubectl(served: Served, tmp_path: Path) -> Kubectl:
    binary = shutil.which("kubectl")
    if binary is None:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail("kubectl is not on PATH (CI=true: failing instead of skipping)")
        pytest.skip("kubectl is not on PATH")
    return Kubectl(binary, served, tmp_path / "kubectl")


async def test_kubectl_logs(kubectl: Kubectl, streams: FakeNodeStreams) -> None:
    assert await kubectl.run("logs", "web") == (0, "one\ntwo\nthree\n", "")
    assert await kubectl.run("logs", "web", "--tail=1", "--timestamps") == (0, "three\n", "")
    assert streams.log_requests[-1][3] == LogOptions(timestamps=True, tail_lines=1)
    assert await kubectl.run("logs", "duo", "-c", "b") == (0, "from b\n", "")
    code, _, err = await kubectl.run("logs", "duo", "-c", "nope")
    assert code == 1
    assert err.strip() == "error: container nope is not valid for pod duo"
    code, _, err = await kubectl.run("logs", "duo", "-c", "a")
    assert err.strip() == (
        'Error from server (BadRequest): container "a" in pod "duo" is waiting to start: '
        "ContainerCreating"
    )


async def test_kubectl_logs_follow_shows_lines_as_they_come(
    kubectl: Kubectl, streams: FakeNodeStreams
) -> None:
    streams.gate = asyncio.Event()
    process = await kubectl.start("logs", "-f", "web")
    try:
        assert process.stdout is not None
        for line in (b"one\n", b"two\n", b"three\n"):
            # each line reaches kubectl's output before the next one exists
            assert await asyncio.wait_for(process.stdout.readline(), SECONDS) == line
            streams.gate.set()
        assert await asyncio.wait_for(process.wait(), SECONDS) == 0
    finally:
        await stop(process)
    assert streams.log_requests[-1][3] == LogOptions(follow=True)


async def test_kubectl_exec_output_and_exit_code(kubectl: Kubectl) -> None:
    assert await kubectl.run("exec", "web", "--", "echo", "hi", "there") == (0, "hi there\n", "")
    code, out, err = await kubectl.run("exec", "web", "--", "sh", "-c", "exit 3")
    assert (code, out) == (3, "")
    assert err == "about to exit\ncommand terminated with exit code 3\n"
    # refused before the upgrade: kubectl falls back to SPDY, which is refused for the same
    # reason, and prints that Status
    code, _, err = await kubectl.run("exec", "web", "-c", "nope", "--", "ls")
    assert (code, err) == (
        1,
        "Error from server (BadRequest): container nope is not valid for pod web\n",
    )
    # the kubelet cannot start it: reported on the error channel after the upgrade
    assert (await kubectl.run("exec", "web", "--", "refuse"))[::2] == (
        1,
        'error: container "web" not found\n',
    )
    code, _, err = await kubectl.run("exec", "done", "--", "ls")
    assert code == 1
    assert "cannot exec into a container in a completed pod; current phase is Succeeded" in err


async def test_kubectl_exec_with_stdin(kubectl: Kubectl, streams: FakeNodeStreams) -> None:
    assert await kubectl.run("exec", "-i", "web", "--", "cat", stdin=b"hi\n") == (0, "hi\n", "")
    assert streams.sessions[-1].received == b"hi\n"
    assert streams.sessions[-1].stdin_closed.is_set()


async def test_kubectl_attach(kubectl: Kubectl) -> None:
    code, out, err = await kubectl.run("attach", "-i", "web", stdin=b"typed\n")
    assert (code, out) == (0, "typed\n")
    assert err == "If you don't see a command prompt, try pressing enter.\n"  # kubectl's own


async def test_kubectl_cp_sends_a_tar_stream_and_closes_stdin(
    kubectl: Kubectl, streams: FakeNodeStreams, tmp_path: Path
) -> None:
    source = tmp_path / "notes.txt"
    source.write_text("copied through exec\n")
    code, out, err = await kubectl.run("cp", str(source), "web:/tmp/notes.txt")
    assert (code, err) == (0, ""), out
    session = streams.sessions[-1]
    assert session.command[0] == "tar" and session.stdin_closed.is_set()
    with tarfile.open(fileobj=io.BytesIO(bytes(session.received))) as archive:
        member = archive.extractfile(archive.getmembers()[0])
        assert member is not None and member.read() == b"copied through exec\n"


async def test_python_client_stream(served: Served) -> None:
    from kubernetes import client, config
    from kubernetes.stream import stream

    api_client = config.new_client_from_config(config_file=str(served.kubeconfig))
    core = client.CoreV1Api(api_client)

    def exec_in_web(command: list[str], **more: Any) -> Any:
        return stream(
            core.connect_get_namespaced_pod_exec,
            "web",
            "default",
            command=command,
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
            **more,
        )

    def exit_code_of(command: list[str]) -> tuple[int, str]:
        session = exec_in_web(command, _preload_content=False)
        session.run_forever(timeout=SECONDS)
        return session.returncode, session.read_stderr()

    try:
        output = await asyncio.to_thread(exec_in_web, ["echo", "from", "python"])
        assert output == "from python\n"
        assert await asyncio.to_thread(exit_code_of, ["sh", "-c", "exit 3"]) == (
            3,
            "about to exit\n",
        )
        logs = await asyncio.to_thread(core.read_namespaced_pod_log, "web", "default", tail_lines=2)
        assert logs == "two\nthree\n"
    finally:
        api_client.close()


async def test_kubectl_exec_with_a_terminal(
    kubectl: Kubectl, streams: FakeNodeStreams, tmp_path: Path
) -> None:
    script = shutil.which("script")
    if script is None:
        pytest.skip("no `script` to give kubectl a terminal")
    command = " ".join(
        [kubectl.binary, f"--cache-dir={kubectl.cache}", "exec", "-it", "web", "--", "size"]
    )
    process = await asyncio.create_subprocess_exec(
        script,
        "-qec",
        f"stty cols 99 rows 33; {command}",
        "/dev/null",
        env=kubectl.env,
        cwd=tmp_path,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), SECONDS)
    finally:
        await stop(process)
    assert process.returncode == 0, out
    assert b"99x33" in out  # kubectl sent the terminal's size on the resize channel
    session = streams.sessions[-1]
    assert session.tty and session.resizes[0] == (99, 33)
