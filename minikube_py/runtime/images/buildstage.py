"""One build stage: its base, its steps, and the file tree they change.

A ``Stage`` knows its current cache key, its config, and where its files are: a read-only
tree (the base image's root or a cache entry's copy) until a step must write, then a working
copy inside the store's directory (``materialise``). ``StageRunner`` runs a stage's
instructions, asking the cache first for every step (see ``build`` for the whole picture).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from minikube_py.runtime.images.store import ImageStore

from .buildcache import BuildCache, Entry, step_key
from .buildcontext import ContextError, Ignore, digest, sources, walk
from .buildfiles import copy_file, copy_tree, extract, is_archive
from .buildrun import RunFailed, run_step
from .buildsteps import CONFIG_ONLY, UNSUPPORTED, ImageConfig, apply, command
from .dockerfile import DockerfileError, Instruction
from .references import ImageNotFound
from .substitution import SubstitutionError, expand, split_words

URL_PREFIXES = ("http://", "https://", "git@", "git://")
COPY_FLAGS = frozenset({"from", "chown", "chmod", "link"})


def arg_declarations(instruction: Instruction) -> list[tuple[str, str | None]]:
    """``ARG A B=1`` as [(A, None), (B, "1")]: a default only where ``=`` is given."""
    declared: list[tuple[str, str | None]] = []
    for word in split_words(instruction.text):
        name, equals, default = word.partition("=")
        declared.append((name, expand(default, {}) if equals else None))
    if not declared:
        raise DockerfileError(instruction.line, "ARG requires exactly one argument")
    return declared


class Stage:
    """A stage being built: key, config, files (see the module docstring)."""

    def __init__(self, name: str | None, key: str, config: ImageConfig, tree: Path | None):
        self.name = name
        self.key = key
        self.config = config
        self.snapshot = tree  # read-only; None: empty (scratch)
        self.work: Path | None = None  # the staging directory whose rootfs/ is writable

    def tree(self) -> Path | None:
        return self.work / "rootfs" if self.work else self.snapshot

    def materialise(self, store: ImageStore) -> Path:
        """The writable root, copied from the snapshot on first need."""
        if self.work is None:
            staging = store.staging_area()
            if self.snapshot is not None:
                shutil.copytree(self.snapshot, staging / "rootfs", symlinks=True)
            else:
                (staging / "rootfs").mkdir()
            self.work = staging
        return self.work / "rootfs"

    def adopt(self, entry: Entry) -> None:
        """A cache hit: the entry's result replaces whatever this stage had."""
        cmd_set = self.config.cmd_set  # not part of the image config: the stage's own state
        self.key, self.config = entry.key, ImageConfig.of(entry.config)
        self.config.cmd_set = cmd_set
        if entry.root is not None:
            self.discard()
            self.snapshot = entry.root

    def take_tree(self, store: ImageStore) -> Path:
        """The staging directory holding the final tree, handed over to the store."""
        self.materialise(store)
        assert self.work is not None
        staging, self.work = self.work, None
        return staging

    def discard(self) -> None:
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)
            self.work = None


class StageRunner:
    """Runs the stages of one build, sharing the context, arguments and counters."""

    def __init__(
        self,
        store: ImageStore,
        cache: BuildCache,
        context: Path,
        ignore: Ignore,
        build_args: Mapping[str, str],
        global_args: Mapping[str, str],
        output: Callable[[str], None],
    ) -> None:
        self.store, self.cache, self.context, self.ignore = store, cache, context, ignore
        self.build_args, self.global_args, self.output = build_args, global_args, output
        self.no_cache = False
        self.steps = self.cached = self.number = 0
        self.consumed: set[str] = set()
        self.warnings: list[str] = []
        self.stages: list[Stage] = []  # every stage begun, so a failed build cleans up all

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        self.output(f"WARNING: {message}")

    def discard(self) -> None:
        """Remove the working trees of every stage (the final one was handed over)."""
        for stage in self.stages:
            stage.discard()

    def run(self, instructions: list[Instruction], built: list[Stage], total: int) -> Stage:
        stage = self._from(instructions[0], built, total)
        self.stages.append(stage)
        variables: dict[str, str] = {}  # the ARGs this stage declared
        for instruction in instructions[1:]:
            self.number += 1
            self.output(f"[{self.number}/{total}] {instruction.original}")
            try:
                self._step(stage, instruction, variables, built)
            except (SubstitutionError, ContextError, RunFailed, OSError) as error:
                raise DockerfileError(instruction.line, str(error)) from None
        return stage

    def _from(self, instruction: Instruction, built: list[Stage], total: int) -> Stage:
        self.number += 1
        self.output(f"[{self.number}/{total}] {instruction.original}")
        words = split_words(instruction.text)
        if len(words) not in (1, 3) or (len(words) == 3 and words[1].lower() != "as"):
            raise DockerfileError(instruction.line, "FROM requires either one or three arguments")
        name = words[2].lower() if len(words) == 3 else None
        base = expand(words[0], self.global_args)
        earlier = {stage.name: stage for stage in built if stage.name}
        if base.lower() in earlier:
            parent = earlier[base.lower()]
            config = ImageConfig.of(parent.config.as_dict())
            return Stage(name, parent.key, config, parent.tree())
        if base == "scratch":
            return Stage(name, step_key("scratch", ""), ImageConfig.of({}), None)
        try:
            image = self.store.get(base)
        except (ImageNotFound, ValueError) as error:
            raise DockerfileError(instruction.line, f"{base}: {error}") from None
        config = ImageConfig.of(image.config)
        return Stage(name, step_key("image", image.id), config, image.root)

    def _step(
        self, stage: Stage, instruction: Instruction, variables: dict[str, str], built: list[Stage]
    ) -> None:
        keyword = instruction.keyword
        if keyword in UNSUPPORTED:
            raise DockerfileError(instruction.line, UNSUPPORTED[keyword])
        scope = {**variables, **stage.config.env}
        inputs: list[str] = []
        if keyword == "ARG":
            for name, default in arg_declarations(instruction):
                self.consumed.add(name)
                value = self.build_args.get(name, default)
                if value is None:
                    value = self.global_args.get(name)
                if value is not None:
                    variables[name] = value
            inputs.append(json.dumps(variables, sort_keys=True))
        elif keyword == "RUN":
            if set(instruction.flags) - {"network"}:
                flags = ", ".join(f"--{flag}" for flag in instruction.flags)
                raise DockerfileError(instruction.line, f"RUN {flags} is not supported")
            inputs.append(json.dumps(variables, sort_keys=True))
        elif keyword in ("COPY", "ADD"):
            inputs.append(self._copy_digest(stage, instruction, scope, built))
        elif keyword not in CONFIG_ONLY:
            raise DockerfileError(instruction.line, f"unknown instruction: {keyword}")
        # Variables need not be expanded here: their values are in the parent's key already.
        key = step_key(stage.key, instruction.original, *inputs)
        self.steps += 1
        entry = None if self.no_cache else self.cache.get(key)
        if entry is not None:
            self.cached += 1
            self.output("  CACHED")
            stage.adopt(entry)
            stage.config.cmd_set |= keyword == "CMD"
            if keyword in ("USER", "HEALTHCHECK"):  # its note matters on every build
                apply(instruction, ImageConfig(), variables, self.warn)
            return
        changes_files = keyword in ("COPY", "ADD", "RUN")
        if keyword in CONFIG_ONLY:
            apply(instruction, stage.config, variables, self.warn)
        elif keyword == "RUN":
            root = stage.materialise(self.store)
            argv = command(instruction, stage.config.shell)
            run_step(root, argv, stage.config.as_dict(), variables, self.output)
        elif changes_files:
            self._copy(stage, instruction, scope, built)
        config = stage.config.as_dict()
        self.cache.put(key, config, stage.tree() if changes_files else None)
        stage.key = key

    # ---- COPY and ADD ----

    def _copy_args(
        self, instruction: Instruction, scope: Mapping[str, str]
    ) -> tuple[list[str], str]:
        unknown = set(instruction.flags) - COPY_FLAGS
        if unknown:
            raise DockerfileError(instruction.line, f"unknown flag: --{sorted(unknown)[0]}")
        words = instruction.exec_form or split_words(instruction.text)
        if len(words) < 2:
            raise DockerfileError(
                instruction.line, f"{instruction.keyword} requires at least two arguments"
            )
        expanded = [expand(word, scope) for word in words]
        return expanded[:-1], expanded[-1]

    def _source_root(
        self, stage: Stage, instruction: Instruction, built: list[Stage]
    ) -> tuple[Path | None, Ignore | None]:
        origin = instruction.flags.get("from")
        if origin is None:
            return self.context, self.ignore
        names = {s.name: s for s in built if s.name}
        if origin.lower() in names:
            return names[origin.lower()].tree(), None
        if origin.isdigit() and int(origin) < len(built):
            return built[int(origin)].tree(), None
        try:
            return self.store.get(origin).root, None
        except (ImageNotFound, ValueError) as error:
            raise DockerfileError(instruction.line, f"--from={origin}: {error}") from None

    def _resolve(
        self, stage: Stage, instruction: Instruction, scope: Mapping[str, str], built: list[Stage]
    ) -> tuple[Path, Ignore | None, list[tuple[Path, bool, list[Path]]], str]:
        patterns, destination = self._copy_args(instruction, scope)
        root, ignore = self._source_root(stage, instruction, built)
        for pattern in patterns:
            if instruction.keyword == "ADD" and pattern.startswith(URL_PREFIXES):
                raise DockerfileError(
                    instruction.line,
                    f"ADD {pattern}: downloading is not supported (builds are offline); "
                    "download the file into the build context and COPY it",
                )
        if root is None:
            raise DockerfileError(instruction.line, "--from names a stage with no files")
        found = [
            (s.path, s.is_dir, walk(s, root, ignore))
            for p in patterns
            for s in sources(root, p, ignore)
        ]
        return root, ignore, found, destination

    def _copy_digest(
        self, stage: Stage, instruction: Instruction, scope: Mapping[str, str], built: list[Stage]
    ) -> str:
        root, _, found, destination = self._resolve(stage, instruction, scope, built)
        return digest([path for _, _, paths in found for path in paths], root) + destination

    def _copy(
        self, stage: Stage, instruction: Instruction, scope: Mapping[str, str], built: list[Stage]
    ) -> None:
        if "chown" in instruction.flags:
            self.warn(
                f"line {instruction.line}: --chown is ignored: files belong to the invoking user"
            )
        if "chmod" in instruction.flags:
            self.warn(f"line {instruction.line}: --chmod is ignored: files keep their modes")
        patterns, _ = self._copy_args(instruction, scope)
        _, _, found, destination = self._resolve(stage, instruction, scope, built)
        if not destination.startswith("/"):
            destination = f"{stage.config.working_dir or '/'}/{destination}"
        into = destination.endswith("/")
        several = len(found) > 1 or any(set(p) & set("*?[") for p in patterns)
        if several and not into:
            raise DockerfileError(
                instruction.line,
                f"When using {instruction.keyword} with more than one source file, the "
                "destination must be a directory and end with a /",
            )
        root = stage.materialise(self.store)
        for path, is_dir, paths in found:
            if is_dir:
                copy_tree(root, paths, path, destination)
            elif instruction.keyword == "ADD" and is_archive(path):
                extract(root, path, destination)
            else:
                copy_file(root, path, destination, into)
