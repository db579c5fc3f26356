"""``kubectl describe deployment`` and ``replicaset``: the rollout, its template and its sets.

A Deployment's description says how many replicas are wanted, updated, present and available,
how it rolls out (``RollingUpdate`` with its max unavailable / max surge), its pod template,
its conditions, and which ReplicaSets it owns: the *new* one — whose pod template equals the
Deployment's, ignoring the ``pod-template-hash`` label — and the *old* ones, oldest first,
each with ``(created/desired replicas created)``. A ReplicaSet's description counts its pods by
phase instead.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from minikube_py.api.printers import (
    dig,
    format_labels,
    format_selector,
    items,
    mapping,
    parse_time,
    selector_string,
    text,
)
from minikube_py.client.discovery import Resource
from minikube_py.client.protocol import PODS, REPLICASETS, Object
from minikube_py.kubectl.describe_pods import pod_template
from minikube_py.kubectl.describe_writer import (
    DescribeWriter,
    controlled_by,
    fetch_events,
    go_time,
    labels_multiline,
    new_description,
)
from minikube_py.kubectl.session import Session

HASH_LABEL = "pod-template-hash"


async def describe_deployment(
    session: Session, resource: Resource, deployment: Object, show_events: bool = True
) -> str:
    events = await fetch_events(session, deployment, "Deployment", wanted=show_events)
    new, old = await _replica_sets(session, deployment)
    meta, spec, status = (mapping(deployment, part) for part in ("metadata", "spec", "status"))
    w = new_description(meta, ("CreationTimestamp", go_time(meta.get("creationTimestamp"))))
    w.write(0, f"Selector:\t{selector_string(spec.get('selector'))}\n")
    counts = [dig(spec, "replicas", default=0)] + [
        dig(status, field, default=0)
        for field in ("updatedReplicas", "replicas", "availableReplicas", "unavailableReplicas")
    ]
    w.write(
        0,
        "Replicas:\t{} desired | {} updated | {} total | {} available | {} unavailable\n".format(
            *counts
        ),
    )
    w.write(0, f"StrategyType:\t{text(spec, 'strategy', 'type')}\n")
    w.write(0, f"MinReadySeconds:\t{dig(spec, 'minReadySeconds', default=0)}\n")
    rolling = dig(spec, "strategy", "rollingUpdate")
    if isinstance(rolling, dict):
        unavailable, surge = text(rolling, "maxUnavailable"), text(rolling, "maxSurge")
        w.write(0, f"RollingUpdateStrategy:\t{unavailable} max unavailable, {surge} max surge\n")
    pod_template(w, spec.get("template"))
    _conditions(w, status)
    if new or old:
        w.write(0, f"OldReplicaSets:\t{_sets(old)}\n")
        w.write(0, f"NewReplicaSet:\t{_sets([new] if new else [])}\n")
    return w.render(events)


async def describe_replica_set(
    session: Session, resource: Resource, replica_set: Object, show_events: bool = True
) -> str:
    meta, spec, status = (mapping(replica_set, part) for part in ("metadata", "spec", "status"))
    pods_status = await _pods_status(session, replica_set)
    events = await fetch_events(session, replica_set, "ReplicaSet", wanted=show_events)
    w = new_description(meta, ("Selector", format_selector(spec.get("selector"))))
    controlled_by(w, replica_set)
    current, desired = dig(status, "replicas", default=0), dig(spec, "replicas", default=0)
    w.write(0, f"Replicas:\t{current} current / {desired} desired\n")
    w.write(0, f"Pods Status:\t{pods_status}\n")
    pod_template(w, spec.get("template"))
    _conditions(w, status)
    return w.render(events)


def _conditions(w: DescribeWriter, status: dict[str, Any]) -> None:
    if items(status, "conditions"):
        w.write(0, "Conditions:\n  Type\tStatus\tReason\n")
        w.write(1, "----\t------\t------\n")
        for condition in items(status, "conditions"):
            w.write(
                1,
                f"{text(condition, 'type')} \t{text(condition, 'status')}"
                f"\t{text(condition, 'reason')}\n",
            )


def _sets(replica_sets: list[Object]) -> str:
    shown = [
        f"{text(rs, 'metadata', 'name')} ({dig(rs, 'status', 'replicas', default=0)}/"
        f"{dig(rs, 'spec', 'replicas', default=0)} replicas created)"
        for rs in replica_sets
    ]
    return ", ".join(shown) or "<none>"


async def _owned(session: Session, path: str, spec: dict[str, Any], uid: str) -> list[Object]:
    """The objects at ``path`` matching the spec's selector whose controller is ``uid``."""
    selected = await session.list_all(
        path, {"labelSelector": selector_string(spec.get("selector"))}
    )
    return [
        obj
        for obj in selected
        if any(
            ref.get("controller") is True and ref.get("uid") == uid
            for ref in dig(obj, "metadata", "ownerReferences", default=[])
        )
    ]


async def _replica_sets(session: Session, deployment: Object) -> tuple[Object | None, list[Object]]:
    """The new ReplicaSet (template equal but for the hash label) and all the old ones."""
    meta, spec = mapping(deployment, "metadata"), mapping(deployment, "spec")
    path = REPLICASETS.path(text(meta, "namespace"))
    owned = await _owned(session, path, spec, text(meta, "uid"))
    oldest = datetime.min.replace(tzinfo=None)

    def created(rs: Object) -> tuple[datetime, str]:
        when = parse_time(dig(rs, "metadata", "creationTimestamp"))
        return (when.replace(tzinfo=None) if when else oldest, text(rs, "metadata", "name"))

    owned.sort(key=created)
    wanted = _without_hash(spec.get("template"))
    new = next((rs for rs in owned if _without_hash(dig(rs, "spec", "template")) == wanted), None)
    return new, [rs for rs in owned if rs is not new]


def _without_hash(template: Any) -> Any:
    if not isinstance(template, dict):
        return template
    copied = copy.deepcopy(template)
    labels = dig(copied, "metadata", "labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return copied


async def _pods_status(session: Session, obj: Object) -> str:
    """``N Running / N Waiting / N Succeeded / N Failed`` of the pods ``obj`` controls."""
    meta, spec = mapping(obj, "metadata"), mapping(obj, "spec")
    pods = await _owned(session, PODS.path(text(meta, "namespace")), spec, text(meta, "uid"))
    phases = [text(pod, "status", "phase") for pod in pods]
    counts = (phases.count(phase) for phase in ("Running", "Pending", "Succeeded", "Failed"))
    return "{} Running / {} Waiting / {} Succeeded / {} Failed".format(*counts)


async def describe_stateful_set(
    session: Session, resource: Resource, stateful_set: Object, show_events: bool = True
) -> str:
    meta, spec = mapping(stateful_set, "metadata"), mapping(stateful_set, "spec")
    pods_status = await _pods_status(session, stateful_set)
    events = await fetch_events(session, stateful_set, "StatefulSet", wanted=show_events)
    w = new_description(
        meta,
        ("CreationTimestamp", go_time(meta.get("creationTimestamp"))),
        ("Selector", selector_string(spec.get("selector"))),
    )
    total = dig(stateful_set, "status", "replicas", default=0)
    w.write(0, f"Replicas:\t{dig(spec, 'replicas', default=0)} desired | {total} total\n")
    w.write(0, f"Update Strategy:\t{text(spec, 'updateStrategy', 'type')}\n")
    rolling = mapping(spec, "updateStrategy", "rollingUpdate")
    if "partition" in rolling:
        w.write(1, f"Partition:\t{rolling['partition']}\n")
        if "maxUnavailable" in rolling:
            w.write(1, f"MaxUnavailable:\t{rolling['maxUnavailable']}\n")
    w.write(0, f"Pods Status:\t{pods_status}\n")
    pod_template(w, spec.get("template"))
    claims = items(spec, "volumeClaimTemplates")
    w.write(0, "Volume Claims:\n" if claims else "Volume Claims:\t<none>\n")
    for claim in claims:
        claim_meta, claim_spec = mapping(claim, "metadata"), mapping(claim, "spec")
        w.write(1, f"Name:\t{text(claim_meta, 'name')}\n")
        storage_class = text(claim_meta, "annotations", "volume.beta.kubernetes.io/storage-class")
        w.write(1, f"StorageClass:\t{storage_class or text(claim_spec, 'storageClassName')}\n")
        labels_multiline(w, "Labels", claim_meta.get("labels"), indent="  ")
        labels_multiline(w, "Annotations", claim_meta.get("annotations"), indent="  ")
        capacity = text(claim_spec, "resources", "requests", "storage") or "<default>"
        w.write(1, f"Capacity:\t{capacity}\n")
        modes = " ".join(str(mode) for mode in items(claim_spec, "accessModes"))
        w.write(1, f"Access Modes:\t[{modes}]\n")
    return w.render(events)


async def describe_daemon_set(
    session: Session, resource: Resource, daemon_set: Object, show_events: bool = True
) -> str:
    meta, spec, status = (mapping(daemon_set, part) for part in ("metadata", "spec", "status"))
    pods_status = await _pods_status(session, daemon_set)
    events = await fetch_events(session, daemon_set, "DaemonSet", wanted=show_events)
    w = new_description(
        meta,
        ("Selector", selector_string(spec.get("selector"))),
        ("Node-Selector", format_labels(dig(spec, "template", "spec", "nodeSelector"))),
        namespaced=False,  # kubectl 1.32 prints no namespace for a DaemonSet
    )
    for label, field in (
        ("Desired Number of Nodes Scheduled", "desiredNumberScheduled"),
        ("Current Number of Nodes Scheduled", "currentNumberScheduled"),
        ("Number of Nodes Scheduled with Up-to-date Pods", "updatedNumberScheduled"),
        ("Number of Nodes Scheduled with Available Pods", "numberAvailable"),
        ("Number of Nodes Misscheduled", "numberMisscheduled"),
    ):
        w.write(0, f"{label}: {dig(status, field, default=0)}\n")
    w.write(0, f"Pods Status:\t{pods_status}\n")
    pod_template(w, spec.get("template"))
    return w.render(events)
