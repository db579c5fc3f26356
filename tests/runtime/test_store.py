"""The image store: lazy built-ins, idempotence, content addressing, list/inspect/remove."""

from __future__ import annotations

from pathlib import Path

import pytest

from minikube_py.runtime.images.references import ImageNotFound
from minikube_py.runtime.images.store import ImageStore


def test_builtin_is_materialised_once_and_any_tag_resolves(tmp_path: Path) -> None:
    store = ImageStore(tmp_path)
    first = store.get("gcr.io/google-samples/hello-app:1.0")
    assert (first.root / "app/hello-app").is_file()
    assert first.config["ExposedPorts"] == {"8080/tcp": {}}
    again = ImageStore(tmp_path).get("gcr.io/google-samples/hello-app:2.0")
    assert again.id == first.id  # same content, same id, stored once
    assert len(list((tmp_path / "images").iterdir())) == 1
    assert [name for name, _ in store.list()] == [
        "gcr.io/google-samples/hello-app:1.0",
        "gcr.io/google-samples/hello-app:2.0",
    ]


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
