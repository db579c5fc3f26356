"""What every built-in kubectl command works with: the connection, the namespace, the streams.

kubectl reads the kubeconfig once per run: ``--kubeconfig`` (else ``$KUBECONFIG``, else
``~/.kube/config``), the context named by ``--context`` (else the current one), and the
namespace from ``-n`` (else the context's, else ``default``). The client is made on first use,
so commands that never call the server (``config current-context``) work without one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, TextIO

import orjson
import yaml

from minikube_py.client.discovery import Resolver, Resource
from minikube_py.client.http import HttpClient
from minikube_py.client.kubeconfig import default_path
from minikube_py.client.protocol import Object


class KubectlError(Exception):
    """A mistake kubectl reports as ``error: <message>`` with exit code 1."""


class Session:
    """One run of the built-in kubectl: global flags resolved, the client made lazily."""

    def __init__(
        self,
        *,
        kubeconfig: str | None = None,
        context: str | None = None,
        namespace: str | None = None,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.kubeconfig = Path(kubeconfig) if kubeconfig else default_path()
        self.context_flag = context
        self.namespace_flag = namespace
        self.stdin = stdin or sys.stdin
        self.out = stdout or sys.stdout
        self.err = stderr or sys.stderr
        self._config: dict[str, Any] | None = None
        self._client: HttpClient | None = None
        self._resolver: Resolver | None = None

    def config(self) -> dict[str, Any]:
        """The kubeconfig as a mapping (empty when there is no file, as kubectl treats it)."""
        if self._config is None:
            try:
                loaded = yaml.safe_load(self.kubeconfig.read_text(encoding="utf-8"))
            except FileNotFoundError:
                loaded = {}
            except (OSError, yaml.YAMLError) as error:
                message = f"error loading config file {str(self.kubeconfig)!r}: {error}"
                raise KubectlError(message) from None
            self._config = loaded if isinstance(loaded, dict) else {}
        return self._config

    @property
    def context(self) -> str:
        """The context in use: ``--context``, else the kubeconfig's current one."""
        return self.context_flag or str(self.config().get("current-context") or "")

    @property
    def namespace(self) -> str:
        """``-n``, else the context's namespace, else ``default``."""
        if self.namespace_flag:
            return self.namespace_flag
        for entry in self.config().get("contexts") or []:
            if isinstance(entry, dict) and entry.get("name") == self.context:
                return str((entry.get("context") or {}).get("namespace") or "default")
        return "default"

    @property
    def client(self) -> HttpClient:
        """The HTTPS client of the context (made on first use; closed by ``close``)."""
        if self._client is None:
            if not self.context:
                raise KubectlError(
                    "The connection to the server localhost:8080 was refused - "
                    "did you specify the right host or port?"
                )
            os.environ.setdefault("KUBECONFIG", str(self.kubeconfig))
            self._client = HttpClient.from_kubeconfig(self.kubeconfig, self.context)
        return self._client

    async def resource(self, word: str) -> Resource:
        """The served resource a word names: ``po``, ``deploy``, ``ingresses.networking.k8s.io``."""
        if self._resolver is None:
            self._resolver = Resolver(self.client.server_preferred_resources)
        return await self._resolver.resource(word)

    async def resource_of_kind(self, api_version: str, kind: str) -> Resource | None:
        """The resource holding objects of a manifest's ``apiVersion`` and ``kind``."""
        if self._resolver is None:
            self._resolver = Resolver(self.client.server_preferred_resources)
        return await self._resolver.kind(api_version, kind)

    def namespace_of(self, resource: Resource) -> str | None:
        """The namespace a request about ``resource`` goes to (None when cluster-scoped)."""
        return self.namespace if resource.namespaced else None

    async def get_json(self, path: str, params: dict[str, str] | None = None) -> Object:
        """``GET path`` as JSON."""
        result: Object = orjson.loads(await self.client.request("GET", path, params=params))
        return result

    async def list_all(self, path: str, params: dict[str, str] | None = None) -> list[Object]:
        """Every item at ``path``, asked for in pages of 500 as kubectl asks, following the
        server's ``continue`` tokens (a bounded number of pages)."""
        params = {**(params or {}), "limit": "500"}
        found: list[Object] = []
        for _ in range(10_000):
            listed = await self.get_json(path, params)
            found.extend(item for item in listed.get("items") or () if isinstance(item, dict))
            token = (listed.get("metadata") or {}).get("continue")
            if not token:
                break
            params = {**params, "continue": str(token)}
        return found

    def write(self, text: str) -> None:
        """Print to standard output (``text`` ends with its own newline when it needs one)."""
        self.out.write(text)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
