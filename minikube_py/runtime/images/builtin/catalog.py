"""The catalogue of built-in images: one entry per image, naming its programs and its config.

A built-in image is assembled, not downloaded: its programs are the Python modules beside this
one, copied into the image root with a ``#!`` line naming the host interpreter (so they run as
commands along ``PATH`` exactly like the real image's binaries), plus a few data files. Each
entry also lists the repositories that resolve to it (any tag does: ``nginx:1.14.2`` is the
built-in nginx). Adding an image is one entry here plus its program.

The config mirrors the real image where it matters to a pod spec: ``Cmd`` versus
``Entrypoint`` (so ``args:`` and ``command:`` replace what they replace upstream), ``Env``
(``PATH`` as the real image sets it), ``WorkingDir`` and ``ExposedPorts``.

Any tag resolves, and for most images every tag is the same image. The demo apps whose answer
shows a version (``hello-app:2.0`` says ``Version: 2.0.0``, ``kubernetes-bootcamp:v2`` says
``v=2``) take it from their tag through a ``VERSION`` variable, so a rolling update from one
tag to the next visibly changes the answer, as in the tutorials; each such tag is its own
image (a different config, so a different id).
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import nginx_pages

HERE = Path(__file__).parent
PYTHON = sys.executable
SYSTEM_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class BuiltinImage:
    """One built-in image; ``programs`` maps a path in the image to a module of this package."""

    repositories: tuple[str, ...]
    programs: Mapping[str, str] = field(default_factory=dict)
    data: Mapping[str, bytes] = field(default_factory=dict)
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = (SYSTEM_PATH,)
    working_dir: str = "/"
    ports: tuple[int, ...] = ()
    # Empty directories every image has; programs and tutorials write to /tmp.
    directories: tuple[str, ...] = ("tmp", "etc", "dev", "root", "var")
    # For demo apps whose answer shows their version: tag → ``VERSION`` env (see module doc).
    version: Callable[[str], str] | None = None

    def files(self) -> dict[str, bytes]:
        """The image's files: programs made executable by the host interpreter, then data."""
        shebang = f"#!{PYTHON}\n".encode()
        files = {
            path: shebang + (HERE / f"{module}.py").read_bytes()
            for path, module in self.programs.items()
        }
        return {**{f"{name}/": b"" for name in self.directories}, **files, **self.data}

    def config(self, tag: str = "latest") -> dict[str, Any]:
        """The OCI-style config the image store keeps beside the files."""
        env = [*self.env, f"VERSION={self.version(tag)}"] if self.version else list(self.env)
        return {
            "Entrypoint": list(self.entrypoint),
            "Cmd": list(self.cmd),
            "Env": env,
            "WorkingDir": self.working_dir,
            "ExposedPorts": {f"{port}/tcp": {} for port in self.ports},
        }


def semantic(default: str) -> Callable[[str], str]:
    """``2.0`` → ``2.0.0``; a tag that is no version number (``latest``) → ``default``."""

    def version(tag: str) -> str:
        parts = tag.removeprefix("v").split(".")
        if not all(part.isdigit() for part in parts) or len(parts) > 3:
            return default
        return ".".join([*parts, "0", "0"][:3])

    return version


def bootcamp_version(tag: str) -> str:
    """``v2`` → ``2``, as kubernetes-bootcamp prints ``v=2``; anything else is version 1."""
    number = tag.removeprefix("v")
    return number if number.isdigit() else "1"


def _python_launcher(*arguments: str) -> bytes:
    """A tiny script standing for the interpreter (a symlink would lose a virtualenv)."""
    command = " ".join(shlex.quote(part) for part in (PYTHON, *arguments))
    return f'#!/bin/sh\nexec {command} "$@"\n'.encode()


# In Kubernetes the pause container holds a pod's namespaces open while app containers come
# and go; here it sleeps until SIGTERM or SIGINT and then exits 0, as the real one does (the
# trap ends its sleep too: a script's background job ignores SIGINT). The sleep is ended with
# SIGKILL: a group signal that reaches it between fork and exec is caught by the shell code
# still running there and lost at the exec, and so would be a SIGTERM sent right after. A
# shell script, like the real image's few-kilobyte binary, starts in about 2 ms of CPU; a
# Python interpreter took 12-25 ms, the largest cost of a pod start.
_PAUSE = b"""#!/bin/sh
trap 'kill -KILL $! 2>/dev/null; exit 0' TERM INT
while :; do sleep 86400 & wait $!; done
"""

# busybox's tar applet is the host's GNU tar, but an absolute argument (``tar cf - /tmp/x``, as
# `kubectl cp` sends it) arrives rewritten under the container root; dropping the root again
# from member names gives the ``tmp/x`` a real container's tar writes (kubectl checks it).
_TAR = b"""#!/bin/sh
for tar in /usr/bin/tar /bin/tar; do
    [ -x "$tar" ] && exec "$tar" "$@" --transform "s|^${MINIKUBE_PY_ROOT#/}/||"
done
echo "tar: not found on this host" >&2
exit 127
"""


# busybox's sh is ash, which (like bash, unlike Debian's dash) hands its children every
# environment variable, also those whose names are no shell identifiers: an ``envFrom`` of a
# ConfigMap key ``special.how`` must reach ``env`` run by ``sh -c env``. So where the host has
# bash, the image's sh is bash in POSIX mode (started as ``sh``); elsewhere the host's sh.
_SH = b"""#!/bin/bash
exec -a sh /bin/bash "$@"
"""


def _busybox_shell() -> dict[str, bytes]:
    return {"bin/sh": _SH} if Path("/bin/bash").exists() else {}


CATALOG: dict[str, BuiltinImage] = {
    "pause": BuiltinImage(
        repositories=("docker.io/library/pause", "registry.k8s.io/pause", "k8s.gcr.io/pause"),
        data={"pause": _PAUSE},
        entrypoint=("/pause",),
    ),
    "busybox": BuiltinImage(
        # sh, sleep, echo, cat, env, ls, date … fall through to the host's /bin on PATH; these
        # are busybox's own network applets, which must follow the pod's address (the
        # start-up hook) and speak busybox's options whatever the host has installed.
        # (the Kubernetes docs' examples use the copies on registry.k8s.io and k8s.gcr.io)
        repositories=(
            "docker.io/library/busybox",
            "registry.k8s.io/busybox",
            "k8s.gcr.io/busybox",
        ),
        programs={
            "bin/wget": "wget",
            "bin/nc": "netcat",
            "bin/nslookup": "names",
            "bin/hostname": "names",
        },
        data={"bin/tar": _TAR, **_busybox_shell()},
        cmd=("sh",),
    ),
    "nginx": BuiltinImage(
        repositories=("docker.io/library/nginx",),
        programs={"usr/sbin/nginx": "nginx"},
        data={
            "usr/share/nginx/html/index.html": nginx_pages.INDEX.encode(),
            "usr/share/nginx/html/50x.html": nginx_pages.ERROR_50X.encode(),
        },
        cmd=("nginx", "-g", "daemon off;"),
        env=(SYSTEM_PATH, f"NGINX_VERSION={nginx_pages.VERSION}"),
        ports=(80,),
    ),
    "python": BuiltinImage(
        repositories=("docker.io/library/python",),
        data={
            "usr/local/bin/python3": _python_launcher(),
            "usr/local/bin/python": _python_launcher(),
        },
        cmd=("python3",),
        env=(
            "PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG=C.UTF-8",
            "PYTHON_VERSION={}.{}.{}".format(*sys.version_info[:3]),
        ),
    ),
    "hello-app": BuiltinImage(
        repositories=(
            "gcr.io/google-samples/hello-app",
            "us-docker.pkg.dev/google-samples/containers/gke/hello-app",
        ),
        programs={"app/hello-app": "hello_app"},
        entrypoint=(PYTHON, "/app/hello-app"),
        env=(SYSTEM_PATH, "PORT=8080"),
        working_dir="/app",
        ports=(8080,),
        version=semantic("1.0.0"),
    ),
    "kubernetes-bootcamp": BuiltinImage(  # "Learn Kubernetes Basics", v1 then jocatalin's v2
        repositories=(
            "gcr.io/google-samples/kubernetes-bootcamp",
            "docker.io/jocatalin/kubernetes-bootcamp",
        ),
        programs={"app/bootcamp": "bootcamp"},
        entrypoint=(PYTHON, "/app/bootcamp"),
        working_dir="/app",
        ports=(8080,),
        version=bootcamp_version,
    ),
    "echo-server": BuiltinImage(  # minikube's hello-minikube (jmalloc/echo-server)
        repositories=("docker.io/kicbase/echo-server", "docker.io/jmalloc/echo-server"),
        programs={"bin/echo-server": "echo_server"},
        entrypoint=("/bin/echo-server",),
        env=(SYSTEM_PATH, "PORT=8080"),
        ports=(8080,),
    ),
    "echoserver": BuiltinImage(
        repositories=(
            "registry.k8s.io/echoserver",
            "k8s.gcr.io/echoserver",
            "gcr.io/google_containers/echoserver",
        ),
        programs={"usr/local/bin/echoserver": "echoserver"},
        cmd=("echoserver",),
        ports=(8080,),
    ),
    "http-echo": BuiltinImage(
        repositories=("docker.io/hashicorp/http-echo",),
        programs={"http-echo": "http_echo"},
        entrypoint=("/http-echo",),
        ports=(5678,),
    ),
    "redis": BuiltinImage(
        repositories=("docker.io/library/redis",),
        programs={
            "usr/local/bin/redis-server": "redis_server",
            "usr/local/bin/redis-cli": "redis_cli",
        },
        cmd=("redis-server",),
        env=(SYSTEM_PATH, "REDIS_VERSION=7.4.1"),
        working_dir="/data",
        ports=(6379,),
    ),
}

# Repository (registry/path, no tag) → built-in image name.
REPOSITORIES: dict[str, str] = {
    repository: name for name, image in CATALOG.items() for repository in image.repositories
}
