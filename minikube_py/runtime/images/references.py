"""Image references, parsed as Docker parses them, and their resolution to built-in images.

A reference like ``nginx:1.14.2`` is shorthand: Docker fills in the registry
(``docker.io``) and, for single-word names on Docker Hub, the ``library/`` namespace, so it
means ``docker.io/library/nginx:1.14.2``. A missing tag means ``latest``. The first path
component is a registry only if it looks like a host (has a ``.`` or ``:``, or is
``localhost``). A ``@sha256:...`` digest pins content exactly.

minikube_py ships built-in images that need no download; any tag of a built-in name resolves to
it, because the built-in programs imitate every version of the real image well enough for the
tutorials. Anything else raises ``ImageNotFound``, which the kubelet will report as
``ErrImagePull`` and then ``ImagePullBackOff``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .builtin.catalog import REPOSITORIES

DEFAULT_REGISTRY = "docker.io"
DEFAULT_TAG = "latest"

# Repository (registry/path, no tag) → built-in image name; each catalogue entry lists its own.
BUILTIN: dict[str, str] = REPOSITORIES


class ImageNotFound(LookupError):
    """No built-in or locally built image answers to this reference."""

    def __init__(self, reference: str) -> None:
        self.reference = reference
        super().__init__(
            f'failed to pull image "{reference}": no built-in image of that name and no locally'
            f" built one; build it with `minikube-py image build -t {reference} DIR`"
        )


@dataclass(frozen=True)
class Reference:
    """A fully qualified image reference."""

    registry: str
    path: str
    tag: str = DEFAULT_TAG
    digest: str | None = None

    @property
    def repository(self) -> str:
        return f"{self.registry}/{self.path}"

    def __str__(self) -> str:
        text = f"{self.repository}:{self.tag}"
        return f"{text}@{self.digest}" if self.digest else text


def parse(reference: str) -> Reference:
    """Parse ``reference`` with Docker's defaults; raise ValueError if it is malformed."""
    rest, _, digest = reference.partition("@")
    # Docker forbids upper case and blanks in the name (a tag may hold upper case).
    if (
        not rest
        or rest != rest.strip()
        or " " in rest
        or rest.rsplit(":", 1)[0] != rest.rsplit(":", 1)[0].lower()
    ):
        raise ValueError(f"invalid reference format: {reference!r}")
    if digest and not digest.startswith("sha256:"):
        raise ValueError(f"invalid digest in {reference!r}")
    # The tag is after the last ':' only if no '/' follows it ('localhost:5000/x' has none).
    name, tag = rest, DEFAULT_TAG
    colon = rest.rfind(":")
    if colon > rest.rfind("/"):
        name, tag = rest[:colon], rest[colon + 1 :]
        if not tag:
            raise ValueError(f"invalid reference format: {reference!r}")
    first, slash, remainder = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, remainder
    else:
        registry, path = DEFAULT_REGISTRY, name
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = f"library/{path}"
    if not path or "//" in path or path.endswith("/"):
        raise ValueError(f"invalid reference format: {reference!r}")
    return Reference(registry, path, tag, digest or None)


def resolve_builtin(reference: str) -> str:
    """The built-in image ``reference`` names, whatever its tag; else ImageNotFound."""
    try:
        parsed = parse(reference)
    except ValueError:
        raise ImageNotFound(reference) from None
    builtin = BUILTIN.get(parsed.repository)
    if builtin is None:
        raise ImageNotFound(reference)
    return builtin
