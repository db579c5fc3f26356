"""A DaemonSet's template history, kept as ControllerRevisions.

A Deployment remembers its old templates as old ReplicaSets; a DaemonSet has no such middle
object, so it keeps each template it has had as an ``apps/v1`` ``ControllerRevision``: ``data``
holds the template as a patch (``{"spec": {"template": {..., "$patch": "replace"}}}``, which
``kubectl rollout undo`` applies back), ``revision`` a number that grows with every change.
The revision is named ``<daemonset>-<hash>`` and labelled ``controller-revision-hash: <hash>``;
the hash (of the template and ``status.collisionCount``) is also a label on every pod made
from it, which is how the controller tells updated pods from old ones.

Per sync (upstream's ``constructHistory``): find the revisions the DaemonSet controls (adopting
matching orphans), the ones whose data equal the current template; keep the newest of those
(deleting duplicates) and renumber it to the top if an old template came back (a rollback);
otherwise create one. A name taken by a revision with other data is a hash collision: the
DaemonSet's ``collisionCount`` goes up and the next sync hashes anew. Afterwards
``cleanup`` deletes the oldest revisions beyond ``revisionHistoryLimit`` (10) that no live pod
still uses.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from minikube_py.api.selectors import LabelSelector
from minikube_py.client.protocol import CONTROLLER_REVISIONS, DAEMONSETS, ApiError, Client
from minikube_py.controllers.controller import controller_reference
from minikube_py.controllers.deployment_util import pod_template_hash
from minikube_py.logs import get_logger

Object = dict[str, Any]
HASH_LABEL = "controller-revision-hash"
_log = get_logger("controllers.daemonset")


def current_hash(ds: Object) -> str:
    collision = (ds.get("status") or {}).get("collisionCount")
    template = (ds.get("spec") or {}).get("template") or {}
    return pod_template_hash(template, None if collision is None else int(collision))


def revision_data(ds: Object) -> Object:
    """The template as the strategic-merge patch a revision stores (upstream's getPatch)."""
    template = copy.deepcopy((ds.get("spec") or {}).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def _revision(obj: Object) -> int:
    return int(obj.get("revision") or 0)


def _uid(obj: Object) -> str:
    return str((obj.get("metadata") or {}).get("uid") or "")


def _owner_reference(ds: Object) -> Object:
    meta = ds["metadata"]
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


class History:
    """Reads and writes one namespace's ControllerRevisions for DaemonSets."""

    def __init__(self, client: Client, revisions: Any) -> None:
        self.client = client
        self.revisions = revisions  # the ControllerRevision informer

    async def controlled(self, ds: Object, selector: LabelSelector) -> list[Object]:
        """The revisions ``ds`` controls; matching orphans are adopted on the way."""
        namespace, found = ds["metadata"]["namespace"], []
        for revision in self.revisions.by_namespace(namespace):
            reference = controller_reference(revision)
            if reference is not None:
                if reference.get("uid") == _uid(ds):
                    found.append(revision)
                continue
            labels = (revision.get("metadata") or {}).get("labels")
            if ds["metadata"].get("deletionTimestamp") or not selector.matches(labels):
                continue
            patch = {"metadata": {"ownerReferences": [_owner_reference(ds)]}}
            name = revision["metadata"]["name"]
            try:
                found.append(await self.client.patch(CONTROLLER_REVISIONS, namespace, name, patch))
            except ApiError as error:
                _log.info("could not adopt revision", revision=name, error=str(error))
        return found

    async def construct(self, ds: Object, selector: LabelSelector) -> tuple[Object, list[Object]]:
        """(the current revision, the old ones), creating or renumbering the current one."""
        histories = await self.controlled(ds, selector)
        data = revision_data(ds)
        current = [h for h in histories if h.get("data") == data]
        old = [h for h in histories if h.get("data") != data]
        top = max((_revision(h) for h in histories), default=0)
        if not current:
            return await self._snapshot(ds, top + 1), old
        current.sort(key=_revision)
        keep = current[-1]
        namespace = ds["metadata"]["namespace"]
        for duplicate in current[:-1]:
            await self._delete(namespace, duplicate["metadata"]["name"])
        if _revision(keep) < top:  # an old template is back: it becomes the newest revision
            keep = await self.client.patch(
                CONTROLLER_REVISIONS, namespace, keep["metadata"]["name"], {"revision": top + 1}
            )
        return keep, old

    async def _snapshot(self, ds: Object, number: int) -> Object:
        namespace, digest = ds["metadata"]["namespace"], current_hash(ds)
        template = (ds.get("spec") or {}).get("template") or {}
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        labels[HASH_LABEL] = digest
        metadata: Object = {
            "name": f"{ds['metadata']['name']}-{digest}",
            "namespace": namespace,
            "labels": labels,
            "ownerReferences": [_owner_reference(ds)],
        }
        if ds["metadata"].get("annotations"):
            metadata["annotations"] = dict(ds["metadata"]["annotations"])
        body: Object = {
            "apiVersion": "apps/v1",
            "kind": "ControllerRevision",
            "metadata": metadata,
            "data": revision_data(ds),
            "revision": number,
        }
        try:
            return await self.client.create(CONTROLLER_REVISIONS, namespace, body)
        except ApiError as error:
            if error.code != 409:
                raise
        existing = await self.client.get(CONTROLLER_REVISIONS, namespace, metadata["name"])
        if existing.get("data") == body["data"] and _controlled_by(existing, ds):
            return existing
        # a hash collision: count it, so the next sync computes another name
        fresh = await self.client.get(DAEMONSETS, namespace, ds["metadata"]["name"])
        status = dict(fresh.get("status") or {})
        status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
        await self.client.update_status(DAEMONSETS, namespace, {**fresh, "status": status})
        raise RuntimeError(f"found a hash collision for DaemonSet {ds['metadata']['name']!r}")

    async def cleanup(self, ds: Object, old: list[Object], pods: Iterable[Object]) -> None:
        """Delete the oldest revisions past ``revisionHistoryLimit`` that no pod uses."""
        limit = (ds.get("spec") or {}).get("revisionHistoryLimit")
        excess = len(old) - (10 if limit is None else int(limit))
        if excess <= 0:
            return
        live = {((p.get("metadata") or {}).get("labels") or {}).get(HASH_LABEL) for p in pods}
        for revision in sorted(old, key=_revision):
            if excess <= 0:
                break
            if (revision["metadata"].get("labels") or {}).get(HASH_LABEL) in live:
                continue
            await self._delete(ds["metadata"]["namespace"], revision["metadata"]["name"])
            excess -= 1

    async def _delete(self, namespace: str, name: str) -> None:
        try:
            await self.client.delete(CONTROLLER_REVISIONS, namespace, name)
        except ApiError as error:
            if error.code != 404:
                raise


def _controlled_by(obj: Object, ds: Object) -> bool:
    reference = controller_reference(obj)
    return reference is not None and reference.get("uid") == _uid(ds)
