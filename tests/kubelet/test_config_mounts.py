"""Mounts over API-object, hostPath and emptyDir volumes: sub-paths kept inside the volume,
``subPathExpr`` from the environment, config sub-paths copied (so updates do not reach them),
hostPath types checked with upstream's words, single-source volumes as projected ones."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest

from minikube_py.kubelet.configvolumes import as_projected, config_volume_names, uses_pod_metadata
from minikube_py.kubelet.environment import ConfigError
from minikube_py.kubelet.hostpath import prepare_host_path
from minikube_py.kubelet.mounts import SUBPATHS, container_mounts
from minikube_py.kubelet.projected import VolumeError, write_atomically


def _mount(**fields: object) -> dict[str, object]:
    return {"name": "app", "volumeMounts": [{"name": "v", "mountPath": "/m", **fields}]}


def test_sub_path_expr_comes_from_the_environment(tmp_path: Path) -> None:
    mounts = container_mounts(
        _mount(subPathExpr="logs/$(POD_NAME)"), {"v": tmp_path}, env={"POD_NAME": "web-0"}
    )
    assert mounts[0].host_path == (tmp_path / "logs" / "web-0").resolve()
    assert (tmp_path / "logs" / "web-0").is_dir()
    with pytest.raises(ConfigError, match=r"^missing value for EMPTY, POD_NAME$"):
        container_mounts(
            _mount(subPathExpr="$(POD_NAME)/$(EMPTY)"), {"v": tmp_path}, env={"EMPTY": ""}
        )


def test_sub_paths_leaving_the_volume_are_refused(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    volume.mkdir()
    (volume / "out").symlink_to(tmp_path)  # a program in the pod may make such a link
    with pytest.raises(ConfigError, match="must not be an absolute path"):
        container_mounts(_mount(subPath="/etc"), {"v": volume})
    with pytest.raises(ConfigError, match=re.escape("must not contain '..'")):
        container_mounts(_mount(subPath="a/../../b"), {"v": volume})
    refused = 'failed to prepare subPath for volumeMount "v" of container "app"'
    with pytest.raises(ConfigError, match=re.escape(refused)):
        container_mounts(_mount(subPath="out"), {"v": volume})
    with pytest.raises(ConfigError, match=re.escape(refused)):
        container_mounts(_mount(subPath="out/deeper"), {"v": volume})
    assert not (tmp_path / "deeper").exists()


def test_a_config_sub_path_is_a_copy_that_updates_do_not_reach(tmp_path: Path) -> None:
    volume, pod_dir = tmp_path / "volume", tmp_path / "pod"
    write_atomically(volume, {"nginx.conf": (b"one", 0o640)})
    container = {
        "name": "web",
        "volumeMounts": [
            {"name": "conf", "mountPath": "/etc/nginx/nginx.conf", "subPath": "nginx.conf"},
            {"name": "conf", "mountPath": "/etc/conf", "readOnly": False},
        ],
    }
    mounts = container_mounts(
        container, {"conf": volume}, config_volumes=frozenset({"conf"}), pod_directory=pod_dir
    )
    copy = pod_dir / SUBPATHS / "conf" / "web" / "0"
    assert [m.host_path for m in mounts] == [copy, volume]
    assert all(m.read_only for m in mounts)  # config volumes are always read-only
    assert copy.read_bytes() == b"one" and copy.stat().st_mode & 0o777 == 0o640
    write_atomically(volume, {"nginx.conf": (b"two", 0o640)})
    assert copy.read_bytes() == b"one"
    assert (volume / "nginx.conf").read_bytes() == b"two"


def test_host_path_types(tmp_path: Path) -> None:
    afile = tmp_path / "file"
    afile.write_text("x")
    assert prepare_host_path("h", {"path": str(afile), "type": "File"}) == afile
    assert prepare_host_path("h", {"path": str(tmp_path), "type": "Directory"}) == tmp_path
    for kind, what in (
        ("Directory", "a directory"),
        ("Socket", "a socket file"),
        ("CharDevice", "a character device"),
        ("BlockDevice", "a block device"),
    ):
        with pytest.raises(VolumeError) as refused:
            prepare_host_path("h", {"path": str(afile), "type": kind})
        assert str(refused.value) == (
            f'MountVolume.SetUp failed for volume "h" : hostPath type check failed: '
            f"{afile} is not {what}"
        )
    with pytest.raises(VolumeError, match="is not a file"):
        prepare_host_path("h", {"path": str(tmp_path), "type": "File"})
    made = prepare_host_path("h", {"path": str(tmp_path / "a" / "b"), "type": "DirectoryOrCreate"})
    assert made.is_dir() and made.stat().st_mode & 0o777 == 0o755 & ~_umask()
    created = prepare_host_path("h", {"path": str(tmp_path / "new"), "type": "FileOrCreate"})
    assert created.is_file() and created.read_text() == ""
    assert prepare_host_path("h", {"path": str(tmp_path / "plain")}).is_dir()  # type ""
    assert Path("/dev/null") == prepare_host_path("h", {"path": "/dev/null", "type": "CharDevice"})
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "sock"))
        prepare_host_path("h", {"path": str(tmp_path / "sock"), "type": "Socket"})
    with pytest.raises(VolumeError, match="Bogus is an invalid volume type"):
        prepare_host_path("h", {"path": str(afile), "type": "Bogus"})


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_single_source_volumes_are_projected_ones() -> None:
    secret = {"name": "s", "secret": {"secretName": "db", "items": [{"key": "k", "path": "p"}]}}
    assert as_projected(secret) == {
        "name": "s",
        "projected": {
            "defaultMode": 0o644,
            "sources": [
                {"secret": {"name": "db", "optional": False, "items": [{"key": "k", "path": "p"}]}}
            ],
        },
    }
    config = {"name": "c", "configMap": {"name": "app", "defaultMode": 0o400, "optional": True}}
    assert as_projected(config)["projected"] == {
        "defaultMode": 0o400,
        "sources": [{"configMap": {"name": "app", "optional": True}}],
    }
    labels = {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}
    pod = {
        "spec": {
            "volumes": [
                {"name": "d", "downwardAPI": {"items": [labels]}},
                {"name": "e", "emptyDir": {}},
                config,
            ]
        }
    }
    assert config_volume_names(pod) == {"d", "c"}
    assert uses_pod_metadata(pod)
    assert not uses_pod_metadata({"spec": {"volumes": [config]}})
