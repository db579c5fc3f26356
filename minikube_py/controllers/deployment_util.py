"""A Deployment's ReplicaSets: which one is new, how they are named, how revisions are kept.

A Deployment never runs pods itself. For each version of its pod template it keeps one
ReplicaSet, named ``<deployment>-<hash>`` where the hash (``pod_template_hash``) is computed
from the template; the same hash goes into the ReplicaSet's selector and its pods' labels as
``pod-template-hash``, so the pods of different versions never overlap. The *new* ReplicaSet
is the one whose template equals the Deployment's (ignoring that label); all others are *old*.

Each ReplicaSet carries the revision of the rollout that made it current, in the
``deployment.kubernetes.io/revision`` annotation (``kubectl rollout history`` lists them).
Rolling back to an old template makes its ReplicaSet new again under a fresh revision; the
numbers it had before are kept in ``revision-history``. The Deployment's other annotations,
``kubernetes.io/change-cause`` among them, are copied onto its new ReplicaSet, so the history
shows why each revision was made.

The hash: upstream takes the 32-bit FNV-1a of the template printed by the Go ``spew`` library
(every Go struct field, type names included), then the collision count, and writes the decimal
number with ``rand.SafeEncodeString``'s vowel-free alphabet, giving names like
``nginx-75675f5897``. Here the same FNV-1a, collision-count bytes and alphabet are applied to
the template's canonical JSON instead, as Go's struct printing cannot be reproduced from a
JSON object: the hashes are stable and shaped like upstream's, but not the same numbers.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from typing import Any

from minikube_py.api.stamps import parse_time
from minikube_py.client import DEPLOYMENTS
from minikube_py.controllers.deployment_rollout import (
    go_atoi,
    max_surge,
    new_rs_new_replicas,
    replicas_of,
    set_replicas_annotations,
)
from minikube_py.controllers.podcontrol import ControllerKind, controller_reference

Object = dict[str, Any]
DEPLOYMENT = ControllerKind(DEPLOYMENTS, "Deployment")
POD_TEMPLATE_HASH_LABEL = "pod-template-hash"
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history"
CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause"
# The Deployment controller caps revision-history at this many characters (sync.go).
MAX_REVISION_HISTORY_CHARS = 2000
# Annotations that describe the Deployment object itself, never copied onto a ReplicaSet.
_NOT_COPIED = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION_ANNOTATION,
        REVISION_HISTORY_ANNOTATION,
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)
# rand.SafeEncodeString's alphabet: no vowels, no 0/1/3, so no words and no look-alikes.
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_FNV_OFFSET, _FNV_PRIME = 0x811C9DC5, 0x01000193


def fnv32a(data: bytes, state: int = _FNV_OFFSET) -> int:
    """32-bit FNV-1a of ``data``, continuing from ``state`` (Go's ``hash/fnv`` New32a)."""
    for byte in data:
        state = ((state ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return state


def safe_encode(text: str) -> str:
    """Each byte of ``text`` mapped into ``SAFE_ALPHABET`` (``rand.SafeEncodeString``)."""
    return "".join(SAFE_ALPHABET[byte % len(SAFE_ALPHABET)] for byte in text.encode())


def _pruned(value: Any) -> Any:
    # Drop nulls (an unset creationTimestamp) so equal templates print equally.
    if isinstance(value, dict):
        return {k: _pruned(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_pruned(item) for item in value]
    return value


def pod_template_hash(template: Object, collision_count: int | None = None) -> str:
    """The ``pod-template-hash`` of a pod template (``controller.ComputeHash``); a collision
    count, when the Deployment has one, changes it so a clashing name can be avoided."""
    printed = json.dumps(_pruned(template), sort_keys=True, separators=(",", ":"))
    state = fnv32a(printed.encode())
    if collision_count is not None:
        # Upstream writes an 8-byte buffer holding the count as a little-endian uint32.
        state = fnv32a((collision_count & 0xFFFFFFFF).to_bytes(4, "little") + bytes(4), state)
    return safe_encode(str(state))


def _annotations(obj: Object) -> dict[str, Any]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def revision(obj: Object) -> int | None:
    """The revision annotation as a number: 0 when absent, None when it is not a number."""
    value = _annotations(obj).get(REVISION_ANNOTATION)
    return 0 if value is None else go_atoi(value)


def max_revision(replica_sets: Iterable[Object]) -> int:
    """The highest revision among ``replica_sets``, skipping unreadable ones (0 if none)."""
    return max((r for rs in replica_sets if (r := revision(rs)) is not None), default=0)


def last_revision(replica_sets: Iterable[Object]) -> int:
    """The second highest revision (the one ``kubectl rollout undo`` goes back to)."""
    first = second = 0
    for number in (revision(rs) for rs in replica_sets):
        if number is None:
            continue
        if number >= first:
            first, second = number, first
        elif number > second:
            second = number
    return second


def copy_deployment_annotations(deployment: Object, rs: Object) -> bool:
    """Copy the Deployment's annotations onto ``rs`` (all but its own bookkeeping); True if
    any changed."""
    target = rs.setdefault("metadata", {}).setdefault("annotations", {})
    changed = False
    for key, value in _annotations(deployment).items():
        if key in _NOT_COPIED or target.get(key) == value:
            continue
        target[key] = value
        changed = True
    return changed


def set_new_replica_set_annotations(
    deployment: Object,
    new_rs: Object,
    new_revision: str,
    exists: bool,
    history_limit: int = MAX_REVISION_HISTORY_CHARS,
) -> bool:
    """Bring ``new_rs``'s annotations up to date for ``new_revision`` (in place): copy the
    Deployment's, raise the revision (never lower it), remember a replaced revision in
    ``revision-history``, and on a ReplicaSet about to be created record the replica counts.
    True if anything changed (upstream's ``SetNewReplicaSetAnnotations``)."""
    changed = copy_deployment_annotations(deployment, new_rs)
    annotations = new_rs.setdefault("metadata", {}).setdefault("annotations", {})
    old_text = annotations.get(REVISION_ANNOTATION)
    old = 0 if not old_text else go_atoi(old_text)
    new = go_atoi(new_revision)
    if old is None or new is None:
        return False  # upstream logs and gives up on a non-numeric revision
    if old < new:
        annotations[REVISION_ANNOTATION] = new_revision
        changed = True
    if old_text is not None and old < new:
        # A ReplicaSet that already had a revision becomes new again: a rollback.
        history = annotations.get(REVISION_HISTORY_ANNOTATION) or ""
        if not history:
            annotations[REVISION_HISTORY_ANNOTATION] = old_text
        else:
            kept = history.split(",")
            length = len(history) + len(old_text) + 1
            while length > history_limit and kept:
                length -= len(kept.pop(0)) + 1
            if length <= history_limit:
                annotations[REVISION_HISTORY_ANNOTATION] = ",".join([*kept, old_text])
    desired = replicas_of(deployment)
    if not exists and set_replicas_annotations(new_rs, desired, desired + max_surge(deployment)):
        changed = True
    return changed


def by_creation(replica_sets: Iterable[Object]) -> list[Object]:
    """Oldest first, ties by name (``ReplicaSetsByCreationTimestamp``)."""

    def key(rs: Object) -> tuple[float, str]:
        meta = rs.get("metadata") or {}
        created = parse_time(meta.get("creationTimestamp"))
        return (float("-inf") if created is None else created, meta.get("name") or "")

    return sorted(replica_sets, key=key)


def _semantic(value: Any) -> Any:
    # apimachinery's semantic equality reads nil and empty maps/slices alike.
    if isinstance(value, dict):
        pruned = {k: _semantic(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_semantic(item) for item in value]
    return value


def equal_ignore_hash(first: Object, second: Object) -> bool:
    """Whether two pod templates are the same apart from their ``pod-template-hash`` label."""
    a, b = copy.deepcopy(first or {}), copy.deepcopy(second or {})
    for template in (a, b):
        ((template.get("metadata") or {}).get("labels") or {}).pop(POD_TEMPLATE_HASH_LABEL, None)
    return bool(_semantic(a) == _semantic(b))


def _template(obj: Object) -> Object:
    return (obj.get("spec") or {}).get("template") or {}


def find_new_replica_set(deployment: Object, replica_sets: Iterable[Object]) -> Object | None:
    """The ReplicaSet running the Deployment's current template; the oldest if several do
    (possible after upgrades changed the hash), None if none does yet."""
    for rs in by_creation(replica_sets):
        if equal_ignore_hash(_template(rs), _template(deployment)):
            return rs
    return None


def find_old_replica_sets(
    deployment: Object, replica_sets: Sequence[Object]
) -> tuple[list[Object], list[Object]]:
    """``(with_replicas, all_old)``: the old ReplicaSets still asked to run pods, and all."""
    new_rs = find_new_replica_set(deployment, replica_sets)
    all_old = [rs for rs in replica_sets if new_rs is None or not _same(rs, new_rs)]
    return [rs for rs in all_old if replicas_of(rs) != 0], all_old


def _same(a: Object, b: Object) -> bool:
    # Upstream compares uids; objects not yet stored (no uid) are compared by identity.
    uid = (b.get("metadata") or {}).get("uid")
    return a is b or (uid is not None and (a.get("metadata") or {}).get("uid") == uid)


def new_replica_set(deployment: Object, old_rss: Sequence[Object], new_revision: str) -> Object:
    """The ReplicaSet to create for the Deployment's current template (upstream's
    getNewReplicaSet): named by the template hash, which also joins its labels, its pods'
    labels and its selector; controlled by the Deployment; sized by ``new_rs_new_replicas``."""
    meta, spec = deployment.get("metadata") or {}, deployment.get("spec") or {}
    template = copy.deepcopy(spec.get("template") or {})
    collision_count = (deployment.get("status") or {}).get("collisionCount")
    hashed = pod_template_hash(template, collision_count)
    labels = {**((template.get("metadata") or {}).get("labels") or {})}
    labels[POD_TEMPLATE_HASH_LABEL] = hashed
    template.setdefault("metadata", {})["labels"] = labels
    selector = copy.deepcopy(spec.get("selector") or {})
    selector["matchLabels"] = {
        **(selector.get("matchLabels") or {}),
        POD_TEMPLATE_HASH_LABEL: hashed,
    }
    rs: Object = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            # Named by the hash, so a retried create after a lost answer meets its own RS.
            "name": f"{meta.get('name', '')}-{hashed}",
            "namespace": meta.get("namespace"),
            "ownerReferences": [controller_reference(deployment, DEPLOYMENT)],
            "labels": dict(labels),
        },
        "spec": {
            "replicas": 0,
            "minReadySeconds": int(spec.get("minReadySeconds") or 0),
            "selector": selector,
            "template": template,
        },
    }
    rs["spec"]["replicas"] = new_rs_new_replicas(deployment, [*old_rss, rs], rs)
    set_new_replica_set_annotations(deployment, rs, new_revision, exists=False)
    return rs
