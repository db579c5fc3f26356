"""A small stand-in for the process runtime, so built-in images can be tested on their own.

``Containers.run(image, ...)`` starts a container the way the runtime contract says: a
writable copy of the image root, ``MINIKUBE_PY_ROOT``, ``POD_IP``, ``HOSTNAME``, the image's
``PATH`` mapped under the root before the host's, the start-up hook first on ``PYTHONPATH``,
``argv[0]`` looked up along that ``PATH``, absolute arguments that exist under the root
rewritten, the working directory at root + WORKDIR, a process group of its own. Every process
is killed and reaped when the test ends. The tests at the bottom check the harness itself.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from minikube_py.runtime import pyhook
from minikube_py.runtime.images.store import Image, ImageStore

HOST_PATH = "/usr/local/bin:/usr/bin:/bin"


def loopback_address() -> str:
    """A random address in a corner of 127.0.0.0/8 no cluster plan uses (127.244/.49/.96)."""
    return f"127.77.{random.randrange(256)}.{random.randrange(2, 255)}"


def wait_for_port(address: str, port: int, process: subprocess.Popen[Any]) -> None:
    """Return once something accepts connections there; fail if the process dies first."""
    deadline = time.monotonic() + 15
    while True:
        assert process.poll() is None, f"process exited with {process.returncode}"
        try:
            socket.create_connection((address, port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"nothing listens on {address}:{port}"
            time.sleep(0.02)


def wait_until(condition: object, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not callable(condition) or not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


class Container:
    """One running (or finished) container process and what it wrote."""

    def __init__(self, image: Image, root: Path, env: dict[str, str], cwd: Path) -> None:
        self.image, self.root, self.env, self.cwd = image, root, env, cwd
        self.pod_ip = env["POD_IP"]
        self.stdout_path = root.parent / "stdout"
        self.stderr_path = root.parent / "stderr"
        self.process: subprocess.Popen[bytes] | None = None

    def resolve(self, argv: Sequence[str]) -> list[str]:
        """argv[0] along the container's PATH; absolute arguments existing under the root."""
        first, *rest = argv
        if "/" not in first:
            for entry in self.env["PATH"].split(":"):
                candidate = Path(entry) / first
                if candidate.is_file() and os.access(candidate, os.X_OK):
                    first = str(candidate)
                    break
        elif first.startswith("/") and (self.root / first.lstrip("/")).exists():
            first = str(self.root / first.lstrip("/"))
        mapped = [
            str(self.root / arg.lstrip("/"))
            if arg.startswith("/") and len(arg) > 1 and (self.root / arg.lstrip("/")).exists()
            else arg
            for arg in rest
        ]
        return [first, *mapped]

    def start(self, argv: Sequence[str]) -> Container:
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                self.resolve(argv),
                env=self.env,
                cwd=self.cwd,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    def exec(
        self, argv: Sequence[str], *, input: bytes = b"", env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        """Run a command in the container's context, as ``kubectl exec`` would."""
        return subprocess.run(
            self.resolve(argv),
            env={**self.env, **(env or {})},
            cwd=self.cwd,
            input=input,
            capture_output=True,
            timeout=30,
            start_new_session=True,
        )

    def wait_for_port(self, port: int) -> None:
        assert self.process is not None
        wait_for_port(self.pod_ip, port, self.process)

    def stdout(self) -> str:
        return self.stdout_path.read_text()

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def terminate(self, timeout: float = 5) -> int:
        """SIGTERM to the process group, as the kubelet stops a container; its exit code."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class Containers:
    """Creates containers from one image store; kills everything it started at the end."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.store = ImageStore(directory / "images")
        self.started: list[Container] = []

    def create(
        self,
        reference: str,
        *,
        name: str = "pod-0",
        pod_ip: str | None = None,
        env: Mapping[str, str] | None = None,
        root: Path | None = None,
    ) -> Container:
        image = self.store.get(reference)
        if root is None:  # a fresh writable copy of the image root
            root = self.directory / "containers" / f"{name}-{len(self.started)}" / "rootfs"
            shutil.copytree(image.root, root, symlinks=True)
        config = image.config
        image_env = dict(item.split("=", 1) for item in config.get("Env", []))
        image_path = image_env.pop("PATH", "")
        path = [str(root / entry.lstrip("/")) for entry in image_path.split(":") if entry]
        full_env = {
            **image_env,
            "PATH": ":".join([*path, HOST_PATH]),
            "MINIKUBE_PY_ROOT": str(root),
            "POD_IP": pod_ip or loopback_address(),
            "HOSTNAME": name,
            "PYTHONPATH": str(pyhook.directory()),
            "HOME": "/root",
            **(env or {}),
        }
        cwd = root / str(config.get("WorkingDir") or "/").lstrip("/")
        container = Container(image, root, full_env, cwd)
        self.started.append(container)
        return container

    def run(
        self,
        reference: str,
        *,
        command: Sequence[str] = (),
        args: Sequence[str] = (),
        **options: object,
    ) -> Container:
        """Create and start: pod ``command`` replaces Entrypoint, ``args`` replaces Cmd."""
        container = self.create(reference, **options)  # type: ignore[arg-type]
        config = container.image.config
        argv = [*(command or config["Entrypoint"]), *(args or ([] if command else config["Cmd"]))]
        return container.start(argv)

    def close(self) -> None:
        for container in self.started:
            container.kill()


@pytest.fixture
def containers(tmp_path: Path) -> Iterator[Containers]:
    runner = Containers(tmp_path)
    try:
        yield runner
    finally:
        runner.close()


def test_commands_resolve_under_the_root_first_then_on_the_host(containers: Containers) -> None:
    box = containers.create("busybox:1.36")
    assert box.resolve(["wget", "-qO-", "x"])[0] == str(box.root / "bin/wget")
    # busybox's sh is the image's (bash as sh, where the host has bash), else the host's
    shells = (str(box.root / "bin/sh"), "/usr/local/bin/sh", "/usr/bin/sh", "/bin/sh")
    assert box.resolve(["sh"])[0] in shells
    done = box.exec(["sh", "-c", "echo hello from $HOSTNAME; pwd"])
    assert done.returncode == 0
    assert done.stdout.decode().splitlines() == ["hello from pod-0", str(box.root)]


def test_python_image_runs_the_host_interpreter_with_the_hook(containers: Containers) -> None:
    python = containers.create("python:3.11-slim", pod_ip="127.77.0.9")
    program = (
        "import socket, sys; s = socket.socket(); s.bind(('0.0.0.0', 0)); "
        "print(s.getsockname()[0], sys.version_info[:2])"
    )
    done = python.exec(["python3", "-c", program])
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().split()[0] == "127.77.0.9"
    assert python.exec(["python", "-c", "print(1 + 1)"]).stdout == b"2\n"


def test_workdir_exists_in_the_image(containers: Containers) -> None:
    redis = containers.create("redis")
    assert redis.cwd == redis.root / "data" and redis.cwd.is_dir()
