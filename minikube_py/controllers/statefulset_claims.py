"""Who owns a StatefulSet pod's claims: ``persistentVolumeClaimRetentionPolicy``.

A StatefulSet's PersistentVolumeClaims outlive its pods: that is the point of them. What
happens to them when the set is deleted (``whenDeleted``) or scaled down past their ordinal
(``whenScaled``) is the retention policy, ``Retain`` or ``Delete`` each (``Retain`` both by
default; StatefulSetAutoDeletePVC, GA in 1.32). The controller does no deleting itself: it sets
``ownerReferences`` on the claim and lets the garbage collector act when the owner goes
(upstream's ``isClaimOwnerUpToDate`` / ``updateClaimOwnerRefForSetAndPod``):

===============  ===============  ===========================================================
whenScaled       whenDeleted      the claim's owners
===============  ===============  ===========================================================
Retain           Retain           neither the set nor the pod
Retain           Delete           the set
Delete           Retain           the pod, once its ordinal is out of range (scaled down)
Delete           Delete           the set while in range; the pod once scaled down
===============  ===============  ===========================================================

The references are controller references. A reference that names the set or pod but carries
another uid is *stale* (an earlier object of that name): such a claim is left alone, as is one
some other controller controls; the garbage collector sorts those out.
"""

from __future__ import annotations

from typing import Any

from minikube_py.client.protocol import PODS
from minikube_py.controllers.podcontrol import ControllerKind, controller_reference
from minikube_py.controllers.statefulset_pods import STATEFUL_SET, in_ordinal_range
from minikube_py.logs import get_logger

Object = dict[str, Any]
POD = ControllerKind(PODS, "Pod")
RETAIN, DELETE = "Retain", "Delete"
_log = get_logger("controllers.statefulset")


def retention_policy(sts: Object) -> tuple[str, str]:
    """(whenScaled, whenDeleted); Retain for anything unset."""
    policy = (sts.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
    return str(policy.get("whenScaled") or RETAIN), str(policy.get("whenDeleted") or RETAIN)


def _refs(claim: Object) -> list[Object]:
    return list((claim.get("metadata") or {}).get("ownerReferences") or [])


def _uid(obj: Object) -> str:
    return str((obj.get("metadata") or {}).get("uid") or "")


def matches_ref(ref: Object, obj: Object, kind: ControllerKind) -> bool:
    """The reference names ``obj`` by kind and name (whatever its uid)."""
    return (
        ref.get("apiVersion") == kind.api_version
        and ref.get("kind") == kind.kind
        and ref.get("name") == (obj.get("metadata") or {}).get("name")
    )


def has_owner_ref(claim: Object, owner: Object) -> bool:
    uid = _uid(owner)
    return any(ref.get("uid") == uid for ref in _refs(claim))


def has_stale_owner_ref(claim: Object, obj: Object, kind: ControllerKind) -> bool:
    for ref in _refs(claim):
        if matches_ref(ref, obj, kind):
            return ref.get("uid") != _uid(obj)
    return False


def has_unexpected_controller(claim: Object, sts: Object, pod: Object) -> bool:
    """Under a Delete policy: controlled by something not the set or pod (or a stale one)."""
    if retention_policy(sts) == (RETAIN, RETAIN):
        return False  # another controller managing retained claims is no problem
    for ref in _refs(claim):
        if matches_ref(ref, sts, STATEFUL_SET):
            if ref.get("uid") != _uid(sts):
                return True
            continue
        if matches_ref(ref, pod, POD):
            if ref.get("uid") != _uid(pod):
                return True
            continue
        if ref.get("controller"):
            return True
    return False


def _has_non_controller_owner(claim: Object, sts: Object, pod: Object) -> bool:
    uids = {_uid(sts), _uid(pod)}
    return any(ref.get("uid") in uids and not ref.get("controller") for ref in _refs(claim))


def claim_owner_up_to_date(claim: Object, sts: Object, pod: Object) -> bool:
    """Whether the claim's references already say what the policy says (the table above)."""
    if has_stale_owner_ref(claim, sts, STATEFUL_SET) or has_stale_owner_ref(claim, pod, POD):
        return True  # managed by an earlier set or pod of that name: not ours to touch
    if has_unexpected_controller(claim, sts, pod):
        return not (has_owner_ref(claim, sts) or has_owner_ref(claim, pod))
    if _has_non_controller_owner(claim, sts, pod):
        return False
    want_set, want_pod = _wanted(sts, pod)
    return has_owner_ref(claim, sts) == want_set and has_owner_ref(claim, pod) == want_pod


def _wanted(sts: Object, pod: Object) -> tuple[bool, bool]:
    """(a reference to the set, a reference to the pod) as the policy wants them."""
    when_scaled, when_deleted = retention_policy(sts)
    if when_scaled not in (RETAIN, DELETE) or when_deleted not in (RETAIN, DELETE):
        _log.error("Unknown policy, treating as Retain", policy=[when_scaled, when_deleted])
        return False, False
    scaled_down = not in_ordinal_range(pod, sts)
    if when_scaled == RETAIN:
        return when_deleted == DELETE, False
    if when_deleted == RETAIN:
        return False, scaled_down
    return not scaled_down, scaled_down


def wanted_owner_refs(claim: Object, sts: Object, pod: Object) -> list[Object]:
    """The claim's ``ownerReferences`` after scrubbing the set's and pod's and adding back
    those the policy wants (none if another controller has it)."""
    unexpected = has_unexpected_controller(claim, sts, pod)
    refs = [
        ref
        for ref in _refs(claim)
        if not (matches_ref(ref, sts, STATEFUL_SET) or matches_ref(ref, pod, POD))
    ]
    if unexpected:
        return refs
    want_set, want_pod = _wanted(sts, pod)
    if want_set:
        refs.append(controller_reference(sts, STATEFUL_SET))
    if want_pod:
        refs.append(controller_reference(pod, POD))
    return refs
