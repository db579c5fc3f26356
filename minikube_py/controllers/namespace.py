"""The namespace controller: a deleted namespace is emptied, then let go.

``kubectl delete namespace shop`` only marks the namespace: the API server sets its
``deletionTimestamp`` and phase ``Terminating`` and from then on refuses new content in it
(403). The namespace still carries the ``kubernetes`` finalizer in ``spec.finalizers`` — a
promise that this controller will empty it. For each namespace being deleted it
(upstream's ``pkg/controller/namespace``):

1. reads it fresh (not from the cache: several parties edit a terminating namespace) and makes
   sure its phase says ``Terminating``;
2. deletes everything in it, of every namespaced resource the server serves, custom resources
   included, and writes the ``NamespaceContentRemaining`` / ``NamespaceFinalizersRemaining`` /
   ``NamespaceDeletionContentFailure`` … conditions that tell a waiting user why
   (``namespace_deleter.py``);
3. while something remains, looks again after half the estimated time (objects with
   finalizers get 15 s, running pods their grace period);
4. once it is empty, removes ``kubernetes`` from ``spec.finalizers`` through the namespace's
   ``finalize`` subresource — the server then removes the namespace — and deletes it once more
   (with its uid as a precondition) in case the server left it.
"""

from __future__ import annotations

from minikube_py.api.stamps import rfc3339
from minikube_py.client.protocol import NAMESPACES, ApiError, Object
from minikube_py.controllers.controller import Controller
from minikube_py.controllers.informers import SharedInformers
from minikube_py.controllers.namespace_deleter import Pass, conditions_after, delete_content

FINALIZER = "kubernetes"  # the token this controller removes (upstream's FinalizerKubernetes)
_CONFLICT_RETRIES = 5
CONTENT_RETRY_SECONDS = 2.0  # content that should have gone but has not: looked at again


class ContentFailure(Exception):
    """Some content could not be deleted; the key is retried with back-off."""


class NamespaceController(Controller):
    """Empties namespaces being deleted and removes their ``kubernetes`` finalizer."""

    name = "namespace"
    workers = 10  # kube-controller-manager's --concurrent-namespace-syncs

    def wire(self, informers: SharedInformers) -> None:
        self.namespaces = informers.get(NAMESPACES)

        def deleting(namespace: Object) -> str | None:
            # only namespaces being deleted are this controller's business, as upstream
            return namespace["metadata"]["name"] if _deleting(namespace) else None

        self.watch(self.namespaces, deleting)

    async def reconcile(self, key: str) -> float | None:
        try:
            namespace = await self.client.get(NAMESPACES, None, key)
        except ApiError as error:
            if error.code == 404:
                return None
            raise
        if not _deleting(namespace):
            return None
        namespace = await self._mark_terminating(namespace)
        if not _finalizers(namespace):
            await self._delete(namespace)
            return None
        found = await delete_content(self.client, namespace, self.clock)
        namespace = await self._write_conditions(namespace, found)
        if found.errors:
            # Upstream logs this as an error and retries with back-off; it is mostly a pod
            # outliving its grace period on a slow node, so: a warning, and look again soon.
            self.log.warning("content remains", key=key, errors="; ".join(found.errors))
            return CONTENT_RETRY_SECONDS
        if found.estimate > 0:
            self.log.info(
                "content remains in the namespace", key=key, estimate_seconds=found.estimate
            )
            return found.estimate // 2 + 1
        finalized = await self._finalize(namespace)
        if finalized is not None and not _finalizers(finalized):
            await self._delete(finalized)
        self.log.info("namespace emptied and finalized", key=key)
        return None

    async def _mark_terminating(self, namespace: Object) -> Object:
        """Phase ``Terminating`` (the server sets it when it marks; a restore may not have)."""
        if (namespace.get("status") or {}).get("phase") == "Terminating":
            return namespace
        namespace = {**namespace, "status": {**(namespace.get("status") or {})}}
        namespace["status"]["phase"] = "Terminating"
        return await self.client.update_status(NAMESPACES, None, namespace)

    async def _write_conditions(self, namespace: Object, found: Pass) -> Object:
        """Write the conditions ``found`` calls for; the namespace as it is now stored."""
        conditions = conditions_after(
            namespace.get("status") or {}, found, rfc3339(self.clock.now())
        )
        if conditions is None:
            return namespace
        updated = {
            **namespace,
            "status": {**(namespace.get("status") or {}), "conditions": conditions},
        }
        try:
            return await self.client.update_status(NAMESPACES, None, updated)
        except ApiError as error:  # as upstream: only logged, the next pass writes them again
            self.log.warning(
                "namespace conditions not written",
                key=namespace["metadata"]["name"],
                error=error.message,
            )
            return namespace

    async def _finalize(self, namespace: Object) -> Object | None:
        """Remove this controller's token from ``spec.finalizers``, re-reading on conflict."""
        name, uid = namespace["metadata"]["name"], namespace["metadata"].get("uid")
        for _ in range(_CONFLICT_RETRIES):
            kept = sorted({f for f in _finalizers(namespace) if f != FINALIZER})
            wanted = {**namespace, "spec": {**(namespace.get("spec") or {}), "finalizers": kept}}
            try:
                return await self.client.finalize_namespace(wanted)
            except ApiError as error:
                if error.code == 404:
                    return None  # the server removed it already
                if error.code != 409:
                    raise
            namespace = await self.client.get(NAMESPACES, None, name)
            if namespace["metadata"].get("uid") != uid:
                raise ContentFailure("namespace uid has changed across retries")
        raise ContentFailure(f"finalizing namespace {name}: too many conflicts")

    async def _delete(self, namespace: Object) -> None:
        metadata = namespace["metadata"]
        preconditions = {"uid": metadata["uid"]} if metadata.get("uid") else None
        try:
            await self.client.delete(
                NAMESPACES, None, metadata["name"], preconditions=preconditions
            )
        except ApiError as error:
            if error.code != 404:
                raise


def _deleting(namespace: Object) -> bool:
    return bool(namespace["metadata"].get("deletionTimestamp"))


def _finalizers(namespace: Object) -> list[str]:
    return list((namespace.get("spec") or {}).get("finalizers") or [])
