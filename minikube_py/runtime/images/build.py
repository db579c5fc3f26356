"""``image build``: a Dockerfile and its context turned into an image in the node's store.

The build walks the Dockerfile's stages (``FROM … AS name``) in order. Each stage starts from
a base — a built-in image, an image already in the store, an earlier stage, or ``scratch``
(nothing) — and each instruction is a *step*: config-only ones (``buildsteps``), ``ARG``,
``COPY``/``ADD`` (``buildcontext`` finds the sources, ``buildfiles`` places them) and ``RUN``
(``buildrun``). Before running a step the builder asks the cache (``buildcache``) for its
key; a hit replaces the step's work by the stored result, so an unchanged rebuild only hashes
the files ``COPY`` reads and re-tags the image it made last time.

A stage's files live in a working tree inside the store's directory, made only when a step
must change files; the last stage's tree is renamed into the store as the image
(``ImageStore.add_tree``), so a cluster running on the same store never sees half an image and
runs ``image: NAME:TAG`` (``imagePullPolicy: IfNotPresent`` or ``Never``) at once.

``ARG`` before the first ``FROM`` declares variables for ``FROM`` lines only; a stage sees an
``ARG`` once it declares it (``ARG NAME`` takes the global default). ``--build-arg`` values
override defaults; one no ``ARG`` consumed is reported, as Docker does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from minikube_py.runtime.images.store import Image, ImageStore

from .buildcache import BuildCache
from .buildcontext import Ignore
from .buildstage import Stage, StageRunner, arg_declarations
from .dockerfile import DockerfileError, Instruction, parse
from .references import ImageNotFound
from .substitution import SubstitutionError


@dataclass
class BuildResult:
    """What a build made: the image, and how many of its steps the cache answered."""

    reference: str
    image: Image
    steps: int
    cached: int
    warnings: list[str] = field(default_factory=list)

    @property
    def fully_cached(self) -> bool:
        """True when no step ran: an unchanged rebuild (the under-100-ms path)."""
        return self.cached == self.steps


def _stages(instructions: list[Instruction]) -> tuple[list[Instruction], list[list[Instruction]]]:
    """The global ARGs before the first FROM, and each stage's instructions (FROM first)."""
    globals_: list[Instruction] = []
    stages: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            stages.append([instruction])
        elif stages:
            stages[-1].append(instruction)
        elif instruction.keyword == "ARG":
            globals_.append(instruction)
        else:
            raise DockerfileError(
                instruction.line, f"no build stage in current context ({instruction.keyword})"
            )
    if not stages:
        raise DockerfileError(0, "the Dockerfile has no FROM instruction")
    return globals_, stages


class Builder:
    """Builds images into ``store``; ``output`` receives the progress lines."""

    def __init__(
        self,
        store: ImageStore,
        *,
        output: Callable[[str], None] = lambda line: None,
        no_cache: bool = False,
    ) -> None:
        self.store = store
        self.cache = BuildCache(store.directory / "build-cache")
        self.output = output
        self.no_cache = no_cache

    def build(
        self,
        reference: str,
        context: Path,
        dockerfile: Path | None = None,
        build_args: Mapping[str, str] | None = None,
        target: str | None = None,
    ) -> BuildResult:
        """Build ``context`` (with ``dockerfile``, default ``context/Dockerfile``) as
        ``reference``. Raises DockerfileError (with the line) or ValueError (bad input)."""
        if not context.is_dir():
            raise ValueError(f"unable to prepare context: path {str(context)!r} not found")
        path = dockerfile or context / "Dockerfile"
        try:
            source = path.read_text()
        except OSError as error:
            raise ValueError(f"failed to read dockerfile: {error.strerror}: {path}") from None
        globals_, stages = _stages(parse(source))
        args = dict(build_args or {})
        global_args: dict[str, str] = {}
        consumed: set[str] = set()
        for instruction in globals_:
            for name, default in arg_declarations(instruction):
                consumed.add(name)
                value = args.get(name, default)
                if value is not None:
                    global_args[name] = value
        runner = StageRunner(
            self.store, self.cache, context, Ignore.of(context), args, global_args, self.output
        )
        runner.no_cache = self.no_cache
        total = sum(len(stage) for stage in stages)
        built: list[Stage] = []
        try:
            for instructions in stages:
                stage = runner.run(instructions, built, total)
                built.append(stage)
                if target is not None and stage.name == target.lower():
                    break
            else:
                if target is not None:
                    raise ValueError(f"target stage {target!r} could not be found")
            final = built[-1]
            consumed |= runner.consumed
            unused = sorted(set(args) - consumed)
            if unused:
                runner.warn(f"One or more build-args [{' '.join(unused)}] were not consumed")
            image = self._store(reference, final)
        finally:
            runner.discard()
        return BuildResult(reference, image, runner.steps, runner.cached, runner.warnings)

    def _store(self, reference: str, stage: Stage) -> Image:
        """Tag the image the last stage made, storing its tree unless the store has it."""
        entry = self.cache.get(stage.key)
        if entry is not None and entry.image_id and self.store.has(entry.image_id):
            self.store.tag(reference, entry.image_id)
            return self.store.get(reference)
        staging = stage.take_tree(self.store)
        config = stage.config.as_dict()
        workdir = staging / "rootfs" / config["WorkingDir"].lstrip("/")
        workdir.mkdir(parents=True, exist_ok=True)  # Docker creates WORKDIR even if unused
        image = self.store.add_tree(reference, staging, config)
        if entry is not None:
            self.cache.remember_image(stage.key, image.id)
        return image


def build_image(
    store: ImageStore,
    reference: str,
    context: Path,
    *,
    dockerfile: Path | None = None,
    build_args: Mapping[str, str] | None = None,
    output: Callable[[str], None] = lambda line: None,
    no_cache: bool = False,
) -> BuildResult:
    """One build, for callers that need no Builder of their own (the CLI, tests)."""
    return Builder(store, output=output, no_cache=no_cache).build(
        reference, context, dockerfile, build_args
    )


__all__ = [
    "BuildResult",
    "Builder",
    "DockerfileError",
    "ImageNotFound",
    "SubstitutionError",
    "build_image",
]
