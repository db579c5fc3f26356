"""``Cluster.apply``: create-or-update by server-side apply, in the API server's process.

``kubectl apply --server-side`` sends each object as an *applied configuration*: a PATCH with
``application/apply-patch+yaml`` and a field manager naming the writer. The server creates the
object when it is missing, otherwise merges the configuration into it, owning the fields the
manager sent and dropping those it sent last time but not now. That is the "make it so" a test
wants from ``apply``: applying the same manifest twice changes nothing, and changing one field
changes that field only. The embedded cluster applies as manager ``minikube-py`` and takes
over fields another manager owns (``--force-conflicts``), because the test's word is final.

The in-process ``Client`` speaks only JSON, merge and strategic patches, so the apply goes to
the server's own apply code (``apiserver.applying``) directly: the same field checks,
admission, validation and storage as the HTTP request, without the socket.
"""

from __future__ import annotations

from minikube_py.apiserver import applying, fieldchecks
from minikube_py.apiserver.duplicates import Duplicates
from minikube_py.apiserver.server import ApiServer
from minikube_py.client.protocol import Object
from minikube_py.cluster.settings import ClusterError

FIELD_MANAGER = "minikube-py"


async def server_side_apply(server: ApiServer, obj: Object, *, namespace: str) -> Object:
    """Apply ``obj`` (its namespace, else ``namespace``); the object as stored."""
    api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
    rt = server.registry.by_api_version(api_version, kind)
    if rt is None:
        raise ClusterError(
            f'no matches for kind "{kind}" in version "{api_version}" '
            "(is its CustomResourceDefinition applied?)"
        )
    metadata = obj.get("metadata") or {}
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise ClusterError(f"a {kind} to apply needs metadata.name (generateName cannot apply)")
    target_ns: str | None = None
    if rt.namespaced:
        target_ns = str(metadata.get("namespace") or namespace)
        obj = {**obj, "metadata": {**metadata, "namespace": target_ns}}
    config = applying.checked_config(rt, obj, name)
    warnings: list[str] = []
    config = fieldchecks.check_body(rt, config, "Strict", warnings, Duplicates())
    applied, _code = await applying.server_side_apply(
        server.storage, rt, target_ns, name, config, manager=FIELD_MANAGER, force=True
    )
    return applied
