"""The start-up hook's files: a Python program opens its volumes at the paths the pod names.

The runtime gives a container its mount table in ``MINIKUBE_PY_MOUNTS``; the hook moves paths
under a mount point to the volume's host directory in ``open``, ``os`` and ``ssl``. The pure
parts (reading the table, finding a path's volume) are tested on the hook module loaded here;
the patched functions in real interpreters started with the hook, and once in a container the
process runtime starts.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from minikube_py.runtime import pyhook
from minikube_py.runtime.commands import container_env, mount_table
from minikube_py.runtime.process import ProcessRuntime
from minikube_py.runtime.protocol import Mount

from .process_helpers import finished, log_lines, no_leftovers, python, run, runtime, sandbox

__all__ = ["no_leftovers", "runtime", "sandbox"]

SA = "/var/run/secrets/kubernetes.io/serviceaccount"


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The hook's volume module loaded apart, without a table (it patches nothing)."""
    monkeypatch.delenv("MINIKUBE_PY_MOUNTS", raising=False)
    monkeypatch.delenv("POD_IP", raising=False)
    spec = importlib.util.spec_from_file_location(
        "_hook_under_test", pyhook.HOOK.with_name("_minikube_py_mounts.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module


@pytest.mark.parametrize(
    "table",
    [
        [],
        [["/data", "/srv/v/data", False]],
        [[SA, "/pods/x/volumes/kube-api-access-1", True], ["/data", "/srv/data", False]],
        [["/a b/c", "/h/ü", True]],  # escaped by json.dumps: the hook falls back to json
        [['/q"uote', "/h/back\\slash", False]],
    ],
)
def test_the_table_reads_back_as_the_runtime_wrote_it(hook: Any, table: list[Any]) -> None:
    mounts = [Mount(Path(host), point, read_only) for point, host, read_only in table]
    assert hook.parse_mounts(mount_table(mounts)) == [tuple(entry) for entry in table]
    # the quick reading agrees with json on the runtime's compact form
    compact = json.dumps(table, separators=(",", ":"))
    assert hook.parse_mounts(compact) == [tuple(entry) for entry in json.loads(compact)]


def test_the_runtime_sets_the_table_only_for_a_container_with_mounts(tmp_path: Path) -> None:
    plain = container_env({}, {}, root=tmp_path, pod_ip="1", hostname="h")
    assert "MINIKUBE_PY_MOUNTS" not in plain
    mounted = container_env(
        {},
        {},
        root=tmp_path,
        pod_ip="1",
        hostname="h",
        mounts=[Mount(tmp_path / "v", f"{SA}/", read_only=True), Mount(tmp_path / "d", "data")],
    )
    assert json.loads(mounted["MINIKUBE_PY_MOUNTS"]) == [
        [SA, str(tmp_path / "v"), True],
        ["/data", str(tmp_path / "d"), False],
    ]


def test_the_longest_mount_point_wins_and_other_paths_stay(hook: Any) -> None:
    hook._TABLE[:] = hook.build_table(
        json.dumps([["/data", "/h/data", False], ["/data/logs", "/h/logs", True]]), "/r/rootfs"
    )
    assert hook.locate("/data") == ("/h/data", False)
    assert hook.locate("/data/x/y") == ("/h/data/x/y", False)
    assert hook.locate("/data/logs/a") == ("/h/logs/a", True)
    assert hook.locate("/data//logs/./a") == ("/h/logs/a", True)
    assert hook.locate("/data/../etc/hosts") is None
    assert hook.locate("/database") is None
    assert hook.locate("/etc/hosts") is None  # only mounts move, as in sh -c scripts


def test_host_paths_inside_a_mount_point_are_left_alone(hook: Any) -> None:
    # A volume at /tmp while the pod's directory (root, volumes) lies under /tmp too.
    root = "/tmp/cluster/pods/p/containers/c-0/rootfs"
    host = "/tmp/cluster/pods/p/volumes/kubernetes.io~empty-dir/scratch"
    hook._TABLE[:] = hook.build_table(json.dumps([["/tmp", host, False]]), root)
    assert hook.locate("/tmp/x") == (f"{host}/x", False)
    assert hook.locate(f"{root}/app/main.py") is None
    assert hook.locate(f"{host}/x") is None
    # and the interpreter's own files, under a volume mounted above them
    parent = os.path.dirname(sys.prefix)
    if parent == "/":
        return
    hook._TABLE[:] = hook.build_table(json.dumps([[parent, "/h", False]]), root)
    assert hook.locate(f"{sys.prefix}/lib/os.py") is None
    assert hook.locate(f"{parent}/other") == ("/h/other", False)


def hooked(code: str, table: list[Any] | str, *, root: str = "/nonexistent-root") -> str:
    """Run ``code`` in an interpreter with the hook and ``table``; its stdout."""
    env = {k: v for k, v in os.environ.items() if k not in ("POD_IP", "PYTHONPATH")}
    env |= {
        "PYTHONPATH": str(pyhook.directory()),
        "MINIKUBE_PY_ROOT": root,
        # compact, as the runtime writes it (``mount_table``)
        "MINIKUBE_PY_MOUNTS": (
            table if isinstance(table, str) else json.dumps(table, separators=(",", ":"))
        ),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def volumes(tmp_path: Path) -> tuple[Path, Path, list[Any]]:
    """A read-only service-account volume and a writable one at /data."""
    account, data = tmp_path / "account", tmp_path / "data"
    (account / "..2026_01_01").mkdir(parents=True)
    (account / "..2026_01_01" / "token").write_text("tok")
    (account / "..data").symlink_to("..2026_01_01")
    (account / "token").symlink_to("..data/token")
    data.mkdir()
    return account, data, [[SA, str(account), True], ["/data", str(data), False]]


READER = f"""
import os, pathlib, stat
sa = "{SA}"
print(open(sa + "/token").read(), open(os.fsencode(sa + "/token"), "rb").read().decode())
print(pathlib.Path(sa, "token").read_text(), os.path.isfile(sa + "/token"), os.path.isdir(sa))
print(sorted(os.listdir(sa)), sorted(e.name for e in os.scandir(sa)))
print([p.name for p in pathlib.Path(sa).iterdir() if not p.name.startswith("..")])
print(os.readlink(sa + "/token"), os.path.exists(sa + "/no"), stat.S_ISDIR(os.lstat(sa).st_mode))
print(os.access(sa + "/token", os.R_OK), os.access(sa + "/token", os.W_OK))
fd = os.open(sa + "/token", os.O_RDONLY); print(os.read(fd, 9).decode()); os.close(fd)
os.chdir(sa); print(open("token").read())
print(os.path.realpath(sa + "/token"), pathlib.Path(sa, "..data").resolve())
"""


def test_a_program_reads_a_mounted_volume_at_its_container_path(
    volumes: tuple[Path, Path, list[Any]],
) -> None:
    assert hooked(READER, volumes[2]).splitlines() == [
        "tok tok",
        "tok True True",
        "['..2026_01_01', '..data', 'token'] ['..2026_01_01', '..data', 'token']",
        "['token']",
        "..data/token False True",
        "True False",
        "tok",
        "tok",
        f"{SA}/..2026_01_01/token {SA}/..2026_01_01",
    ]


WRITER = f"""
import os, pathlib, shutil
os.makedirs("/data/a/b", exist_ok=True)
pathlib.Path("/data/a/b/f.txt").write_text("hi")
with open("/data/a/g.txt", "w") as f: f.write("g")
os.rename("/data/a/g.txt", "/data/a/h.txt")
shutil.copy("/data/a/h.txt", "/data/copy.txt")
print(sorted((d, sorted(f)) for d, _, f in os.walk("/data")))
for attempt in (
    lambda: open("{SA}/token", "a"),
    lambda: os.open("{SA}/new", os.O_WRONLY | os.O_CREAT),
    lambda: os.mkdir("{SA}/dir"),
    lambda: os.remove("{SA}/token"),
    lambda: pathlib.Path("{SA}/token").write_text("x"),
):
    try:
        attempt()
        print("written")
    except OSError as error:
        print(error.errno, error.strerror, error.filename)
"""


def test_writes_land_in_the_volume_and_a_read_only_one_refuses_them(
    volumes: tuple[Path, Path, list[Any]],
) -> None:
    account, data, table = volumes
    lines = hooked(WRITER, table).splitlines()
    assert lines[0] == str(
        [("/data", ["copy.txt"]), ("/data/a", ["h.txt"]), ("/data/a/b", ["f.txt"])]
    )
    refused = f"30 Read-only file system {SA}/"
    assert lines[1:] == [refused + name for name in ("token", "new", "dir", "token", "token")]
    assert (data / "a" / "b" / "f.txt").read_text() == "hi"
    assert (account / "token").read_text() == "tok"
    assert not (account / "new").exists()


def test_ssl_loads_a_ca_certificate_by_its_container_path(tmp_path: Path) -> None:
    cert = subprocess.run(
        [sys.executable, "-c", "import certifi; print(certifi.where())"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    if not cert:
        pytest.skip("no CA bundle to load")
    volume = tmp_path / "account"
    volume.mkdir()
    (volume / "ca.crt").write_bytes(Path(cert).read_bytes())
    code = (
        f"import ssl; c = ssl.create_default_context(cafile='{SA}/ca.crt');"
        "print(len(c.get_ca_certs()) > 0)"
    )
    assert hooked(code, [[SA, str(volume), True]]).strip() == "True"


def test_a_broken_table_changes_nothing_and_costs_no_json_import(tmp_path: Path) -> None:
    code = "import os, sys; print(os.path.exists('/data'), 'json' in sys.modules)"
    without = subprocess.run(
        [sys.executable, "-c", "import sys; print('json' in sys.modules)"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    ).stdout.strip()
    # (a table it cannot read quickly goes to json, which then refuses it)
    assert hooked(code, "[[not json").split()[0] == str(os.path.exists("/data"))
    assert hooked(code, [["/data", str(tmp_path), False]]).split() == ["True", without]


async def test_a_container_opens_its_volume_by_the_mount_path(
    runtime: ProcessRuntime, sandbox: str, tmp_path: Path
) -> None:
    volume = tmp_path / "volume"
    volume.mkdir()
    (volume / "token").write_text("from the volume")
    code = (
        "import json, os\n"
        f"token = open('{SA}/token').read()\n"
        "try:\n"
        f"    open('{SA}/token', 'w')\n"
        "    refused = None\n"
        "except OSError as error:\n"
        "    refused = error.strerror\n"
        "print(json.dumps([token, refused, 'MINIKUBE_PY_MOUNTS' in os.environ]))\n"
    )
    config = python(code, mounts=[Mount(volume, SA, read_only=True)])
    container = await run(runtime, sandbox, config)
    status = await finished(runtime, container)
    assert status.exit_code == 0, runtime.log_path(container).read_text()
    seen = json.loads(log_lines(runtime.log_path(container))[0][2])
    assert seen == ["from the volume", "Read-only file system", True]
