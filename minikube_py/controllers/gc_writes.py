"""The garbage collector's writes: metadata patches that never undo someone else's change.

The collector edits objects other controllers also write — a ReplicaSet's status changes
while the collector removes its ``foregroundDeletion`` finalizer. Each edit here is a JSON
merge patch of ``metadata`` computed from the object as last read, carrying its ``uid`` and
``resourceVersion`` as preconditions; on a conflict (409) the object is read again and the
edit computed afresh, up to five times, as client-go's ``RetryOnConflict`` does for upstream's
``removeFinalizer``. An object that is gone (or was replaced under its name) needs no edit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minikube_py.client.protocol import ApiError, Client, Object
from minikube_py.controllers.gc_resources import Resource

CONFLICT_RETRIES = 5  # client-go's retry.DefaultRetry steps

# metadata fields to set, from the object as it is now; None: nothing to change
Change = Callable[[Object], dict[str, Any] | None]


async def patch_metadata(
    client: Client, resource: Resource, latest: Object, change: Change
) -> None:
    """Apply ``change`` to ``latest``'s metadata, re-reading and re-computing on conflict."""
    uid = latest["metadata"]["uid"]
    for attempt in range(CONFLICT_RETRIES):
        metadata = latest["metadata"]
        fields = change(latest)
        if fields is None:
            return
        patch = {"metadata": {"uid": uid, "resourceVersion": metadata["resourceVersion"], **fields}}
        namespace = metadata.get("namespace") if resource.namespaced else None
        try:
            await client.patch(resource.gvr, namespace, metadata["name"], patch)
            return
        except ApiError as error:
            if error.code == 404:
                return
            if error.code != 409 or attempt == CONFLICT_RETRIES - 1:
                raise
        try:
            latest = await client.get(resource.gvr, namespace, metadata["name"])
        except ApiError as error:
            if error.code == 404:
                return
            raise
        if latest["metadata"].get("uid") != uid:
            return  # another object now has the name: ours is gone


def without_finalizer(finalizer: str) -> Change:
    """The change that removes ``finalizer`` (none if the object does not have it)."""

    def change(obj: Object) -> dict[str, Any] | None:
        finalizers = obj["metadata"].get("finalizers") or []
        if finalizer not in finalizers:
            return None
        kept = [f for f in finalizers if f != finalizer]
        return {"finalizers": kept or None}

    return change


def without_owners(uids: set[str]) -> Change:
    """The change that removes the ownerReferences to ``uids`` (none if there are none)."""

    def change(obj: Object) -> dict[str, Any] | None:
        references = obj["metadata"].get("ownerReferences") or []
        kept = [ref for ref in references if ref.get("uid") not in uids]
        return None if len(kept) == len(references) else {"ownerReferences": kept or None}

    return change


def unblocking(uids: set[str]) -> Change:
    """The change that sets ``blockOwnerDeletion: false`` on the references to ``uids``."""

    def change(obj: Object) -> dict[str, Any] | None:
        references = obj["metadata"].get("ownerReferences") or []
        if not any(ref.get("uid") in uids and ref.get("blockOwnerDeletion") for ref in references):
            return None
        return {
            "ownerReferences": [
                {**ref, "blockOwnerDeletion": False} if ref.get("uid") in uids else ref
                for ref in references
            ]
        }

    return change
