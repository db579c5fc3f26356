"""What the ``minikube-py`` commands share: the profile option, the home directory, minikube's
message style and exit codes, its tables, and a client for a profile's running API server.

minikube prints a step as an emoji and a sentence (``😄  minikube v1.32.0 on Ubuntu``); on a
terminal without emoji, or with ``MINIKUBE_IN_STYLE=false``, the emoji becomes ``*`` and a
sub-step ``  -``. minikube_py always prints the plain form, so its output is the same in a
terminal, a pipe and a test. Failures exit with minikube's codes (``reason/exitcodes.go``:
85 a profile not found, 89 a cluster not running, 14 a usage error), so scripts written
for minikube can tell them apart.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from minikube_py.api.errors import ApiError
from minikube_py.cli.background import running_pid
from minikube_py.cluster import ClusterConfig, ClusterError

if TYPE_CHECKING:  # aiohttp loads on first use: ``start`` and ``version`` never need it
    from minikube_py.client.http import HttpClient

T = TypeVar("T")
DEFAULT_PROFILE = "minikube"
SERVING_FILE = "serving.json"  # written by ``serve`` once the API server answers

# minikube's exit codes (pkg/minikube/reason/exitcodes.go)
EX_USAGE = 14
EX_GUEST_NOT_FOUND = 85
EX_GUEST_UNAVAILABLE = 89
EX_SVC_NOT_FOUND = 115


def home() -> Path:
    """``~/.minikube_py`` (``$MINIKUBE_PY_HOME``): profiles and the global settings."""
    return Path(os.environ.get("MINIKUBE_PY_HOME", Path.home() / ".minikube_py"))


def profile_directory(profile: str) -> Path:
    return ClusterConfig(profile=profile).directory


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object file, or ``{}`` where it is missing or not an object."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def write_json(path: Path, value: dict[str, Any]) -> None:
    """Replace ``path`` atomically, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(value, indent=2, sort_keys=True) + "\n")
    temporary.replace(path)


def active_profile() -> str:
    """The profile commands act on without ``-p``: ``minikube-py profile NAME`` sets it."""
    return str(read_json(home() / "config.json").get("profile") or DEFAULT_PROFILE)


def _resolve_profile(_: click.Context, __: click.Parameter, value: str | None) -> str:
    return value or active_profile()


profile_option = click.option(
    "-p",
    "--profile",
    callback=_resolve_profile,
    help="The name of the minikube-py profile to use (default: the active one, 'minikube').",
)


def step(text: str) -> None:
    """One of minikube's steps, in its plain style."""
    click.echo(f"* {text}")


def substep(text: str) -> None:
    click.echo(f"  - {text}")


def fail(lines: list[str], code: int) -> NoReturn:
    """Print minikube's explanation (plain style) and exit with its code."""
    for line in lines:
        click.echo(f"* {line}", err=True)
    raise click.exceptions.Exit(code)


def example(profile: str, action: str) -> str:
    """``minikube-py ACTION`` with ``-p`` when the profile is not the default (as minikube)."""
    if profile == DEFAULT_PROFILE:
        return f"minikube-py {action}"
    return f"minikube-py {action} -p {profile}"


def profile_exists(profile: str) -> bool:
    """Whether ``start`` ever made this profile (its settings, or at least its store)."""
    directory = profile_directory(profile)
    return (directory / "profile.json").exists() or (directory / "state.db").exists()


def require_profile(profile: str) -> Path:
    """The profile's directory, or minikube's "not found" lines and exit 85."""
    if not profile_exists(profile):
        fail(
            [
                f'Profile "{profile}" not found. Run "minikube-py profile list" to view all '
                "profiles.",
                f'To start a cluster, run: "{example(profile, "start")}"',
            ],
            EX_GUEST_NOT_FOUND,
        )
    return profile_directory(profile)


def serving_url(directory: Path) -> str | None:
    """The running cluster's API server URL, if it runs."""
    if running_pid(directory) is None:
        return None
    url = read_json(directory / SERVING_FILE).get("url")
    return str(url) if url else None


def require_running(profile: str) -> str:
    """The URL of the profile's running API server, or minikube's lines and exit 89."""
    url = serving_url(require_profile(profile))
    if url is None:
        fail(
            [
                "The control plane node must be running for this command",
                f'To start a cluster, run: "{example(profile, "start")}"',
            ],
            EX_GUEST_UNAVAILABLE,
        )
    return url


def api_client(directory: Path, url: str, timeout: float = 10.0) -> HttpClient:
    """A client of the profile's API server with its admin certificate (the one its
    kubeconfig entry names), independent of whatever the user did to the kubeconfig."""
    from minikube_py.client.http import HttpClient

    return HttpClient(
        url,
        ca=directory / "ca.crt",
        cert=directory / "client.crt",
        key=directory / "client.key",
        request_timeout=timeout,
    )


def call_api(profile: str, action: Callable[[HttpClient], Awaitable[T]]) -> T:
    """Run ``action`` against the profile's running API server; errors in one line."""
    url = require_running(profile)
    directory = profile_directory(profile)

    async def main() -> T:
        async with api_client(directory, url) as client:
            return await action(client)

    import aiohttp

    try:
        return asyncio.run(main())
    except (aiohttp.ClientError, OSError) as error:
        raise click.ClickException(f"cannot reach the API server at {url}: {error}") from None
    except (ApiError, ClusterError) as error:
        raise click.ClickException(str(error)) from None


def addon_names(addons: str) -> tuple[str, ...]:
    """``"ingress, dashboard"`` → ``("ingress", "dashboard")``."""
    return tuple(name.strip() for name in addons.split(",") if name.strip())


def ready_nodes(items: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """The names of the Ready nodes and of the others."""
    ready: list[str] = []
    not_ready: list[str] = []
    for node in items:
        conditions = (node.get("status") or {}).get("conditions") or []
        is_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
        (ready if is_ready else not_ready).append(node["metadata"]["name"])
    return ready, not_ready


def _width(text: str) -> int:
    return len(text) + text.count("✅")  # the check mark takes two terminal columns


def table(header: list[str], rows: list[list[str]]) -> str:
    """A table as minikube draws it (tablewriter): ``|`` borders, centred headings."""
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"

    def line(cells: list[str], centre: bool) -> str:
        out = []
        for cell, width in zip(cells, widths, strict=True):
            gap = width - _width(cell)
            left = gap // 2 if centre else 0
            out.append(" " + " " * left + cell + " " * (gap - left) + " ")
        return "|" + "|".join(out) + "|"

    return "\n".join([rule, line(header, True), rule, *(line(r, False) for r in rows), rule])
