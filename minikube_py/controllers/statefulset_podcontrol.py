"""Creating, fixing and deleting a StatefulSet's pods and claims, with upstream's Events.

Upstream's ``StatefulPodControl``. A pod's claims are made *before* the pod (a pod naming a
missing claim could not start), each only if the claim cache lacks it — an existing claim is
reused, which is how a recreated ``web-0`` gets ``www-web-0`` back. The claim is created with
the owner references its retention policy wants (``statefulset_claims.py``); for a pod that
already exists, the references are brought in line by an update when the policy or the
ordinal range changed.

Every write is an Event on the set, worded as upstream: ``SuccessfulCreate`` "create Pod web-0
in StatefulSet web successful", ``FailedCreate`` "create Pod web-0 in StatefulSet web failed
error: …", ``SuccessfulCreate`` "create Claim www-web-0 Pod web-0 in StatefulSet web success",
and likewise ``…Update`` and ``…Delete``. A pod create refused as already existing is no news
(the cache was behind); the sync is retried.
"""

from __future__ import annotations

import copy
from typing import Any

from minikube_py.client.events import EventRecorder
from minikube_py.client.informer import Informer
from minikube_py.client.protocol import PERSISTENT_VOLUME_CLAIMS, PODS, ApiError, Client
from minikube_py.controllers.controller import NotYet
from minikube_py.controllers.podcontrol import namespace_terminating
from minikube_py.controllers.statefulset_claims import (
    POD,
    claim_owner_up_to_date,
    has_stale_owner_ref,
    wanted_owner_refs,
)
from minikube_py.controllers.statefulset_pods import (
    claim_name,
    claims_for,
    identity_matches,
    ordinal,
    storage_matches,
    update_identity,
    update_storage,
)
from minikube_py.logs import get_logger

Object = dict[str, Any]
MAX_UPDATE_RETRIES = 10
_log = get_logger("controllers.statefulset")


def _name(obj: Object) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def _namespace(obj: Object) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "")


class StatefulPodControl:
    """Writes a set's pods and claims through ``client``; reads claims from ``claims``."""

    def __init__(self, client: Client, recorder: EventRecorder, claims: Informer) -> None:
        self.client = client
        self.recorder = recorder
        self.claims = claims

    def _claim(self, namespace: str, name: str) -> Object | None:
        return self.claims.get(f"{namespace}/{name}")

    # -- pods -------------------------------------------------------------------------------

    async def create_pod(self, sts: Object, pod: Object) -> None:
        """The pod's claims, then the pod; raises what failed (after an Event)."""
        try:
            await self.create_claims(sts, pod)
        except Exception as error:
            await self._pod_event("create", sts, pod, error)
            raise
        try:
            made = await self.client.create(PODS, _namespace(sts), copy.deepcopy(pod))
        except ApiError as error:
            if error.code != 409:  # already there: the cache was behind, no news
                await self._pod_event("create", sts, pod, error)
            raise
        try:  # claims that existed before (a recreated pod's) may want other owners now
            await self.update_claims_for_policy(sts, made)
        except Exception as error:
            await self._pod_event("update", sts, pod, error)
            raise
        await self._pod_event("create", sts, pod, None)

    async def update_pod(self, sts: Object, pod: Object) -> None:
        """Restore the pod's identity and storage and its claims' owners, updating the pod
        (retried on conflicts) when any of them was off; the Event only when it tried."""
        current, attempted = copy.deepcopy(pod), False
        error: Exception | None = None
        for _ in range(MAX_UPDATE_RETRIES):
            consistent = True
            if not identity_matches(sts, current):
                update_identity(sts, current)
                consistent = False
            try:
                if not storage_matches(sts, current):
                    update_storage(sts, current)
                    consistent = False
                    await self.create_claims(sts, current)
                if not await self.claims_match_policy(sts, current):
                    await self.update_claims_for_policy(sts, current)
                    consistent = False
            except Exception as failure:
                await self._pod_event("update", sts, current, failure)
                raise
            if consistent:
                return
            attempted = True
            try:
                await self.client.update(PODS, _namespace(sts), current)
                error = None
                break
            except ApiError as failure:
                error = failure
                if failure.code != 409:
                    break
            current = await self.client.get(PODS, _namespace(sts), _name(pod))
        if attempted:
            await self._pod_event("update", sts, current, error)
        if error is not None:
            raise error

    async def delete_pod(self, sts: Object, pod: Object) -> None:
        try:
            await self.client.delete(PODS, _namespace(sts), _name(pod))
        except ApiError as error:
            await self._pod_event("delete", sts, pod, error)
            raise
        await self._pod_event("delete", sts, pod, None)

    # -- claims -----------------------------------------------------------------------------

    async def create_claims(self, sts: Object, pod: Object) -> None:
        """Create the pod's missing claims; raise if one failed, ``NotYet`` if the only
        trouble is a claim still being deleted (the pod waits for it to go)."""
        errors: list[str] = []
        failed = False  # a create failed (not only a claim still being deleted)
        for _, claim in claims_for(sts, ordinal(pod)):
            name, namespace = claim["metadata"]["name"], claim["metadata"]["namespace"]
            existing = self._claim(namespace, name)
            if existing is not None:
                if (existing.get("metadata") or {}).get("deletionTimestamp"):
                    errors.append(f"pvc {name} is being deleted")
                continue
            refs = wanted_owner_refs(claim, sts, pod)
            if refs:
                claim["metadata"]["ownerReferences"] = refs
            try:
                await self.client.create(PERSISTENT_VOLUME_CLAIMS, namespace, claim)
            except ApiError as error:
                if namespace_terminating(error):
                    raise  # kept whole: the controller recognises and drops it
                errors.append(f"failed to create PVC {name}: {error}")
                failed = True
                if error.code != 409:
                    await self._claim_event(sts, pod, name, error)
                continue
            await self._claim_event(sts, pod, name, None)
        if errors:
            message = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
            raise RuntimeError(message) if failed else NotYet(message)

    async def claims_match_policy(self, sts: Object, pod: Object) -> bool:
        """Whether every existing claim of the pod has the owners its policy wants."""
        for template in (sts.get("spec") or {}).get("volumeClaimTemplates") or []:
            claim = self._claim(_namespace(sts), claim_name(sts, template, ordinal(pod)))
            if claim is not None and not claim_owner_up_to_date(claim, sts, pod):
                return False
        return True

    async def update_claims_for_policy(self, sts: Object, pod: Object) -> None:
        """Rewrite the owner references of the pod's claims that the policy disagrees with."""
        errors: list[str] = []
        for template in (sts.get("spec") or {}).get("volumeClaimTemplates") or []:
            name = claim_name(sts, template, ordinal(pod))
            claim = self._claim(_namespace(sts), name)
            if claim is None or claim_owner_up_to_date(claim, sts, pod):
                continue
            updated = copy.deepcopy(claim)
            updated["metadata"]["ownerReferences"] = wanted_owner_refs(claim, sts, pod)
            try:
                await self.client.update(PERSISTENT_VOLUME_CLAIMS, _namespace(sts), updated)
            except ApiError as error:
                errors.append(f"could not update claim {name} for delete policy ownerRefs: {error}")
        if errors:
            message = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
            if all(error.endswith(" is being deleted") for error in errors):
                raise NotYet(message)
            raise RuntimeError(message)

    def claim_is_stale(self, sts: Object, pod: Object) -> bool:
        """A claim still owned by an earlier pod of this name (the garbage collector will
        delete it): the pod must wait, or it would mount a claim about to vanish."""
        for _, claim in claims_for(sts, ordinal(pod)):
            existing = self._claim(_namespace(sts), claim["metadata"]["name"])
            if existing is not None and has_stale_owner_ref(existing, pod, POD):
                return True
        return False

    # -- events -----------------------------------------------------------------------------

    async def _pod_event(
        self, verb: str, sts: Object, pod: Object, error: Exception | None
    ) -> None:
        subject = {**sts, "apiVersion": "apps/v1", "kind": "StatefulSet"}
        if error is None:
            _log.info(f"{verb} pod", key=f"{_namespace(sts)}/{_name(sts)}", pod=_name(pod))
            message = f"{verb} Pod {_name(pod)} in StatefulSet {_name(sts)} successful"
            await self.recorder.record(subject, reason=f"Successful{verb.title()}", message=message)
            return
        message = f"{verb} Pod {_name(pod)} in StatefulSet {_name(sts)} failed error: {error}"
        await self.recorder.record(
            subject, reason=f"Failed{verb.title()}", message=message, warning=True
        )

    async def _claim_event(
        self, sts: Object, pod: Object, claim: str, error: Exception | None
    ) -> None:
        subject = {**sts, "apiVersion": "apps/v1", "kind": "StatefulSet"}
        if error is None:
            message = f"create Claim {claim} Pod {_name(pod)} in StatefulSet {_name(sts)} success"
            await self.recorder.record(subject, reason="SuccessfulCreate", message=message)
            return
        message = (
            f"create Claim {claim} for Pod {_name(pod)} in StatefulSet {_name(sts)} "
            f"failed error: {error}"
        )
        await self.recorder.record(subject, reason="FailedCreate", message=message, warning=True)
