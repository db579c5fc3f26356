"""The cluster manager: builds the components of one cluster and runs them together.

A cluster is a state directory (its store, certificates, logs), a store, and components that
run until the cluster stops: today the API server; the scheduler, controllers, kubelets and the
service proxy join as their issues land. ``run_cluster`` starts them in one task group and
stops them in reverse order; the CLI's ``serve`` / ``start`` and the embedded ``Cluster`` all
go through it, so they cannot differ.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import attrs

from minikube_py.apiserver.kubeconfig import write_kubeconfig
from minikube_py.apiserver.pki import ensure_pki
from minikube_py.apiserver.server import ApiServer
from minikube_py.apiserver.tokens import TokenIssuer
from minikube_py.logs import get_logger
from minikube_py.store import Encryption, load_or_create_key, open_store

_log = get_logger("cluster")


class ClusterError(Exception):
    """A cluster cannot start as configured; the message says why, in one line."""


@attrs.frozen
class ClusterConfig:
    """Everything needed to start one cluster."""

    profile: str = "minikube"
    state_dir: Path | None = None  # default: ~/.minikube_py/profiles/<profile>
    address: str = "127.49.0.2"  # the first node's address (DESIGN.md's address plan)
    port: int = 8443  # 0: a free port
    store_url: str | None = None  # default: SQLite in the state directory
    kubeconfig: Path | None = None  # None: merge into the user's kubeconfig
    write_kubeconfig: bool = True

    @property
    def directory(self) -> Path:
        home = Path(os.environ.get("MINIKUBE_PY_HOME", Path.home() / ".minikube_py"))
        return (self.state_dir or home / "profiles" / self.profile).resolve()


@attrs.frozen
class RunningCluster:
    api_server: ApiServer
    kubeconfig: Path | None
    directory: Path

    @property
    def url(self) -> str:
        return self.api_server.url


@contextlib.contextmanager
def _exclusive(directory: Path) -> Iterator[None]:
    """Hold the state directory's lock: two clusters on one directory would corrupt it."""
    lock = open(directory / "cluster.lock", "a+")  # noqa: SIM115 - held for the whole run
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "another process"
        lock.close()
        raise ClusterError(
            f"the state directory {directory} is in use by {holder}; stop it first or use "
            "another --profile / --state-dir"
        ) from None
    lock.seek(0)
    lock.truncate()
    lock.write(f"minikube-py (pid {os.getpid()})")
    lock.flush()
    try:
        yield None
    finally:
        lock.close()


@contextlib.asynccontextmanager
async def running_cluster(config: ClusterConfig) -> AsyncIterator[RunningCluster]:
    """Start the cluster, yield it while it runs, stop it on exit."""
    directory = config.directory
    directory.mkdir(parents=True, exist_ok=True)
    with _exclusive(directory):
        key = load_or_create_key(directory / "encryption.key")
        url = config.store_url or f"sqlite:///{directory / 'state.db'}"
        store = await open_store(url, encryption=Encryption(key))
        try:
            pki = ensure_pki(directory, addresses=[config.address, "127.0.0.1"])
            tokens = TokenIssuer(load_or_create_key(directory / "sa.key"))
            server = ApiServer(store, pki, host=config.address, port=config.port, tokens=tokens)
            try:
                await server.start()
            except OSError as error:
                raise ClusterError(
                    f"cannot listen on {config.address}:{config.port}: {error.strerror}"
                ) from None
            try:
                kubeconfig = None
                if config.write_kubeconfig:
                    kubeconfig = write_kubeconfig(
                        profile=config.profile, server=server.url, pki=pki, path=config.kubeconfig
                    )
                yield RunningCluster(server, kubeconfig, directory)
            finally:
                await server.stop()
        finally:
            await store.close()
