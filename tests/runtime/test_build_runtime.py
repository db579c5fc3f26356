"""Built and loaded images in the process runtime, and the ``image`` commands.

A compiled binary COPY'd into a ``FROM scratch`` image runs as the container's command. The
test compiles a tiny static C program when a C compiler is there, else it copies the host's
``/bin/echo`` — dynamically linked, which works only because containers here are host
processes (a real scratch image has no libc for it).
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from minikube_py.cli.images import image
from minikube_py.runtime.images.build import Builder
from minikube_py.runtime.images.imageload import LoadError, load_image
from minikube_py.runtime.images.store import ImageStore
from minikube_py.runtime.process import ProcessRuntime
from minikube_py.runtime.protocol import ContainerConfig, SandboxConfig
from tests.runtime.test_images_harness import loopback_address

HELLO_C = '#include <stdio.h>\nint main(int c, char **v) { printf("hello %s\\n", v[1]); }\n'


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[ProcessRuntime]:
    opened = ProcessRuntime(tmp_path / "runtime", ImageStore(tmp_path / "images"))
    try:
        yield opened
    finally:
        await opened.close()


def binary(directory: Path) -> Path:
    """A program printing ``hello <arg>``: static C if it compiles, else the host's echo."""
    directory.mkdir(parents=True, exist_ok=True)
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler:
        (directory / "hello.c").write_text(HELLO_C)
        built = subprocess.run(
            [compiler, "-static", "-O2", "-o", str(directory / "server"), "hello.c"],
            cwd=directory,
            capture_output=True,
            timeout=60,
        )
        if built.returncode == 0:
            return directory / "server"
    script = directory / "server"
    script.write_text('#!/bin/sh\necho hello "$1"\n')  # no compiler: a script does the same
    script.chmod(0o755)
    return script


async def run_once(runtime: ProcessRuntime, tmp_path: Path, reference: str) -> str:
    """Start a container of ``reference`` in a new pod and return what it printed."""
    sandbox = await runtime.create_sandbox(
        SandboxConfig("uid", "default", "p", loopback_address(), "p", tmp_path / "pod")
    )
    container = await runtime.create_container(sandbox, ContainerConfig(name="c", image=reference))
    await runtime.start_container(container)
    for _ in range(500):
        status = await runtime.container_status(container)
        if status.exit_code is not None:
            break
        await __import__("asyncio").sleep(0.01)
    assert status.exit_code == 0, status
    text = runtime.log_path(container).read_text()
    await runtime.remove_sandbox(sandbox)
    return text


async def test_a_binary_in_a_scratch_image_runs_as_the_command(
    runtime: ProcessRuntime, tmp_path: Path
) -> None:
    context = tmp_path / "context"
    binary(context)
    (context / "Dockerfile").write_text(
        'FROM scratch\nCOPY server /server\nENTRYPOINT ["/server"]\nCMD ["world"]\n'
    )
    Builder(runtime.images).build("hello:1", context)
    assert "hello world" in await run_once(runtime, tmp_path, "hello:1")
    # A rebuild under the same tag while the runtime holds the old one: the next pod sees it.
    (context / "Dockerfile").write_text(
        'FROM scratch\nCOPY server /server\nENTRYPOINT ["/server"]\nCMD ["again"]\n'
    )
    Builder(ImageStore(tmp_path / "images")).build("hello:1", context)  # another writer
    assert "hello again" in await run_once(runtime, tmp_path, "hello:1")


def docker_save(path: Path) -> Path:
    """A two-layer tarball as ``docker save`` writes it; the second layer deletes a file."""

    def layer(entries: dict[str, bytes | None]) -> bytes:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for name, data in entries.items():
                info = tarfile.TarInfo(name)
                if data is None:
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    tar.addfile(info)
                else:
                    info.size, info.mode = len(data), 0o755
                    tar.addfile(info, io.BytesIO(data))
        return buffer.getvalue()

    config = {
        "config": {
            "Cmd": ["/app/run.sh"],
            "Env": ["PATH=/bin", "MODE=loaded"],
            "WorkingDir": "/app",
        }
    }
    members = {
        "manifest.json": json.dumps(
            [
                {
                    "Config": "c.json",
                    "RepoTags": ["loaded:2"],
                    "Layers": ["l1/layer.tar", "l2/layer.tar"],
                }
            ]
        ).encode(),
        "c.json": json.dumps(config).encode(),
        "l1/layer.tar": layer(
            {"app": None, "app/run.sh": b"#!/bin/sh\necho loaded $MODE\n", "app/old": b"x"}
        ),
        "l2/layer.tar": layer({"app/.wh.old": b"", "app/new": b"y"}),
    }
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


async def test_a_loaded_image_applies_its_layers_and_runs(
    runtime: ProcessRuntime, tmp_path: Path
) -> None:
    names = load_image(runtime.images, docker_save(tmp_path / "saved.tar"))
    assert names == ["loaded:2"]
    root = runtime.images.get("loaded:2").root
    assert sorted(p.name for p in (root / "app").iterdir()) == ["new", "run.sh"]  # whiteout
    assert "loaded loaded" in await run_once(runtime, tmp_path, "loaded:2")
    not_an_image = tmp_path / "plain.tar"
    with tarfile.open(not_an_image, "w"):
        pass
    with pytest.raises(LoadError, match="docker save"):
        load_image(runtime.images, not_an_image)


def test_the_image_commands(tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM busybox\nCOPY a.txt /a.txt\nCMD cat /a.txt\n")
    (context / "a.txt").write_text("a")
    runner = CliRunner()
    state = ["--state-dir", str(tmp_path / "state")]
    first = runner.invoke(image, ["build", "-t", "demo", str(context), *state])
    assert first.exit_code == 0, first.output
    assert "Successfully tagged demo" in first.output
    again = runner.invoke(image, ["build", "-t", "demo", str(context), *state])
    assert "2 of 2 steps cached" in again.output
    listed = runner.invoke(image, ["ls", *state])
    assert "docker.io/library/demo:latest" in listed.output.splitlines()
    table = runner.invoke(image, ["ls", "--format", "table", *state])
    assert "| docker.io/library/demo    | latest |" in table.output
    loaded = runner.invoke(image, ["load", str(docker_save(tmp_path / "s.tar")), *state])
    assert loaded.output == "Loaded image: loaded:2\n"
    removed = runner.invoke(image, ["rm", "demo", *state])
    assert removed.output == "Untagged: demo\n"
    missing = runner.invoke(image, ["rm", "demo", *state])
    assert (missing.exit_code, missing.output) == (1, "Error: No such image: demo\n")
    unknown = runner.invoke(
        image, ["ls", "-p", "no-such-profile"], env={"MINIKUBE_PY_HOME": str(tmp_path)}
    )
    assert unknown.exit_code == 85 and 'Profile "no-such-profile" not found' in unknown.output
    (context / "Dockerfile").write_text("FROM busybox\nFROBNICATE x\n")
    broken = runner.invoke(image, ["build", "-t", "demo", str(context), *state])
    assert broken.exit_code == 1
    assert broken.output.splitlines()[-1] == "Error: Dockerfile:2: unknown instruction: FROBNICATE"
