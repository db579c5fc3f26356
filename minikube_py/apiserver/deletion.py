"""DELETE: what removing an object means in Kubernetes, beyond dropping its key.

A DELETE does not always remove. An object with ``metadata.finalizers`` is only *marked*
(``deletionTimestamp`` set) until the controllers that own those finalizers have done their
cleanup and removed them; ``propagationPolicy`` adds one of its own (``foregroundDeletion``,
``orphan``) for the garbage collector, and a custom resource gets the CRD cleanup finalizer.
A pod on a node is marked too, with a grace period, until its kubelet confirms that its
processes stopped; a namespace is marked ``Terminating`` until the namespace controller has
emptied it. A second DELETE may only shorten a grace period already running.

``preconditions`` (``uid``, ``resourceVersion``) make a DELETE answer 409 when the object is
no longer the one the client meant. A write that lost a race with another (a status update
between our read and our write) is tried again on a fresh read, as upstream's
``GuaranteedUpdate``, so a DELETE only answers 409 when its own preconditions no longer hold.
``Storage.delete`` is the entry point; this module is its logic.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from minikube_py.api import errors
from minikube_py.api.customresources import CLEANUP_FINALIZER, is_crd
from minikube_py.api.resources import ResourceType
from minikube_py.api.stamps import now_rfc3339
from minikube_py.apiserver.namespaces import holds_content
from minikube_py.apiserver.objects import Object, json_copy, key, read, write
from minikube_py.store import Conflict

if TYPE_CHECKING:
    from minikube_py.apiserver.storage import Storage

DELETE_ATTEMPTS = 5  # a DELETE that loses a write race reads again, at most this often


class _Raced(Exception):
    """Another write came between a DELETE's read and its write."""


async def delete(
    storage: Storage,
    rt: ResourceType,
    namespace: str | None,
    name: str,
    options: dict[str, Any],
    *,
    dry_run: bool = False,
) -> Object:
    """Remove the object, or mark it if finalizers (or a grace period) must run first."""
    for _ in range(DELETE_ATTEMPTS - 1):
        with contextlib.suppress(_Raced):
            return await _delete_once(storage, rt, namespace, name, options, dry_run=dry_run)
    try:
        return await _delete_once(storage, rt, namespace, name, options, dry_run=dry_run)
    except _Raced:
        raise errors.conflict(rt, name, errors.STALE) from None


async def _delete_once(
    storage: Storage,
    rt: ResourceType,
    namespace: str | None,
    name: str,
    options: dict[str, Any],
    *,
    dry_run: bool,
) -> Object:
    old = await storage.get(rt, namespace, name)
    check_preconditions(rt, old, options.get("preconditions") or {})
    metadata = old["metadata"]
    finalizers = list(metadata.get("finalizers") or [])
    if is_crd(rt) and CLEANUP_FINALIZER not in finalizers and not metadata.get("deletionTimestamp"):
        finalizers.append(CLEANUP_FINALIZER)  # as upstream's CRD REST: its objects go first
    policy = options.get("propagationPolicy")
    if policy == "Foreground" and "foregroundDeletion" not in finalizers:
        finalizers.append("foregroundDeletion")
    elif policy == "Orphan" and "orphan" not in finalizers:
        finalizers.append("orphan")
    # a pod runs on a node until its kubelet confirms it stopped — unless it is not on a
    # node yet or has already ended (upstream's CheckGracefulDelete: those go at once)
    graceful = (
        rt.kind == "Pod"
        and grace_seconds(old, options) > 0
        and bool((old.get("spec") or {}).get("nodeName"))
        and (old.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    )
    # a namespace is marked by its first delete; later ones remove it once it is finalized
    first_or_held = not metadata.get("deletionTimestamp") or holds_content(rt, old)
    if finalizers or graceful or (rt.kind == "Namespace" and first_or_held):
        unchanged = finalizers == (metadata.get("finalizers") or [])
        grace = grace_seconds(old, options) if graceful else 0
        current = metadata.get("deletionGracePeriodSeconds")
        if metadata.get("deletionTimestamp"):
            # A second delete may only shorten the grace period: the kubelet's final one
            # (0) lets the last finalizer's removal take the object away, as upstream.
            if current is not None:
                grace = min(grace, int(current))
            if unchanged and (current is None or grace >= int(current)):
                return old  # already being deleted, no sooner
        marked: Object = json_copy(old)
        marked["metadata"]["finalizers"] = finalizers or None
        marked["metadata"]["deletionTimestamp"] = metadata.get("deletionTimestamp") or now_rfc3339()
        marked["metadata"]["deletionGracePeriodSeconds"] = grace
        if rt.kind == "Namespace":
            marked.setdefault("status", {})["phase"] = "Terminating"
        if not marked["metadata"]["finalizers"]:
            del marked["metadata"]["finalizers"]
        if dry_run:
            return marked
        revision = int(metadata["resourceVersion"])
        storage.recent.forget(key(rt, namespace, name))
        try:
            kv = await storage.store.update(
                key(rt, namespace, name), write(rt, marked), expected_revision=revision
            )
        except Conflict:
            raise _Raced from None
        return read(rt, kv)
    if dry_run:
        return old
    try:
        return await storage.remove(rt, namespace, name, int(metadata["resourceVersion"]))
    except errors.ApiError as error:
        if error.code == 409:
            raise _Raced from None
        raise


def grace_seconds(obj: Object, options: dict[str, Any]) -> int:
    """The seconds a deleted pod has to stop: the request's, else the pod's own."""
    given = options.get("gracePeriodSeconds")
    if isinstance(given, int):
        return max(given, 0)
    return int((obj.get("spec") or {}).get("terminationGracePeriodSeconds", 30) or 0)


def check_preconditions(rt: ResourceType, obj: Object, preconditions: dict[str, Any]) -> None:
    """409 Conflict unless the object is the one a DELETE's ``preconditions`` name."""
    metadata = obj["metadata"]
    uid, version = preconditions.get("uid"), preconditions.get("resourceVersion")
    name = metadata.get("name", "")
    if uid is not None and uid != metadata.get("uid"):
        raise errors.conflict(
            rt,
            name,
            f"Precondition failed: UID in precondition: {uid}, UID in object meta: "
            f"{metadata.get('uid')}",
        )
    if version is not None and version != metadata.get("resourceVersion"):
        raise errors.conflict(
            rt,
            name,
            f"Precondition failed: ResourceVersion in precondition: {version}, "
            f"ResourceVersion in object meta: {metadata.get('resourceVersion')}",
        )
