"""Image references: Docker's parsing defaults and resolution to built-in images."""

from __future__ import annotations

import pytest

from minikube_py.runtime.images.references import ImageNotFound, parse, resolve_builtin


@pytest.mark.parametrize(
    ("text", "registry", "path", "tag", "digest"),
    [
        ("nginx", "docker.io", "library/nginx", "latest", None),
        ("nginx:1.14.2", "docker.io", "library/nginx", "1.14.2", None),
        ("kicbase/echo-server:1.0", "docker.io", "kicbase/echo-server", "1.0", None),
        ("docker.io/library/redis", "docker.io", "library/redis", "latest", None),
        ("registry.k8s.io/echoserver:1.4", "registry.k8s.io", "echoserver", "1.4", None),
        ("gcr.io/google-samples/hello-app:1.0", "gcr.io", "google-samples/hello-app", "1.0", None),
        ("localhost:5000/app", "localhost:5000", "app", "latest", None),
        ("localhost/app:v2", "localhost", "app", "v2", None),
        ("busybox@sha256:abc", "docker.io", "library/busybox", "latest", "sha256:abc"),
    ],
)
def test_parse(text: str, registry: str, path: str, tag: str, digest: str | None) -> None:
    ref = parse(text)
    assert (ref.registry, ref.path, ref.tag, ref.digest) == (registry, path, tag, digest)


@pytest.mark.parametrize("text", ["", "Nginx", "nginx:", "a//b", "x@md5:1", " nginx"])
def test_parse_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError):
        parse(text)


@pytest.mark.parametrize(
    ("text", "builtin"),
    [
        ("nginx:1.14.2", "nginx"),
        ("docker.io/library/nginx", "nginx"),
        ("kicbase/echo-server:1.0", "echo-server"),
        ("registry.k8s.io/echoserver:1.4", "echoserver"),
        ("hashicorp/http-echo", "http-echo"),
        ("gcr.io/google-samples/hello-app:2.0", "hello-app"),
        ("redis:7", "redis"),
        ("registry.k8s.io/pause:3.10", "pause"),
        ("busybox:1.36", "busybox"),
        ("python:3.11-slim", "python"),
        ("busybox:1.28", "busybox"),
        ("registry.k8s.io/busybox:1.27.2", "busybox"),
        ("k8s.gcr.io/busybox", "busybox"),
        ("k8s.gcr.io/echoserver:1.10", "echoserver"),
        ("jmalloc/echo-server", "echo-server"),
        ("docker.io/library/nginx:latest", "nginx"),
        ("gcr.io/google-samples/kubernetes-bootcamp:v1", "kubernetes-bootcamp"),
    ],
)
def test_resolve_builtin_ignores_tag(text: str, builtin: str) -> None:
    assert resolve_builtin(text) == builtin


@pytest.mark.parametrize("text", ["nosuch/image:1", "quay.io/nginx", "Bad Name"])
def test_unknown_image_names_the_build_command(text: str) -> None:
    with pytest.raises(ImageNotFound) as error:
        resolve_builtin(text)
    assert f"minikube-py image build -t {text} DIR" in str(error.value)
