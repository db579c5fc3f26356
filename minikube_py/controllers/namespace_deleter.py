"""Emptying a namespace: delete everything in it, and say in its conditions what is left.

A namespace being deleted is emptied by the namespace controller (``namespace.py``), one pass
per sync, as upstream's ``NamespacedResourcesDeleter``:

1. **Discover** every namespaced resource the server serves that can be deleted and listed —
   built-in kinds and custom resources alike (``Client.server_preferred_resources``).
2. **Delete** each object of each resource in the namespace (background propagation: the
   garbage collector takes care of what they own elsewhere), then **list again**.
3. **Count** what remains: a resource with objects left is content remaining; the finalizers
   on those objects are the finalizers remaining. An object left without finalizers should
   have gone: that is an error, retried with back-off. Pods that are still running get the
   time their grace period allows (``estimate``).
4. **Conditions** on the namespace: ``NamespaceDeletionDiscoveryFailure``,
   ``NamespaceDeletionGroupVersionParsingFailure``, ``NamespaceDeletionContentFailure``,
   ``NamespaceContentRemaining`` and ``NamespaceFinalizersRemaining``, each ``True`` with what
   is wrong or ``False`` with upstream's "all is well" reason and message.

The pass answers how many seconds to wait before the next one (0: the namespace is empty).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import attrs

from minikube_py.api.stamps import parse_time
from minikube_py.client.protocol import GVR, PODS, ApiError, Client, Object
from minikube_py.clock import Clock

# upstream's finalizerEstimateSeconds: how long finalizers are given before the next look
FINALIZER_ESTIMATE_SECONDS = 15
# Pods go away when their kubelet has stopped them: no point in asking before then.
_PODS = (PODS.group, PODS.resource)

# (type, reason and message when all is well), in upstream's order
CONDITIONS: tuple[tuple[str, str, str], ...] = (
    (
        "NamespaceDeletionDiscoveryFailure",
        "ResourcesDiscovered",
        "All resources successfully discovered",
    ),
    (
        "NamespaceDeletionGroupVersionParsingFailure",
        "ParsedGroupVersions",
        "All legacy kube types successfully parsed",
    ),
    (
        "NamespaceDeletionContentFailure",
        "ContentDeleted",
        "All content successfully deleted, may be waiting on finalization",
    ),
    ("NamespaceContentRemaining", "ContentRemoved", "All content successfully removed"),
    (
        "NamespaceFinalizersRemaining",
        "ContentHasNoFinalizers",
        "All content-preserving finalizers finished",
    ),
)


@attrs.define
class Pass:
    """What one pass over a namespace found."""

    estimate: int = 0  # seconds until what remains should be gone
    remaining: dict[GVR, int] = attrs.field(factory=dict)
    finalizers: Counter[str] = attrs.field(factory=Counter)
    discovery_error: str | None = None
    errors: list[str] = attrs.field(factory=list)

    def problems(self) -> dict[str, tuple[str, str]]:
        """The conditions that are ``True``: type -> (reason, message), as upstream words them."""
        found: dict[str, tuple[str, str]] = {}
        if self.discovery_error is not None:
            found["NamespaceDeletionDiscoveryFailure"] = ("DiscoveryFailed", self.discovery_error)
        if self.errors:
            found["NamespaceDeletionContentFailure"] = (
                "ContentDeletionFailed",
                f"Failed to delete all resource types, {len(self.errors)} remaining: "
                + ", ".join(sorted(self.errors)),
            )
        if self.remaining:
            counts = sorted(
                f"{gvr.resource}.{gvr.group} has {count} resource instances"
                for gvr, count in self.remaining.items()
            )
            found["NamespaceContentRemaining"] = (
                "SomeResourcesRemain",
                "Some resources are remaining: " + ", ".join(counts),
            )
        if self.finalizers:
            counts = sorted(
                f"{name} in {n} resource instances" for name, n in self.finalizers.items()
            )
            found["NamespaceFinalizersRemaining"] = (
                "SomeFinalizersRemain",
                "Some content in the namespace has finalizers remaining: " + ", ".join(counts),
            )
        return found


def deletable_namespaced(resources: list[Object]) -> list[GVR]:
    """The namespaced resources of discovery's lists that can be listed and deleted."""
    found: list[GVR] = []
    for listed in resources:
        group, _, version = str(listed.get("groupVersion") or "").rpartition("/")
        for entry in listed.get("resources") or []:
            name = str(entry.get("name") or "")
            verbs = set(entry.get("verbs") or [])
            if "/" in name or not entry.get("namespaced") or not {"list", "delete"} <= verbs:
                continue
            found.append(GVR(group, version, name))
    return found


async def delete_content(client: Client, namespace: Object, clock: Clock) -> Pass:
    """One pass: delete everything in ``namespace`` and count what is still there."""
    name = namespace["metadata"]["name"]
    found = Pass()
    try:
        resources = await client.server_preferred_resources()
    except ApiError as error:  # nothing to go on: the next pass tries again
        found.discovery_error = error.message
        found.errors.append(error.message)
        return found
    for gvr in deletable_namespaced(resources):
        try:
            await _delete_resource(client, gvr, name, found, clock, namespace)
        except ApiError as error:
            if error.code in (404, 405):  # not served after all: as upstream, nothing to do
                continue
            found.errors.append(error.message)
    return found


async def _delete_resource(
    client: Client, gvr: GVR, name: str, found: Pass, clock: Clock, namespace: Object
) -> None:
    items = (await client.list(gvr, name)).get("items") or []
    for item in items:
        if item["metadata"].get("deletionTimestamp"):
            continue  # already going; its finalizers or its kubelet decide when
        try:
            await client.delete(
                gvr, name, item["metadata"]["name"], propagation_policy="Background"
            )
        except ApiError as error:
            if error.code != 404:
                raise
    left = (await client.list(gvr, name)).get("items") or []
    if not left:
        return
    found.remaining[gvr] = len(left)
    finalizers: Counter[str] = Counter(
        finalizer for item in left for finalizer in item["metadata"].get("finalizers") or []
    )
    found.finalizers.update(finalizers)
    estimate = _grace_left(left, namespace, clock) if (gvr.group, gvr.resource) == _PODS else 0
    if estimate:
        found.estimate = max(found.estimate, estimate)
    elif finalizers:
        found.estimate = max(found.estimate, FINALIZER_ESTIMATE_SECONDS)
    else:
        found.errors.append(f"unexpected items still remain in namespace: {name} for gvr: {gvr}")


def _grace_left(pods: list[Object], namespace: Object, clock: Clock) -> int:
    """Upstream's estimate for pods: the longest grace period of those not finished, unless
    that much time has passed since the namespace was deleted."""
    estimate = 0
    for pod in pods:
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
        estimate = max(estimate, int(grace if grace is not None else 30))
    deleted_at = parse_time(namespace["metadata"].get("deletionTimestamp"))
    if deleted_at is not None and clock.now() - deleted_at >= estimate:
        return 0
    return estimate


def conditions_after(status: dict[str, Any], found: Pass, now: str) -> list[Object] | None:
    """The namespace's conditions after ``found``, or ``None`` if they did not change. A
    condition's transition time moves only when its status flips, as upstream."""
    problems = found.problems()
    conditions = [dict(c) for c in status.get("conditions") or []]
    changed = False
    for kind, ok_reason, ok_message in CONDITIONS:
        state, (reason, message) = (
            ("True", problems[kind]) if kind in problems else ("False", (ok_reason, ok_message))
        )
        wanted = {"type": kind, "status": state, "reason": reason, "message": message}
        old = next((c for c in conditions if c.get("type") == kind), None)
        if old is None:
            conditions.append({**wanted, "lastTransitionTime": now})
            changed = True
        elif any(old.get(field) != wanted[field] for field in ("status", "reason", "message")):
            if old.get("status") != state:
                old["lastTransitionTime"] = now
            old.update(wanted)
            changed = True
    return conditions if changed else None
