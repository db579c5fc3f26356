"""What a container runs and sees: argv, PATH, paths under its root, env, workdir, mounts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from minikube_py.runtime.commands import (
    PYHOOK,
    ExecFailure,
    compose_argv,
    container_env,
    resolve_argv,
)
from minikube_py.runtime.process import ProcessRuntime
from minikube_py.runtime.protocol import ContainerConfig, ContainerError, Mount

from .process_helpers import finished, log_lines, no_leftovers, python, run, runtime, sandbox

__all__ = ["no_leftovers", "runtime", "sandbox"]


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        ([], [], ["/entry", "default"]),  # the image's pair
        ([], ["mine"], ["/entry", "mine"]),  # args replace Cmd only
        (["run"], [], ["run"]),  # command replaces Entrypoint and drops Cmd
        (["run"], ["a", "b"], ["run", "a", "b"]),
    ],
)
def test_command_and_args_follow_kubernetes(
    command: list[str], args: list[str], expected: list[str]
) -> None:
    assert compose_argv(["/entry"], ["default"], command, args) == expected


def test_an_empty_command_line_is_a_create_error() -> None:
    with pytest.raises(ContainerError) as raised:
        compose_argv([], [], [], [])
    assert raised.value.reason == "CreateContainerError"


def test_environment_layers_and_path(tmp_path: Path) -> None:
    env = container_env(
        {"PATH": "/opt/bin:/usr/bin", "A": "image", "B": "image"},
        {"B": "pod", "PYTHONPATH": "/lib"},
        root=tmp_path,
        pod_ip="127.244.0.3",
        hostname="web-1",
    )
    assert (env["A"], env["B"]) == ("image", "pod")
    assert env["PATH"].split(":") == [
        f"{tmp_path}/opt/bin",
        f"{tmp_path}/usr/bin",
        "/usr/local/bin",
        "/usr/bin",
        "/bin",
    ]
    assert env["PYTHONPATH"] == f"{PYHOOK}:/lib"
    assert (env["POD_IP"], env["HOSTNAME"], env["MINIKUBE_PY_ROOT"]) == (
        "127.244.0.3",
        "web-1",
        str(tmp_path),
    )
    assert "TERM" not in env and "USER" not in env  # nothing of the host's environment


def test_resolution_prefers_the_root_and_rewrites_existing_paths(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "sh").write_text("#!/bin/sh\n")
    (tmp_path / "bin" / "sh").chmod(0o755)
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "app.conf").write_text("x")
    env = container_env({"PATH": "/bin"}, {}, root=tmp_path, pod_ip="1", hostname="h")
    argv = resolve_argv(
        ["sh", "/etc/app.conf", "/etc/missing", "etc/app.conf"], env, tmp_path, tmp_path
    )
    assert argv == [
        f"{tmp_path}/bin/sh",
        f"{tmp_path}/etc/app.conf",
        "/etc/missing",
        "etc/app.conf",
    ]
    assert resolve_argv(["cat"], env, tmp_path, tmp_path) == ["/usr/bin/cat"]  # the host's
    with pytest.raises(ExecFailure) as failed:
        resolve_argv(["/bin/nope"], env, tmp_path, tmp_path)
    assert failed.value.cause == 'exec: "/bin/nope": stat /bin/nope: no such file or directory'
    with pytest.raises(ExecFailure) as failed:
        resolve_argv(["/etc/app.conf"], env, tmp_path, tmp_path)
    assert failed.value.cause == 'exec: "/etc/app.conf": permission denied'


def test_paths_into_volume_mounts_go_under_the_root_also_in_shell_scripts(tmp_path: Path) -> None:
    env = container_env({"PATH": "/bin"}, {}, root=tmp_path, pod_ip="1", hostname="h")
    root = str(tmp_path)
    mounts = ["/content", "/work-dir/"]
    # a file about to be made in a mount is the container's, though it does not exist yet
    argv = resolve_argv(
        ["wget", "-O", "/work-dir/index.html", "/contents", "/etc/x"],
        env,
        tmp_path,
        tmp_path,
        mounts,
    )
    assert argv[2:] == [f"{root}/work-dir/index.html", "/contents", "/etc/x"]
    script = "echo hi > /content/index.html && cat /content/a /dev/null >/content/b; ls x/content"
    for flag in ("-c", "-ec"):
        argv = resolve_argv(["sh", flag, script], env, tmp_path, tmp_path, mounts)
        assert argv[2] == (
            f"echo hi > {root}/content/index.html && cat {root}/content/a /dev/null "
            f">{root}/content/b; ls x/content"
        )
    # only a shell's script is rewritten inside, and only with mounts
    assert resolve_argv(["echo", "-c", script], env, tmp_path, tmp_path, mounts)[2] == script
    assert resolve_argv(["sh", "-c", script], env, tmp_path, tmp_path)[2] == script


async def test_a_container_sees_its_root_env_workdir_and_mounts(
    runtime: ProcessRuntime, sandbox: str, tmp_path: Path
) -> None:
    program = (
        "import json, os, sys\n"
        "print(json.dumps({'cwd': os.getcwd(), 'argv': sys.argv, 'env': dict(os.environ),\n"
        "    'volume': open('/'.join([os.environ['MINIKUBE_PY_ROOT'], 'data/v.txt'])).read()}))\n"
    )
    runtime.images.add(
        "example.com/app:2",
        {"app/main.py": program.encode(), "app/conf.json": b"{}"},
        {
            "Entrypoint": [sys.executable, "/app/main.py"],
            "Cmd": ["/app/conf.json"],
            "Env": ["PATH=/usr/local/bin:/usr/bin", "GREETING=image", "MODE=image"],
            "WorkingDir": "/app",
        },
    )
    volume = tmp_path / "volume"
    volume.mkdir()
    (volume / "v.txt").write_text("from the volume")
    config = ContainerConfig(
        name="app",
        image="example.com/app:2",
        env={"MODE": "pod"},
        mounts=[Mount(volume, "/data")],
    )
    container = await run(runtime, sandbox, config)
    status = await finished(runtime, container)
    assert status.exit_code == 0, runtime.log_path(container).read_text()
    seen = json.loads(log_lines(runtime.log_path(container))[0][2])
    root = seen["env"]["MINIKUBE_PY_ROOT"]
    assert root.endswith("/containers/app-0/rootfs")
    assert seen["cwd"] == f"{root}/app"
    assert seen["argv"] == [f"{root}/app/main.py", f"{root}/app/conf.json"]
    assert (seen["env"]["GREETING"], seen["env"]["MODE"]) == ("image", "pod")
    assert (seen["env"]["POD_IP"], seen["env"]["HOSTNAME"]) == ("127.244.0.7", "web")
    assert seen["env"]["PATH"].startswith(f"{root}/usr/local/bin:{root}/usr/bin:")
    assert seen["volume"] == "from the volume"
    # The image itself was not touched by the container's root or its mounts.
    image_root = runtime.images.get("example.com/app:2").root
    assert sorted(p.name for p in image_root.iterdir()) == ["app"]


async def test_pod_working_dir_wins_and_is_created(runtime: ProcessRuntime, sandbox: str) -> None:
    config = python("import os; print(os.getcwd())", working_dir="/srv/site")
    container = await run(runtime, sandbox, config)
    await finished(runtime, container)
    assert log_lines(runtime.log_path(container))[0][2].endswith("/rootfs/srv/site")
