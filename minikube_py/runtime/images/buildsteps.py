"""The instructions that change only the image config: ENV, LABEL, WORKDIR, EXPOSE, USER,
CMD, ENTRYPOINT, SHELL, STOPSIGNAL, VOLUME — Docker's rules for each.

- ``CMD`` and ``ENTRYPOINT`` in the shell form become ``[*SHELL, text]`` (``SHELL`` is
  ``["/bin/sh", "-c"]`` until changed). Setting ``ENTRYPOINT`` clears a ``CMD`` inherited from
  the base image (one given earlier in the same stage survives), so an image is never run with
  its base's arguments by surprise.
- ``WORKDIR`` relative to the previous one; ``EXPOSE 80`` means ``80/tcp``.
- ``USER`` is recorded but every process runs as the invoking user (no user namespaces):
  a warning says so. ``HEALTHCHECK`` is ignored with a note (Kubernetes ignores it too: probes
  are the pod's business). ``MAINTAINER`` (deprecated) is accepted and has no effect.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .dockerfile import DockerfileError, Instruction
from .substitution import SubstitutionError, expand, pairs, split_words

DEFAULT_SHELL = ("/bin/sh", "-c")
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PORT = re.compile(r"(\d{1,5})(?:-(\d{1,5}))?(?:/(tcp|udp|sctp))?$", re.IGNORECASE)


@dataclass
class ImageConfig:
    """The config being built; ``as_dict`` spells it as the OCI config (the store's form)."""

    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    env: dict[str, str] = field(default_factory=dict)
    working_dir: str = ""
    ports: dict[str, dict[str, Any]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    user: str = ""
    volumes: dict[str, dict[str, Any]] = field(default_factory=dict)
    stop_signal: str = ""
    shell: list[str] = field(default_factory=lambda: list(DEFAULT_SHELL))
    cmd_set: bool = False  # CMD given in this stage: ENTRYPOINT then keeps it

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> ImageConfig:
        env = {}
        for entry in config.get("Env") or []:
            name, _, value = str(entry).partition("=")
            env[name] = value
        if "PATH" not in env:  # buildkit gives every image a PATH (scratch included)
            env = {"PATH": DEFAULT_PATH.partition("=")[2], **env}
        return cls(
            entrypoint=list(config["Entrypoint"]) if config.get("Entrypoint") else None,
            cmd=list(config["Cmd"]) if config.get("Cmd") else None,
            env=env,
            working_dir=str(config.get("WorkingDir") or ""),
            ports=dict(config.get("ExposedPorts") or {}),
            labels=dict(config.get("Labels") or {}),
            user=str(config.get("User") or ""),
            volumes=dict(config.get("Volumes") or {}),
            stop_signal=str(config.get("StopSignal") or ""),
            shell=list(config.get("Shell") or DEFAULT_SHELL),
        )

    def as_dict(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "Entrypoint": self.entrypoint or [],
            "Cmd": self.cmd or [],
            "Env": [f"{name}={value}" for name, value in self.env.items()],
            "WorkingDir": self.working_dir or "/",
            "ExposedPorts": self.ports,
            "Labels": self.labels,
        }
        optional = {"User": self.user, "Volumes": self.volumes, "StopSignal": self.stop_signal}
        config.update({name: value for name, value in optional.items() if value})
        if self.shell != list(DEFAULT_SHELL):
            config["Shell"] = self.shell
        return config


def command(instruction: Instruction, shell: list[str]) -> list[str]:
    """The argv of a RUN/CMD/ENTRYPOINT: its exec form, or the shell form through SHELL."""
    if instruction.exec_form is not None:
        return instruction.exec_form
    return [*shell, instruction.text]


def apply(
    instruction: Instruction,
    config: ImageConfig,
    variables: Mapping[str, str],
    warn: Callable[[str], None],
) -> None:
    """Apply a config-only instruction to ``config``; DockerfileError if it is malformed."""
    keyword, text, line = instruction.keyword, instruction.text, instruction.line
    try:
        if keyword == "ENV":
            for name, value in pairs(text, {**variables, **config.env}, "ENV"):
                config.env[name] = value
        elif keyword == "LABEL":
            config.labels.update(pairs(text, {**variables, **config.env}, "LABEL"))
        elif keyword == "WORKDIR":
            path = expand(text, {**variables, **config.env})
            config.working_dir = posixpath.normpath(
                posixpath.join("/", config.working_dir or "/", path)
            )
        elif keyword == "EXPOSE":
            for word in split_words(text):
                port = expand(word, {**variables, **config.env})
                match = PORT.match(port)
                if match is None:
                    raise DockerfileError(line, f"invalid containerPort: {port}")
                protocol = (match.group(3) or "tcp").lower()
                last = int(match.group(2) or match.group(1))
                for number in range(int(match.group(1)), last + 1):
                    config.ports[f"{number}/{protocol}"] = {}
        elif keyword == "USER":
            config.user = expand(text, {**variables, **config.env})
            warn(
                f"USER {config.user}: recorded, but processes run as the invoking user"
                " (minikube_py has no user namespaces)"
            )
        elif keyword == "CMD":
            config.cmd, config.cmd_set = command(instruction, config.shell), True
        elif keyword == "ENTRYPOINT":
            config.entrypoint = command(instruction, config.shell)
            if not config.cmd_set:
                config.cmd = None
        elif keyword == "SHELL":
            if not instruction.exec_form:
                raise DockerfileError(line, "SHELL requires the arguments to be in JSON form")
            config.shell = instruction.exec_form
        elif keyword == "STOPSIGNAL":
            config.stop_signal = expand(text, {**variables, **config.env})
        elif keyword == "VOLUME":
            paths = instruction.exec_form or split_words(text)
            for path in paths:
                config.volumes[expand(path, {**variables, **config.env})] = {}
        elif keyword == "HEALTHCHECK":
            warn("HEALTHCHECK is ignored: Kubernetes runs the pod's probes instead")
        elif keyword == "MAINTAINER":
            pass  # deprecated; Docker only records it as the image's author
        else:
            raise DockerfileError(line, f"unknown instruction: {keyword}")
    except SubstitutionError as error:
        raise DockerfileError(line, str(error)) from None


CONFIG_ONLY = frozenset(
    {"ENV", "LABEL", "WORKDIR", "EXPOSE", "USER", "CMD", "ENTRYPOINT", "SHELL"}
    | {"STOPSIGNAL", "VOLUME", "HEALTHCHECK", "MAINTAINER"}
)
UNSUPPORTED = {
    "ONBUILD": "ONBUILD is not supported: minikube_py builds do not run triggers of a base image",
}
