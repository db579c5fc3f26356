"""A StatefulSet's template history, kept as ControllerRevisions (upstream's ``history``).

Each template a StatefulSet has had is an ``apps/v1`` ``ControllerRevision``. Its ``data`` is
the strategic merge patch ``{"spec": {"template": {…, "$patch": "replace"}}}`` that puts the
template back — exactly what ``kubectl rollout undo statefulset/web`` sends (it patches the
set with the chosen revision's ``data``); ``revision`` numbers them. The revision is named
``<set>-<hash>``, the hash (FNV-1 of the data's JSON, then the collision count) also its
``controller-revision-hash`` label; a *pod's* ``controller-revision-hash`` label holds the
revision's full name, which is how the controller tells updated pods from old ones.

Per sync (``getStatefulSetRevisions``): the set's revisions (controlled by it, or orphans
matching its selector, which it adopts) sorted by number; a revision for the current template
is the *update revision*: the newest one if it already has this data, else an older equal one
renumbered to the top (a rollback), else a new one. A name already taken by other data is a
hash collision: ``collisionCount`` goes up and the name is hashed anew. The *current revision*
is the one ``status.currentRevision`` names (the update revision at first). Afterwards the
oldest revisions no pod, nor current or update, uses are deleted past
``revisionHistoryLimit``.

The DaemonSet keeps its own (``daemonset_history.py``): it hashes the template rather than the
data, labels its pods with the bare hash, and counts collisions differently, as upstream does.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

from minikube_py.api.selectors import LabelSelector
from minikube_py.client.informer import Informer
from minikube_py.client.protocol import CONTROLLER_REVISIONS, ApiError, Client
from minikube_py.controllers.controller import controller_reference
from minikube_py.controllers.deployment_util import safe_encode
from minikube_py.controllers.podcontrol import controller_reference as owner_reference
from minikube_py.controllers.statefulset_pods import REVISION_LABEL, STATEFUL_SET, pod_revision

Object = dict[str, Any]
_FNV_OFFSET, _FNV_PRIME = 0x811C9DC5, 0x01000193
_MAX_PREFIX = 223  # a revision name must stay a valid name with the hash appended


def _fnv32(data: bytes, state: int = _FNV_OFFSET) -> int:
    """32-bit FNV-1 (Go's ``fnv.New32``: multiply, then xor)."""
    for byte in data:
        state = ((state * _FNV_PRIME) & 0xFFFFFFFF) ^ byte
    return state


def revision_data(sts: Object) -> Object:
    """The template as the patch that restores it (upstream's getPatch)."""
    template = copy.deepcopy((sts.get("spec") or {}).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def revision_hash(data: Object, collision_count: int) -> str:
    raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return safe_encode(str(_fnv32(str(collision_count).encode(), _fnv32(raw))))


def revision_name(sts: Object, digest: str) -> str:
    return f"{str(sts['metadata']['name'])[:_MAX_PREFIX]}-{digest}"


def applied(sts: Object, revision: Object) -> Object:
    """The set with the revision's template (upstream's ApplyRevision)."""
    template = copy.deepcopy(((revision.get("data") or {}).get("spec") or {}).get("template"))
    template = {k: v for k, v in (template or {}).items() if k != "$patch"}
    return {**sts, "spec": {**(sts.get("spec") or {}), "template": template}}


def number(revision: Object) -> int:
    return int(revision.get("revision") or 0)


def _sort_key(revision: Object) -> tuple[int, str, str]:
    meta = revision.get("metadata") or {}
    return number(revision), str(meta.get("creationTimestamp") or ""), str(meta.get("name"))


class StatefulSetHistory:
    """Reads revisions from the ``revisions`` informer, writes them through ``client``."""

    def __init__(self, client: Client, revisions: Informer) -> None:
        self.client = client
        self.revisions = revisions

    def owned(self, sts: Object, selector: LabelSelector) -> list[Object]:
        """The set's revisions and the orphans its selector matches, oldest first."""
        uid = sts["metadata"].get("uid")
        found = []
        for revision in self.revisions.by_namespace(sts["metadata"]["namespace"]):
            if not selector.matches((revision.get("metadata") or {}).get("labels")):
                continue
            reference = controller_reference(revision)
            if reference is None or reference.get("uid") == uid:
                found.append(revision)
        return sorted(found, key=_sort_key)

    async def adopt(self, sts: Object, revision: Object) -> Object:
        meta = revision["metadata"]
        patch = {
            "metadata": {
                "ownerReferences": [owner_reference(sts, STATEFUL_SET)],
                "uid": meta.get("uid"),
            }
        }
        return await self.client.patch(
            CONTROLLER_REVISIONS, meta["namespace"], meta["name"], patch, patch_type="strategic"
        )

    async def revisions_for(
        self, sts: Object, revisions: list[Object]
    ) -> tuple[Object, Object, int]:
        """(current revision, update revision, collision count), as described above."""
        collisions = int((sts.get("status") or {}).get("collisionCount") or 0)
        data = revision_data(sts)
        following = number(revisions[-1]) + 1 if revisions else 1
        equal = [r for r in revisions if r.get("data") == data]
        if equal and equal[-1] is revisions[-1]:
            update = revisions[-1]
        elif equal:
            update = await self._renumber(equal[-1], following)
        else:
            update, collisions = await self._create(sts, data, following, collisions)
        wanted = (sts.get("status") or {}).get("currentRevision")
        current = next((r for r in revisions if r["metadata"]["name"] == wanted), update)
        return current, update, collisions

    async def _renumber(self, revision: Object, to: int) -> Object:
        meta = revision["metadata"]
        patch = {"revision": to}
        return await self.client.patch(CONTROLLER_REVISIONS, meta["namespace"], meta["name"], patch)

    async def _create(
        self, sts: Object, data: Object, revision: int, collisions: int
    ) -> tuple[Object, int]:
        namespace = sts["metadata"]["namespace"]
        labels = dict(
            ((sts["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}
        )
        labels[REVISION_LABEL] = revision_hash(data, collisions)  # the first hash, as upstream
        metadata: Object = {
            "namespace": namespace,
            "labels": labels,
            "ownerReferences": [owner_reference(sts, STATEFUL_SET)],
        }
        if annotations := sts["metadata"].get("annotations"):
            metadata["annotations"] = dict(annotations)
        body: Object = {
            "apiVersion": "apps/v1",
            "kind": "ControllerRevision",
            "metadata": metadata,
            "data": data,
            "revision": revision,
        }
        while True:
            metadata["name"] = revision_name(sts, revision_hash(data, collisions))
            try:
                made = await self.client.create(CONTROLLER_REVISIONS, namespace, body)
                return made, collisions
            except ApiError as error:
                if error.code != 409:
                    raise
            existing = await self.client.get(CONTROLLER_REVISIONS, namespace, metadata["name"])
            if existing.get("data") == data:
                return existing, collisions
            collisions += 1

    async def truncate(
        self,
        sts: Object,
        pods: Iterable[Object],
        revisions: list[Object],
        live: Iterable[Object | None],
    ) -> None:
        """Delete the oldest revisions past ``revisionHistoryLimit`` that nothing uses."""
        in_use = {pod_revision(pod) for pod in pods}
        in_use |= {r["metadata"]["name"] for r in live if r is not None}
        old = [r for r in revisions if r["metadata"]["name"] not in in_use]
        limit = (sts.get("spec") or {}).get("revisionHistoryLimit")
        limit = 10 if limit is None else int(limit)
        if limit < 0 or len(old) <= limit:
            return
        for revision in old[: len(old) - limit]:
            try:
                await self.client.delete(
                    CONTROLLER_REVISIONS,
                    revision["metadata"]["namespace"],
                    revision["metadata"]["name"],
                )
            except ApiError as error:
                if error.code != 404:
                    raise
