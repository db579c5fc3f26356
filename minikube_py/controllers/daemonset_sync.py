"""Making and deleting a DaemonSet's pods: one per node, pinned to it, in slow-start batches.

Each pod is made from the DaemonSet's template as upstream's ``CreatePodTemplate`` makes it:
the daemon tolerations added (``daemonset_nodes.daemon_tolerations``), the template's
``controller-revision-hash`` as a label (and ``pod-template-generation`` where the deprecated
generation annotation is set), and a required node affinity on ``metadata.name`` naming its
node. Creations go in batches of 1, 2, 4 … nodes and stop after a batch with a failure, as
for ReplicaSets; every creation and deletion is *expected* before it is sent, because the pod
informer may report it before the call returns.

A failed daemon pod is deleted and made again, but not in a hot loop: ``FailedPodBackoff``
remembers per DaemonSet and node when it last did so, and waits 1 s, then 2 s, 4 s … up to
15 minutes (upstream's ``failedPodsBackoff``); a quiet half hour resets it.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from minikube_py.client.informer import object_key
from minikube_py.client.protocol import DAEMONSETS
from minikube_py.controllers.daemonset_history import HASH_LABEL
from minikube_py.controllers.daemonset_nodes import daemon_tolerations, pin_to_node
from minikube_py.controllers.expectations import Expectations
from minikube_py.controllers.podcontrol import ControllerKind, PodControl

Object = dict[str, Any]
DAEMON_SET = ControllerKind(DAEMONSETS, "DaemonSet")
BURST_REPLICAS = 250  # upstream's BurstReplicas for DaemonSets
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 15 * 60.0
TEMPLATE_GENERATION_LABEL = "pod-template-generation"
TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"


class FailedPodBackoff:
    """Per (DaemonSet, node): how long to wait before replacing another failed pod."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, float]] = {}  # key → (back-off, when set)

    def wait(self, ds: Object, node: str, now: float) -> float | None:
        """Seconds still to wait, or None: go ahead (and the next wait doubles)."""
        key = f"{ds['metadata'].get('uid')}/{node}"
        entry = self._entries.get(key)
        if entry is not None and now - entry[1] < entry[0]:
            return entry[0] - (now - entry[1])
        if entry is None or now - entry[1] > 2 * BACKOFF_MAX:
            self._entries[key] = (BACKOFF_FIRST, now)
        else:
            self._entries[key] = (min(2 * entry[0], BACKOFF_MAX), now)
        return None


def pod_template(ds: Object, hash_: str) -> Object:
    """The template pods of ``ds`` are made from, before pinning to a node."""
    template = copy.deepcopy((ds.get("spec") or {}).get("template") or {})
    spec = template.setdefault("spec", {})
    spec["tolerations"] = daemon_tolerations(spec)
    labels = template.setdefault("metadata", {}).setdefault("labels", {})
    generation = (ds["metadata"].get("annotations") or {}).get(TEMPLATE_GENERATION_ANNOTATION)
    if generation:
        labels[TEMPLATE_GENERATION_LABEL] = str(generation)
    if hash_:
        labels[HASH_LABEL] = hash_
    return template


def for_node(template: Object, node: str) -> Object:
    spec = dict(template.get("spec") or {})
    spec["affinity"] = pin_to_node(spec.get("affinity"), node)
    return {**template, "spec": spec}


async def sync_nodes(
    pod_control: PodControl,
    expectations: Expectations,
    key: str,
    ds: Object,
    doomed: list[Object],
    needing: list[str],
    hash_: str,
) -> None:
    """Create a pod on each node of ``needing`` and delete ``doomed`` (at most a burst of
    each); raise the first failure after trying the rest."""
    needing, doomed = needing[:BURST_REPLICAS], doomed[:BURST_REPLICAS]
    if not needing and not doomed:
        return
    expectations.expect_deletions_of(key, [object_key(p) for p in doomed])
    expectations.raise_expectations(key, add=len(needing))
    template = pod_template(ds, hash_)
    namespace = ds["metadata"]["namespace"]
    errors: list[Exception] = []
    batch, start = 1, 0
    while start < len(needing):
        chunk = needing[start : start + batch]
        outcomes = await asyncio.gather(
            *(
                pod_control.create_pods(
                    namespace, for_node(template, node), ds, 1, controller_kind=DAEMON_SET
                )
                for node in chunk
            )
        )
        failed = [o.error for o in outcomes if o.error is not None]
        start += len(chunk)
        if failed:
            errors.extend(failed)
            # neither the failed ones nor the ones never sent will be observed
            expectations.lower_expectations(key, add=len(failed) + len(needing) - start)
            break
        batch *= 2
    if doomed:
        outcome = await pod_control.delete_pods(doomed, ds, controller_kind=DAEMON_SET)
        for pod in outcome.missed:
            expectations.deletion_observed(key, object_key(pod))
        if outcome.error is not None:
            errors.append(outcome.error)
    if errors:
        raise errors[0]
