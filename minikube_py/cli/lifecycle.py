"""``minikube-py start`` and ``stop``: a profile's cluster running in the background.

``start`` runs ``serve`` as a background process (``background.py``) with the profile's
settings — the flags given, else what the profile was started with last time, else the
``minikube-py config`` defaults — then waits until every node is Ready, as ``minikube start``
does, and leaves kubectl pointed at the profile (``serve`` merges the context named after the
profile into the kubeconfig and makes it current). A stopped profile starts again from its
state: the store in its directory keeps every object, its volumes their data. ``stop`` ends
the process cleanly (``delete``, in ``deletion.py``, also removes the profile).

Flags copied from minikube notes (``--driver=docker``, ``--container-runtime=containerd``,
``--image-mirror-country=cn``, ``--force``) are accepted, each with a one-line note saying
what minikube_py does instead.
"""

from __future__ import annotations

import platform
import re
from typing import Any

import click

from minikube_py import __version__
from minikube_py.cli.background import running_pid, start_background, stop_background
from minikube_py.cli.common import (
    EX_USAGE,
    addon_names,
    fail,
    home,
    profile_directory,
    profile_option,
    read_json,
    serving_url,
    step,
)
from minikube_py.cli.profiles import (
    DRIVER,
    profile_settings,
    save_profile_settings,
)
from minikube_py.cluster import ClusterError
from minikube_py.cluster.addon_catalog import check_addons
from minikube_py.config import KUBERNETES_VERSION

ALWAYS_ON = ("storage-provisioner", "default-storageclass")
_READY_SECONDS = 60.0
_VERSION = re.compile(r"v?1\.32(\.\d+)?")
_MEMORY = re.compile(r"(\d+)\s*(?:([kmgt])b?)?", re.IGNORECASE)
_NOTES = {
    "force": "minikube-py has no safety checks to override: --force changes nothing",
    "driver": "minikube-py needs no VM or container: --driver={} is ignored, the cluster "
    "runs as processes on this machine",
    "container_runtime": "minikube-py runs containers as local processes: "
    "--container-runtime={} is ignored",
    "image_mirror_country": "minikube-py pulls no images (its images are built in or built "
    "locally): --image-mirror-country={} is ignored",
}


def _memory(value: Any) -> str | None:
    """minikube's memory values as Kubernetes quantities: ``4096`` and ``4096mb`` are MiB,
    ``4g`` / ``4gb`` GiB; ``max`` / ``no-limit`` the machine's. Quantities pass unchanged."""
    text = str(value).strip() if value is not None else ""
    if text.lower() in ("", "max", "no-limit"):
        return None
    match = _MEMORY.fullmatch(text)
    if match is None:
        return text  # a quantity (4Gi, 512Mi) or nonsense the node refuses in one line
    number, unit = match.groups()
    return f"{number}{(unit or 'm').upper()}i"


def _cpus(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return None if text.lower() in ("", "max", "no-limit") else text


def _choose(flag: Any, settings: dict[str, Any], key: str, default: Any = None) -> Any:
    """A flag given now, else what the profile had, else ``minikube-py config``'s value."""
    if flag is not None:
        return flag
    if settings.get(key) is not None:
        return settings[key]
    configured = read_json(home() / "config.json").get(key)
    return configured if configured is not None else default


@click.command()
@profile_option
@click.option("-n", "--nodes", type=int, help="The number of nodes to spin up. Defaults to 1.")
@click.option("--cpus", help="Number of CPUs allocated to each node (default: the machine's).")
@click.option("--memory", help="Amount of RAM allocated to each node, e.g. 4Gi or 4096.")
@click.option("--kubernetes-version", help="The Kubernetes version (v1.32.x only).")
@click.option("--addons", multiple=True, help="Enable addons (comma-separated or repeated).")
@click.option("--store", "store_url", help="Store URL (default: SQLite in the profile).")
@click.option("--address", help="Address for the API server (default: the first node's).")
@click.option("--port", type=int, help="API server port (default 8443, else the next free).")
@click.option("--wait-timeout", type=float, default=_READY_SECONDS, show_default=True)
@click.option("--force", is_flag=True, default=None, help="Accepted for minikube's sake.")
@click.option("--driver", "--vm-driver", help="Accepted for minikube's sake (ignored).")
@click.option("--container-runtime", help="Accepted for minikube's sake (ignored).")
@click.option("--image-mirror-country", help="Accepted for minikube's sake (ignored).")
def start(
    profile: str,
    nodes: int | None,
    cpus: str | None,
    memory: str | None,
    kubernetes_version: str | None,
    addons: tuple[str, ...],
    store_url: str | None,
    address: str | None,
    port: int | None,
    wait_timeout: float,
    **minikube_flags: Any,
) -> None:
    """Starts a local Kubernetes cluster (in the background) and points kubectl at it."""
    if kubernetes_version and not _VERSION.fullmatch(kubernetes_version):
        fail(
            [
                f"minikube-py runs Kubernetes {KUBERNETES_VERSION} only: --kubernetes-version="
                f"{kubernetes_version} is not available (use v1.32.x)"
            ],
            EX_USAGE,
        )
    chosen = addon_names(",".join(addons))
    try:
        check_addons(chosen)
    except ClusterError as error:
        raise click.ClickException(str(error)) from None
    directory = profile_directory(profile)
    click.echo(f"* minikube-py v{__version__} on {platform.system()} {platform.release()}")
    for key, value in minikube_flags.items():
        if value:
            step(_NOTES[key].format(value))
    if running_pid(directory) is not None:
        step(f'The "{profile}" cluster is already running.')
        url = serving_url(directory)
        if url:  # as minikube, point kubectl at it again
            from minikube_py.apiserver.kubeconfig import write_kubeconfig
            from minikube_py.apiserver.pki import Pki

            write_kubeconfig(profile=profile, server=url, pki=Pki.at(directory))
        _done(profile)
        return
    settings = profile_settings(profile)
    existed = (directory / "state.db").exists()
    count = int(_choose(nodes, settings, "nodes", 1))
    cpus = _cpus(_choose(cpus, settings, "cpus"))
    memory = _memory(_choose(memory, settings, "memory"))
    store_url = _choose(store_url, settings, "store")
    # Addons asked for now only: which are on lives in the cluster's own record (addons.py),
    # which a restart keeps, so an addon disabled since the last start stays disabled.
    wanted = chosen
    settings = save_profile_settings(
        profile,
        nodes=count,
        cpus=cpus,
        memory=memory,
        store=store_url,
        kubernetes_version=KUBERNETES_VERSION,
        driver=DRIVER,
    )
    step(f"Using the {DRIVER} driver (every node a set of processes on this machine)")
    step(f'Starting "{profile}" primary control-plane node in "{profile}" cluster')
    if existed:
        step(f'Restarting existing {DRIVER} cluster for "{profile}" ...')
    else:
        step(f"Creating {DRIVER} cluster (CPUs={cpus or 'all'}, Memory={memory or 'all'}) ...")
    step(f"Preparing Kubernetes {KUBERNETES_VERSION} on {DRIVER} ...")
    args = ["--profile", profile, "--nodes", str(count), "--slot", str(settings.get("slot", 0))]
    args += ["--port", str(port if port is not None else settings.get("port", 8443))]
    for flag, value in (("--address", address), ("--cpus", cpus), ("--memory", memory)):
        if value:
            args += [flag, str(value)]
    if store_url:
        args += ["--store", str(store_url)]
    if wanted:
        args += ["--addons", ",".join(wanted)]
    try:
        _, enabled = start_background(directory, args, wait_timeout)
    except (ClusterError, OSError) as error:
        raise click.ClickException(str(error)) from None
    for index in range(1, count):
        step(f'Starting "{profile}-m{index + 1:02d}" worker node in "{profile}" cluster')
    step("Verifying Kubernetes components...")
    extra = sorted({*wanted, *enabled} - set(ALWAYS_ON))
    step(f"Enabled addons: {', '.join([*ALWAYS_ON, *extra])}")
    _done(profile)


def _done(profile: str) -> None:
    step(
        f'Done! kubectl is now configured to use "{profile}" cluster and "default" '
        "namespace by default"
    )


@click.command()
@profile_option
def stop(profile: str) -> None:
    """Stops a running local Kubernetes cluster (its state stays for the next start)."""
    directory = profile_directory(profile)
    if running_pid(directory) is None:
        step(f'The "{profile}" cluster is not running.')
        return
    count = int(profile_settings(profile).get("nodes") or 1)
    step(f'Stopping node "{profile}"  ...')
    stop_background(directory)
    step(f"{count} node{'s' if count != 1 else ''} stopped.")


__all__ = ["start", "stop"]
