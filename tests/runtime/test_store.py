"""The image store: lazy built-ins, idempotence, content addressing, list/inspect/remove."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from minikube_py.runtime.images.builtin.catalog import CATALOG
from minikube_py.runtime.images.references import ImageNotFound, resolve_builtin
from minikube_py.runtime.images.store import ImageStore


def test_builtin_is_materialised_once_and_any_tag_resolves(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    first = store.get("nginx:1.14.2")
    assert (first.root / "usr/share/nginx/html/index.html").is_file()
    assert first.config["ExposedPorts"] == {"80/tcp": {}}
    again = ImageStore(tmp_path).get("docker.io/library/nginx:latest")
    assert again.id == first.id  # same content, same id, stored once
    assert len(list((tmp_path / "images").iterdir())) == 1
    assert [name for name, _ in store.list()] == [
        "docker.io/library/nginx:1.14.2",
        "docker.io/library/nginx:latest",
    ]


@pytest.mark.parametrize(
    ("reference", "version"),
    [
        ("gcr.io/google-samples/hello-app:1.0", "1.0.0"),
        ("gcr.io/google-samples/hello-app:2.0", "2.0.0"),
        ("gcr.io/google-samples/hello-app", "1.0.0"),
        ("gcr.io/google-samples/kubernetes-bootcamp:v1", "1"),
        ("jocatalin/kubernetes-bootcamp:v2", "2"),
    ],
)
def test_demo_apps_take_their_version_from_the_tag(
    tmp_path: Path, reference: str, version: str
) -> None:
    image = ImageStore(tmp_path).get(reference)
    assert f"VERSION={version}" in image.config["Env"]


def test_content_addressing_and_removal(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    config = {"Entrypoint": ["/bin/true"], "Cmd": [], "Env": [], "WorkingDir": "/"}
    a = store.add("localhost/a:1", {"x": b"1"}, config)
    b = store.add("localhost/b:1", {"x": b"2"}, config)
    assert a.id != b.id and a.id.startswith("sha256:")
    assert store.inspect("localhost/a:1")["RepoTags"] == ["localhost/a:1"]
    store.remove("localhost/a:1")
    assert not a.root.exists() and b.root.exists()
    with pytest.raises(ImageNotFound):
        store.remove("localhost/a:1")


def test_unknown_image(tmp_path: Path) -> None:
    with pytest.raises(ImageNotFound, match="minikube-py image build"):
        ImageStore(tmp_path).get("example.com/nope:1")


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_every_builtin_materialises_with_runnable_programs(tmp_path: Path, name: str) -> None:
    entry = CATALOG[name]
    image = ImageStore(tmp_path).get(f"{entry.repositories[0]}:some-tag")
    assert image.config == entry.config()
    for path in entry.programs:
        program = image.root / path
        assert os.access(program, os.X_OK)
        assert program.read_bytes().startswith(f"#!{sys.executable}\n".encode())
    assert (image.root / "tmp").is_dir()
    assert (image.root / image.config["WorkingDir"].lstrip("/")).is_dir()
    for repository in entry.repositories:
        assert resolve_builtin(f"{repository}:1.0") == name


def test_python_image_launches_the_host_interpreter(tmp_path: Path) -> None:
    image = ImageStore(tmp_path).get("python:3.12")
    assert image.config["Cmd"] == ["python3"]
    launcher = image.root / "usr/local/bin/python3"
    done = subprocess.run(
        [launcher, "-c", "import sys; print(sys.executable)"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.stdout.strip() == sys.executable


def test_directories_are_part_of_the_content(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    plain = store.add("localhost/a:1", {"x": b"1"}, {"WorkingDir": "/"})
    with_tmp = store.add("localhost/a:2", {"x": b"1", "tmp/": b""}, {"WorkingDir": "/srv"})
    assert plain.id != with_tmp.id
    assert (with_tmp.root / "tmp").is_dir() and (with_tmp.root / "srv").is_dir()
    assert not (plain.root / "tmp").exists()
