"""``minikube-py image build|ls|rm|load``: the images of a profile's nodes.

Every node of a profile shares one image store, ``<profile directory>/images`` (the cluster's
``Nodes`` opens it there), so an image built or loaded here is on every node at once: a pod
with ``image: NAME:TAG`` and ``imagePullPolicy: IfNotPresent`` or ``Never`` runs it, also
while the cluster runs (the store takes a finished image in with one rename, and the running
cluster notices the changed tag file). ``image build`` reads a Dockerfile subset
(``runtime.images.build``; ``docs/images.md``), ``image load`` a ``docker save`` tarball.
Like minikube, short names mean Docker Hub's: ``-t demo`` is ``docker.io/library/demo:latest``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from minikube_py.cli.common import profile_option, require_profile
from minikube_py.runtime.images.build import Builder
from minikube_py.runtime.images.dockerfile import DockerfileError
from minikube_py.runtime.images.imageload import LoadError, load_image
from minikube_py.runtime.images.references import ImageNotFound, parse
from minikube_py.runtime.images.store import ImageStore

state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    hidden=True,  # a cluster started with `serve --state-dir` keeps its images there
    help="The cluster's state directory (default: the profile's).",
)


def _store(profile: str, state_dir: Path | None) -> ImageStore:
    """The store of ``state_dir``, else of the profile (minikube's "not found" and exit 85
    when ``start`` never made it)."""
    return ImageStore((state_dir or require_profile(profile)) / "images")


def _build_args(values: tuple[str, ...]) -> dict[str, str]:
    """``--build-arg K=V`` pairs; ``--build-arg K`` takes K from the environment, as Docker."""
    args: dict[str, str] = {}
    for value in values:
        name, equals, given = value.partition("=")
        if equals:
            args[name] = given
        elif name in os.environ:
            args[name] = os.environ[name]
    return args


@click.group()
def image() -> None:
    """Manage the images of a profile's nodes."""


@image.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-t", "--tag", required=True, help="The image's name, NAME[:TAG].")
@click.option("-f", "--file", "dockerfile", type=click.Path(path_type=Path), help="Dockerfile.")
@click.option("--build-arg", multiple=True, help="A build argument K=V (repeatable).")
@click.option("--target", help="Build up to this stage of a multi-stage Dockerfile.")
@click.option("--no-cache", is_flag=True, help="Run every step, ignoring the build cache.")
@profile_option
@state_dir_option
def build(
    directory: Path,
    tag: str,
    dockerfile: Path | None,
    build_arg: tuple[str, ...],
    target: str | None,
    no_cache: bool,
    profile: str,
    state_dir: Path | None,
) -> None:
    """Build an image from DIRECTORY's Dockerfile into the profile's image store."""
    try:
        reference = str(parse(tag))
    except ValueError as error:
        raise click.ClickException(f"invalid tag {tag!r}: {error}") from None
    began = time.monotonic()
    builder = Builder(_store(profile, state_dir), output=click.echo, no_cache=no_cache)
    try:
        result = builder.build(
            reference,
            directory,
            dockerfile,
            _build_args(build_arg),
            target=target,
        )
    except (DockerfileError, ValueError, ImageNotFound, OSError) as error:
        raise click.ClickException(str(error).splitlines()[0]) from None
    took = time.monotonic() - began
    short = result.image.id.removeprefix("sha256:")[:12]
    cached = f", {result.cached} of {result.steps} steps cached" if result.steps else ""
    click.echo(f"Successfully built {short} in {took:.2f}s{cached}")
    click.echo(f"Successfully tagged {tag}")


@image.command(name="ls")
@click.option(
    "--format",
    "output",
    type=click.Choice(["short", "table"]),
    default="short",
    show_default=True,
    help="One reference a line, or a table.",
)
@profile_option
@state_dir_option
def list_images(output: str, profile: str, state_dir: Path | None) -> None:
    """List the images in the profile's image store."""
    images = _store(profile, state_dir).list()
    if output == "short":
        for reference, _ in images:
            click.echo(reference)
        return
    rows = [("Image", "Tag", "Image ID")]
    for reference, image_id in images:
        name, _, tag = reference.rpartition(":")
        rows.append((name, tag, image_id.removeprefix("sha256:")[:12]))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    click.echo(rule)
    for index, row in enumerate(rows):
        cells = " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo(f"| {cells} |")
        if index == 0:
            click.echo(rule)
    click.echo(rule)


@image.command(name="rm")
@click.argument("names", nargs=-1, required=True)
@profile_option
@state_dir_option
def remove(names: tuple[str, ...], profile: str, state_dir: Path | None) -> None:
    """Remove images (by name) from the profile's image store."""
    store = _store(profile, state_dir)
    for name in names:
        try:
            store.remove(name)
        except (ImageNotFound, ValueError):
            raise click.ClickException(f"No such image: {name}") from None
        click.echo(f"Untagged: {name}")


@image.command()
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@profile_option
@state_dir_option
def load(archive: Path, profile: str, state_dir: Path | None) -> None:
    """Load a `docker save` tarball into the profile's image store."""
    try:
        names = load_image(_store(profile, state_dir), archive)
    except (LoadError, ValueError, OSError) as error:
        raise click.ClickException(str(error)) from None
    for name in names:
        click.echo(f"Loaded image: {name}")
