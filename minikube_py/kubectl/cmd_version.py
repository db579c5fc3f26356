"""``kubectl version``: the client's version and the API server's (``GET /version``).

kubectl prints ``Client Version``, ``Kustomize Version`` and ``Server Version`` lines, or with
``-o json``/``-o yaml`` the same as an object: ``clientVersion`` and ``serverVersion`` are
``version.Info`` records (major, minor, gitVersion, gitCommit, gitTreeState, buildDate,
goVersion, compiler, platform) — JSON in the record's field order with two-space indents, YAML
with sorted keys, each followed by an empty line as kubectl's ``Fprintln`` leaves it.

The client here is not kubectl 1.32, so it does not claim to be: its ``gitVersion`` is
``v<minikube-py's version>-minikube-py`` (``v0.1.0-minikube-py``), major and minor are
minikube-py's, and the compiler is CPython. A tool that reads the client's version learns
what it talks to; the server's version is the cluster's (1.32). There is no bundled Kustomize,
so no ``Kustomize Version`` line or ``kustomizeVersion`` field is printed. kubectl's version
skew warning compares kubectl's own minor version with the server's; it is not printed for
this client, whose numbers are not Kubernetes versions.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import platform
from typing import Any

from minikube_py.kubectl.goyaml import yaml_text
from minikube_py.kubectl.session import KubectlError, Session

_FIELDS = (
    "major",
    "minor",
    "gitVersion",
    "gitCommit",
    "gitTreeState",
    "buildDate",
    "goVersion",
    "compiler",
    "platform",
)


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    version = commands.add_parser(
        "version", parents=parents, help="Print the client and server version information"
    )
    version.add_argument("--client", nargs="?", const="true", default="false")
    version.add_argument("-o", "--output", default="")
    version.set_defaults(run=run)


def client_version() -> dict[str, str]:
    """This client's ``version.Info``."""
    try:
        release = importlib.metadata.version("minikube_py")
    except importlib.metadata.PackageNotFoundError:
        release = "0.0.0"
    major, minor = [*release.split("."), "0", "0"][:2]
    machine = platform.machine().lower()
    return {
        "major": major,
        "minor": minor,
        "gitVersion": f"v{release}-minikube-py",
        "gitCommit": "",
        "gitTreeState": "",
        "buildDate": "",
        "goVersion": f"python{platform.python_version()}",
        "compiler": "cpython",
        "platform": (
            f"{platform.system().lower()}/"
            f"{ {'x86_64': 'amd64', 'aarch64': 'arm64'}.get(machine, machine) }"
        ),
    }


async def run(session: Session, args: argparse.Namespace) -> int:
    if args.output not in ("", "json", "yaml"):
        raise KubectlError("--output must be 'yaml' or 'json'")
    only_client = str(args.client).lower() in ("true", "1", "t")
    answer: dict[str, Any] = {"clientVersion": client_version()}
    if not args.output:  # the client's line comes first, even when the server cannot answer
        session.write(f"Client Version: {answer['clientVersion']['gitVersion']}\n")
    if not only_client:
        server = await session.get_json("/version")
        answer["serverVersion"] = {key: server[key] for key in _FIELDS if key in server}
    if args.output == "json":
        session.write(json.dumps(answer, indent=2, ensure_ascii=False) + "\n")
    elif args.output == "yaml":
        session.write(yaml_text(answer) + "\n")
    elif not only_client:
        session.write(f"Server Version: {answer['serverVersion'].get('gitVersion', '')}\n")
    return 0
