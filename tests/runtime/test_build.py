"""Building images: every instruction of the subset, the cache, multi-stage builds, errors."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from minikube_py.runtime.images.build import Builder, BuildResult
from minikube_py.runtime.images.dockerfile import DockerfileError
from minikube_py.runtime.images.store import ImageStore


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory


def build(
    tmp_path: Path,
    dockerfile: str,
    files: dict[str, str] | None = None,
    reference: str = "demo:1",
    **options: object,
) -> BuildResult:
    context = write(tmp_path / "context", {"Dockerfile": dockerfile, **(files or {})})
    lines: list[str] = []
    builder = Builder(ImageStore(tmp_path / "images"), output=lines.append)
    result = builder.build(reference, context, **options)  # type: ignore[arg-type]
    # every warning is shown to the user as it happens, too
    assert [f"WARNING: {w}" for w in result.warnings] == [
        line for line in lines if line.startswith("WARNING")
    ]
    return result


def files_of(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): path.read_text()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_a_python_app_image(tmp_path: Path) -> None:
    result = build(
        tmp_path,
        """\
FROM python:3.11
ARG GREETING=hello
ENV GREETING=${GREETING} MODE="two words"
LABEL org.example.team=web
WORKDIR /app
COPY app.py requirements.txt ./
COPY conf/ ./conf/
RUN echo "$GREETING from RUN" > made.txt
EXPOSE 8000 9000/udp
USER nobody
CMD ["python3", "/app/app.py"]
""",
        {"app.py": "print('hi')\n", "requirements.txt": "", "conf/a.ini": "a\n", "secret": "x"},
        build_args={"GREETING": "howdy"},
    )
    root = result.image.root
    assert files_of(root / "app") == {
        "app.py": "print('hi')\n",
        "requirements.txt": "",
        "conf/a.ini": "a\n",
        "made.txt": "howdy from RUN\n",
    }
    config = result.image.config
    assert config["Cmd"] == ["python3", "/app/app.py"]
    assert config["WorkingDir"] == "/app"
    assert "GREETING=howdy" in config["Env"] and "MODE=two words" in config["Env"]
    assert not any(entry.startswith("ARG") for entry in config["Env"])
    assert config["ExposedPorts"] == {"8000/tcp": {}, "9000/udp": {}}
    assert config["Labels"] == {"org.example.team": "web"}
    assert config["User"] == "nobody"
    assert any("USER nobody" in warning for warning in result.warnings)
    # the base image's files came along
    assert (root / "usr/local/bin/python3").exists()
    assert ImageStore(tmp_path / "images").get("demo:1").id == result.image.id


def test_an_unchanged_rebuild_is_all_cache_hits_and_a_change_reruns_from_there(
    tmp_path: Path,
) -> None:
    dockerfile = "FROM busybox\nCOPY a.txt /a.txt\nRUN echo ran >> ran.txt\nCOPY b.txt /b.txt\n"
    first = build(tmp_path, dockerfile, {"a.txt": "a", "b.txt": "b"})
    assert (first.steps, first.cached) == (3, 0)
    again = build(tmp_path, dockerfile, {"a.txt": "a", "b.txt": "b"})
    assert again.fully_cached and again.image.id == first.image.id
    changed = build(tmp_path, dockerfile, {"a.txt": "a", "b.txt": "B"})
    assert (changed.steps, changed.cached) == (3, 2)  # only the last COPY ran again
    assert (changed.image.root / "b.txt").read_text() == "B"
    assert (changed.image.root / "ran.txt").read_text() == "ran\n"  # RUN ran once
    assert ImageStore(tmp_path / "images").get("demo:1").id == changed.image.id


def test_dockerignore_hides_files_from_copy(tmp_path: Path) -> None:
    result = build(
        tmp_path,
        "FROM scratch\nCOPY . /src/\n",
        {".dockerignore": "*.log\nsecret/\n", "a.py": "", "x.log": "", "secret/k": ""},
    )
    assert sorted(files_of(result.image.root / "src")) == [".dockerignore", "Dockerfile", "a.py"]
    with pytest.raises(DockerfileError, match=r"Dockerfile:2: .*x\.log.*excluded by"):
        build(tmp_path, "FROM scratch\nCOPY x.log /\n", {".dockerignore": "*.log\n", "x.log": ""})


def test_copy_placement_rules(tmp_path: Path) -> None:
    result = build(
        tmp_path,
        """\
FROM scratch
COPY one.txt /renamed.txt
COPY one.txt /dir/
COPY *.md /docs/
COPY tree /copied
WORKDIR /w
COPY one.txt rel.txt
""",
        {"one.txt": "1", "a.md": "a", "b.md": "b", "tree/x/y.txt": "y"},
    )
    assert files_of(result.image.root) == {
        "renamed.txt": "1",
        "dir/one.txt": "1",
        "docs/a.md": "a",
        "docs/b.md": "b",
        "copied/x/y.txt": "y",  # a directory's contents, not the directory itself
        "w/rel.txt": "1",
    }
    with pytest.raises(DockerfileError, match="Dockerfile:2: When using COPY with more than one"):
        build(tmp_path, "FROM scratch\nCOPY *.md /not-a-dir\n", {"a.md": "", "b.md": ""})
    with pytest.raises(DockerfileError, match=r"Dockerfile:2: .*missing\.txt.*not found"):
        build(tmp_path, "FROM scratch\nCOPY missing.txt /\n")


def test_add_extracts_a_local_archive_and_refuses_urls(tmp_path: Path) -> None:
    archive = tmp_path / "context" / "bundle.tar.gz"
    archive.parent.mkdir(parents=True)
    with tarfile.open(archive, "w:gz") as tar:
        data = b"inside\n"
        info = tarfile.TarInfo("pkg/file.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    result = build(tmp_path, "FROM scratch\nADD bundle.tar.gz /opt/\nCOPY bundle.tar.gz /raw/\n")
    assert (result.image.root / "opt/pkg/file.txt").read_text() == "inside\n"
    assert (result.image.root / "raw/bundle.tar.gz").is_file()  # COPY never extracts
    with pytest.raises(DockerfileError, match=r"Dockerfile:2: ADD https://x/y\.tgz: downloading"):
        build(tmp_path, "FROM scratch\nADD https://x/y.tgz /\n")


def test_multi_stage_copy_from(tmp_path: Path) -> None:
    result = build(
        tmp_path,
        """\
ARG VERSION=1.0
FROM busybox AS builder
ARG VERSION
WORKDIR /src
RUN echo "version $VERSION" > out.txt
FROM scratch
COPY --from=builder /src/out.txt /out.txt
COPY --from=0 /src/out.txt /again.txt
""",
        build_args={"VERSION": "2.5"},
    )
    assert files_of(result.image.root) == {"out.txt": "version 2.5\n", "again.txt": "version 2.5\n"}
    assert not (result.image.root / "bin").exists()  # nothing of busybox reached scratch


def test_cmd_and_entrypoint_combine_as_docker(tmp_path: Path) -> None:
    shell = build(tmp_path, "FROM scratch\nCMD echo hi $HOME\n").image.config
    assert (shell["Entrypoint"], shell["Cmd"]) == ([], ["/bin/sh", "-c", "echo hi $HOME"])
    # ENTRYPOINT clears a CMD inherited from the base image (python's `python3`)
    cleared = build(tmp_path, 'FROM python\nENTRYPOINT ["/serve"]\n').image.config
    assert (cleared["Entrypoint"], cleared["Cmd"]) == (["/serve"], [])
    both = build(tmp_path, 'FROM python\nCMD ["--port", "80"]\nENTRYPOINT ["/serve"]\n')
    assert (both.image.config["Entrypoint"], both.image.config["Cmd"]) == (
        ["/serve"],
        ["--port", "80"],
    )
    # the same from the cache: CMD cached, then a changed ENTRYPOINT keeps that CMD
    changed = build(tmp_path, 'FROM python\nCMD ["--port", "80"]\nENTRYPOINT ["/other"]\n')
    assert changed.cached == 1
    assert changed.image.config["Cmd"] == ["--port", "80"]
    custom = build(tmp_path, 'FROM scratch\nSHELL ["/bin/bash", "-ec"]\nENTRYPOINT run it\n')
    assert custom.image.config["Entrypoint"] == ["/bin/bash", "-ec", "run it"]


@pytest.mark.parametrize(
    ("dockerfile", "message"),
    [
        ("FROM scratch\nONBUILD RUN x\n", "Dockerfile:2: ONBUILD is not supported"),
        ("FROM scratch\nRUN --mount=type=cache,target=/x true\n", "Dockerfile:2: RUN --mount"),
        ("FROM scratch\nCOPY --bogus=1 a /\n", "Dockerfile:2: unknown flag: --bogus"),
        ("FROM no-such-image:1\n", "Dockerfile:1: no-such-image:1:"),
        ("RUN true\nFROM scratch\n", "Dockerfile:1: no build stage"),
        ("FROM busybox\n\nRUN exit 3\n", 'Dockerfile:3: process "/bin/sh -c exit 3" did not'),
        ("FROM scratch\nENV X=${Y:?needs_Y}\n", "Dockerfile:2: Y: needs_Y"),
    ],
)
def test_errors_name_the_line(tmp_path: Path, dockerfile: str, message: str) -> None:
    with pytest.raises(DockerfileError) as caught:
        build(tmp_path, dockerfile, {"a": ""})
    assert str(caught.value).startswith(message), str(caught.value)
    leftovers = list((tmp_path / "images" / "images").glob("building-*"))
    assert leftovers == []  # a failed build leaves no working tree behind


def test_run_sees_the_image_environment_and_root(tmp_path: Path) -> None:
    result = build(
        tmp_path,
        """\
FROM scratch
ARG TOKEN=t1
ENV APP_HOME=/app PATH=/app/bin:$PATH
WORKDIR /app
COPY tool.sh /app/bin/tool
RUN chmod +x bin/tool && tool > tool-output.txt && echo "$TOKEN $APP_HOME $(pwd)" > env.txt
""",
        {"tool.sh": "#!/bin/sh\necho tool ran\n"},
    )
    root = result.image.root
    assert (root / "app/tool-output.txt").read_text() == "tool ran\n"  # /app/bin is on PATH
    token, home, cwd = (root / "app/env.txt").read_text().split()
    assert (token, home) == ("t1", "/app")
    assert cwd.endswith("/rootfs/app") and "building-" in cwd  # the host path of the root
    assert "TOKEN=t1" not in result.image.config["Env"]  # ARGs never reach the image
