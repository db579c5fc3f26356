"""Which pods a controller owns: adopting orphans, releasing strays (upstream's ClaimPods).

A pod belongs to at most one *controller*: the ``ownerReference`` with ``controller: true``.
A ReplicaSet's pods are the pods of its namespace that its ``spec.selector`` matches — but
labels change, and controllers come and go, so on every sync the ReplicaSet reconciles the
two views (upstream's ``ControllerRefManager.ClaimPods``):

- a pod it controls whose labels still match stays its own;
- a pod it controls that no longer matches is *released*: a patch removes its reference, and
  the pod lives on as an orphan (this is how ``kubectl label pod web-1 app-`` takes a pod out
  of service for debugging while the ReplicaSet makes a replacement);
- an *orphan* (no controller) that matches and is not being deleted is *adopted*: a patch adds
  the reference — but only after a fresh read shows the owner itself is not being deleted, for
  adopting pods into a dying owner would have the garbage collector delete them;
- a pod controlled by anyone else is left alone, whatever its labels.

Both patches are strategic merge patches that name the pod's ``uid``: the uid cannot change,
so if the pod was deleted and re-made under the same name meanwhile, the patch is refused
instead of claiming (or releasing) the wrong pod.

A Deployment claims its ReplicaSets by the very same rules (upstream's ``ClaimReplicaSets``):
``claim_replica_sets``; both are ``claim_objects`` for a kind of dependent.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from minikube_py.api.selectors import LabelSelector
from minikube_py.api.stamps import parse_time
from minikube_py.client.protocol import GVR, PODS, REPLICASETS, ApiError, Client
from minikube_py.controllers.podcontrol import REPLICA_SET, ControllerKind, controller_reference
from minikube_py.logs import get_logger

Object = dict[str, Any]
_log = get_logger("claiming")


class ClaimError(Exception):
    """Some adoptions or releases failed (the sync should be retried); ``claimed`` holds the
    pods claimed all the same. Worded as upstream's aggregate of errors."""

    def __init__(self, errors: Sequence[Exception], claimed: list[Object]) -> None:
        texts = list(dict.fromkeys(str(error) for error in errors))
        super().__init__(texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]")
        self.errors = list(errors)
        self.claimed = claimed


def controller_of(obj: Object) -> Object | None:
    """The object's controlling ``ownerReference``, if any."""
    for reference in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if isinstance(reference, dict) and reference.get("controller") is True:
            return reference
    return None


def _go_time(value: Any) -> str:
    moment = parse_time(value)
    if moment is None:
        return str(value)
    return datetime.datetime.fromtimestamp(moment, datetime.UTC).strftime(
        "%Y-%m-%d %H:%M:%S +0000 UTC"
    )


async def claim_pods(
    client: Client,
    owner: Object,
    pods: Sequence[Object],
    *,
    controller_kind: ControllerKind = REPLICA_SET,
) -> list[Object]:
    """The pods ``owner`` controls after adopting and releasing as above (adopted pods as the
    patch returned them). Raises ``ClaimError`` if a patch failed, ``ValueError`` for a
    selector that does not parse."""
    return await claim_objects(
        client, owner, pods, controller_kind=controller_kind, dependent=ControllerKind(PODS, "Pod")
    )


async def claim_replica_sets(
    client: Client,
    owner: Object,
    replica_sets: Sequence[Object],
    *,
    controller_kind: ControllerKind,
) -> list[Object]:
    """The ReplicaSets a Deployment (``controller_kind``) controls, claimed as pods are."""
    return await claim_objects(
        client,
        owner,
        replica_sets,
        controller_kind=controller_kind,
        dependent=ControllerKind(REPLICASETS, "ReplicaSet"),
    )


async def claim_objects(
    client: Client,
    owner: Object,
    objects: Sequence[Object],
    *,
    controller_kind: ControllerKind,
    dependent: ControllerKind,
) -> list[Object]:
    """The ``objects`` (of kind ``dependent``) that ``owner`` controls after adopting and
    releasing as above."""
    meta = owner.get("metadata") or {}
    namespace, name, uid = meta.get("namespace") or "", meta.get("name") or "", meta.get("uid")
    selector = LabelSelector.from_object((owner.get("spec") or {}).get("selector"))
    owner_deleting = bool(meta.get("deletionTimestamp"))
    checked: list[Exception | None] = []  # the owner is re-read at most once per claim

    async def can_adopt() -> Exception | None:
        if not checked:
            checked.append(await _recheck(client, controller_kind, namespace, name, uid))
        return checked[0]

    claimed: list[Object] = []
    errors: list[Exception] = []
    for item in objects:
        item_meta = item.get("metadata") or {}
        matches = selector.matches(item_meta.get("labels"))
        reference = controller_of(item)
        try:
            if reference is not None:
                if reference.get("uid") != uid:
                    continue  # someone else's
                if matches:
                    claimed.append(item)
                elif not owner_deleting:
                    await _release(client, dependent.gvr, item, uid, owner)
                continue
            if owner_deleting or not matches or item_meta.get("deletionTimestamp"):
                continue
            if namespace and item_meta.get("namespace", namespace) != namespace:
                continue
            refused = await can_adopt()
            if refused is not None:
                where = f"{item_meta.get('namespace')}/{item_meta.get('name')}"
                raise RuntimeError(
                    f"can't adopt {dependent.kind} {where} ({item_meta.get('uid')}): {refused}"
                )
            adopted = await _adopt(client, dependent.gvr, item, owner, controller_kind)
            if adopted is not None:
                claimed.append(adopted)
        except Exception as error:
            errors.append(error)
    if errors:
        raise ClaimError(errors, claimed)
    return claimed


async def _recheck(
    client: Client, kind: ControllerKind, namespace: str, name: str, uid: Any
) -> Exception | None:
    """Upstream's RecheckDeletionTimestamp: a fresh read of the owner, not the cached copy."""
    try:
        fresh = await client.get(kind.gvr, namespace or None, name)
        fresh_uid = (fresh.get("metadata") or {}).get("uid")
        if fresh_uid != uid:
            raise RuntimeError(
                f"original {kind.kind} {namespace}/{name} is gone: got uid {fresh_uid}, "
                f"wanted {uid}"
            )
    except Exception as error:
        return RuntimeError(f"can't recheck DeletionTimestamp: {error}")
    deleted = (fresh.get("metadata") or {}).get("deletionTimestamp")
    if deleted:
        return RuntimeError(f"{namespace}/{name} has just been deleted at {_go_time(deleted)}")
    return None


async def _adopt(
    client: Client, gvr: GVR, pod: Object, owner: Object, kind: ControllerKind
) -> Object | None:
    meta = pod.get("metadata") or {}
    patch = {
        "metadata": {
            "ownerReferences": [controller_reference(owner, kind)],
            "uid": meta.get("uid"),
        }
    }
    try:
        adopted = await client.patch(
            gvr, meta.get("namespace"), meta.get("name", ""), patch, patch_type="strategic"
        )
    except ApiError as error:
        if error.code == 404:
            return None  # gone meanwhile: nothing to adopt
        raise
    _log.info(f"adopted {gvr.resource[:-1]}", key=_key(owner), dependent=_key(pod))
    return adopted


async def _release(client: Client, gvr: GVR, pod: Object, owner_uid: Any, owner: Object) -> None:
    meta = pod.get("metadata") or {}
    patch = {
        "metadata": {
            "uid": meta.get("uid"),
            "ownerReferences": [{"$patch": "delete", "uid": owner_uid}],
        }
    }
    try:
        await client.patch(
            gvr, meta.get("namespace"), meta.get("name", ""), patch, patch_type="strategic"
        )
    except ApiError as error:
        # 404: the pod is gone; 422: it has no such reference or is another pod by now.
        if error.code in (404, 422):
            return
        raise
    _log.info(f"released {gvr.resource[:-1]}", key=_key(owner), dependent=_key(pod))


def _key(obj: Object) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"
