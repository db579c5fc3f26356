"""emptyDir volumes: made once per pod inside its directory, mounted where each container asks,
``subPath`` inside them; kinds not provided yet are left out."""

from __future__ import annotations

from pathlib import Path

from minikube_py.kubelet.volumes import EMPTY_DIR, container_mounts, prepare_volumes
from minikube_py.runtime.protocol import Mount

POD = {
    "spec": {
        "volumes": [
            {"name": "content", "emptyDir": {"sizeLimit": "10Mi"}},
            {"name": "cache", "emptyDir": {"medium": "Memory"}},
            {"name": "settings", "configMap": {"name": "app"}},
        ]
    }
}


def test_empty_dirs_are_made_in_the_pod_directory(tmp_path: Path) -> None:
    volumes = prepare_volumes(POD, tmp_path)
    assert volumes == {
        "content": tmp_path / "volumes" / EMPTY_DIR / "content",
        "cache": tmp_path / "volumes" / EMPTY_DIR / "cache",
    }
    assert all(path.is_dir() and not any(path.iterdir()) for path in volumes.values())
    (volumes["content"] / "kept").write_text("x")
    assert prepare_volumes(POD, tmp_path) == volumes  # a second pass keeps what is there
    assert (volumes["content"] / "kept").read_text() == "x"


def test_mounts_follow_volume_mounts(tmp_path: Path) -> None:
    volumes = prepare_volumes(POD, tmp_path)
    container = {
        "volumeMounts": [
            {"name": "content", "mountPath": "/usr/share/nginx/html", "readOnly": True},
            {"name": "cache", "mountPath": "/cache", "subPath": "a/b"},
            {"name": "settings", "mountPath": "/etc/app"},
        ]
    }
    assert container_mounts(container, volumes) == [
        Mount(volumes["content"], "/usr/share/nginx/html", read_only=True),
        Mount(volumes["cache"] / "a" / "b", "/cache"),
    ]
    assert (volumes["cache"] / "a" / "b").is_dir()
    assert container_mounts({}, volumes) == []
