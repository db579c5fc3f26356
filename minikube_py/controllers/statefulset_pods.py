"""A StatefulSet pod's identity: its ordinal name, labels, hostname and claims.

A ReplicaSet's pods are interchangeable; a StatefulSet's are not. Pod *n* of the set ``web``
is always named ``web-<n>`` (from ``spec.ordinals.start``, 0 by default, to ``start +
replicas - 1``) and keeps that identity across restarts and rescheduling (upstream's
``stateful_set_utils.go``):

- **Name and labels.** ``statefulset.kubernetes.io/pod-name: web-0`` (so a Service can select
  one pod) and ``apps.kubernetes.io/pod-index: "0"`` (PodIndexLabel, on in 1.32), plus
  ``controller-revision-hash: <revision name>``, the template revision it was made from.
- **Network identity.** ``spec.hostname`` is the pod's name and ``spec.subdomain`` the set's
  ``serviceName``, so the governing headless Service gives it ``web-0.web.<ns>.svc``. Both are
  set at creation only (they are immutable).
- **Storage.** Each ``volumeClaimTemplates`` entry ``www`` becomes a PersistentVolumeClaim
  ``www-web-0`` labelled with the set's ``matchLabels``, and the pod gets a volume ``www``
  naming that claim (replacing any template volume of the same name). The claim outlives the
  pod, so a recreated ``web-0`` mounts the same data.

The pod's name is parsed back with ``(.*)-([0-9]+)$``: a pod is a *member* of the set whose
name precedes the last dash, whatever its labels.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from minikube_py.client.protocol import STATEFULSETS
from minikube_py.controllers.podcontrol import ControllerKind, pod_from_template
from minikube_py.controllers.ranking import is_ready
from minikube_py.controllers.replicaset_status import is_available

Object = dict[str, Any]
STATEFUL_SET = ControllerKind(STATEFULSETS, "StatefulSet")
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"
_MEMBER = re.compile(r"(.*)-([0-9]+)$")
_INT32_MAX = 2**31 - 1


def _spec(obj: Object) -> Object:
    return obj.get("spec") or {}


def _meta(obj: Object) -> Object:
    return obj.get("metadata") or {}


def parent_and_ordinal(pod: Object) -> tuple[str, int]:
    """The set a pod's name says it belongs to and its ordinal; ``("", -1)`` for none."""
    match = _MEMBER.fullmatch(str(_meta(pod).get("name") or ""))
    if match is None:
        return "", -1
    number = int(match.group(2))
    return match.group(1), number if number <= _INT32_MAX else -1  # ParseInt(…, 32) fails


def ordinal(pod: Object) -> int:
    return parent_and_ordinal(pod)[1]


def is_member(sts: Object, pod: Object) -> bool:
    return parent_and_ordinal(pod)[0] == _meta(sts).get("name")


def replicas(sts: Object) -> int:
    value = _spec(sts).get("replicas")
    return 1 if value is None else int(value)


def start_ordinal(sts: Object) -> int:
    return int((_spec(sts).get("ordinals") or {}).get("start") or 0)


def end_ordinal(sts: Object) -> int:
    """The last ordinal in range (inclusive)."""
    return start_ordinal(sts) + replicas(sts) - 1


def in_ordinal_range(pod: Object, sts: Object) -> bool:
    return start_ordinal(sts) <= ordinal(pod) <= end_ordinal(sts)


def pod_name(sts: Object, number: int) -> str:
    return f"{_meta(sts).get('name')}-{number}"


def claim_name(sts: Object, template: Object, number: int) -> str:
    return f"{_meta(template).get('name')}-{_meta(sts).get('name')}-{number}"


def claims_for(sts: Object, number: int) -> list[tuple[str, Object]]:
    """(template name, the claim to create) for each claim template, for ordinal ``number``."""
    match_labels = (_spec(sts).get("selector") or {}).get("matchLabels") or {}
    found = []
    for template in _spec(sts).get("volumeClaimTemplates") or []:
        claim = copy.deepcopy(template)
        claim.pop("status", None)
        meta = claim.setdefault("metadata", {})
        meta["name"] = claim_name(sts, template, number)
        meta["namespace"] = _meta(sts).get("namespace")
        meta["labels"] = {**(meta.get("labels") or {}), **match_labels}
        claim.update(apiVersion="v1", kind="PersistentVolumeClaim")
        found.append((str(_meta(template).get("name")), claim))
    return found


def identity_matches(sts: Object, pod: Object) -> bool:
    parent, number = parent_and_ordinal(pod)
    meta = _meta(pod)
    return (
        number >= 0
        and parent == _meta(sts).get("name")
        and meta.get("name") == pod_name(sts, number)
        and meta.get("namespace") == _meta(sts).get("namespace")
        and (meta.get("labels") or {}).get(POD_NAME_LABEL) == meta.get("name")
    )


def storage_matches(sts: Object, pod: Object) -> bool:
    number = ordinal(pod)
    if number < 0:
        return False
    volumes = {v.get("name"): v for v in _spec(pod).get("volumes") or []}
    for template in _spec(sts).get("volumeClaimTemplates") or []:
        source = (volumes.get(_meta(template).get("name")) or {}).get("persistentVolumeClaim")
        if not source or source.get("claimName") != claim_name(sts, template, number):
            return False
    return True


def update_storage(sts: Object, pod: Object) -> None:
    """Point the pod's volumes at its claims, replacing template volumes of the same name."""
    claims = claims_for(sts, ordinal(pod))
    names = {name for name, _ in claims}
    volumes: list[Object] = [
        {"name": name, "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}}
        for name, claim in claims
    ]
    spec = pod.setdefault("spec", {})
    volumes += [v for v in spec.get("volumes") or [] if v.get("name") not in names]
    if volumes:
        spec["volumes"] = volumes


def update_identity(sts: Object, pod: Object) -> None:
    """Name, namespace and the identity labels (the mutable part of the identity)."""
    number = ordinal(pod)
    meta = pod.setdefault("metadata", {})
    meta["name"] = pod_name(sts, number)
    meta["namespace"] = _meta(sts).get("namespace")
    labels = meta.setdefault("labels", {})
    labels[POD_NAME_LABEL] = meta["name"]
    labels[POD_INDEX_LABEL] = str(number)


def new_pod(sts: Object, number: int) -> Object:
    """Pod ``number`` of ``sts`` from its template, controlled by the set."""
    pod = pod_from_template(_spec(sts).get("template") or {}, sts, controller_kind=STATEFUL_SET)
    pod["metadata"].pop("generateName", None)
    pod["metadata"]["name"] = pod_name(sts, number)
    update_identity(sts, pod)
    # immutable, so set at creation only (upstream's initIdentity)
    pod["spec"]["hostname"] = pod["metadata"]["name"]
    if service := _spec(sts).get("serviceName"):
        pod["spec"]["subdomain"] = service
    update_storage(sts, pod)
    return pod


def pod_revision(pod: Object) -> str:
    return str((_meta(pod).get("labels") or {}).get(REVISION_LABEL) or "")


def new_versioned_pod(
    current_set: Object, update_set: Object, current: str, update: str, number: int
) -> Object:
    """Pod ``number`` at the current revision if a partition (or an unfinished rolling
    update) keeps it there, else at the update revision (newVersionedStatefulSetPod)."""
    strategy = _spec(current_set).get("updateStrategy") or {}
    rolling = strategy.get("rollingUpdate")
    start = start_ordinal(current_set)
    if rolling is None:
        keep = number < start + int((current_set.get("status") or {}).get("currentReplicas") or 0)
        keep = keep and strategy.get("type", "RollingUpdate") == "RollingUpdate"
    else:  # as upstream's operator precedence has it, whatever the strategy type
        keep = number < start + int(rolling.get("partition") or 0)
    pod = new_pod(current_set if keep else update_set, number)
    pod["metadata"]["labels"][REVISION_LABEL] = current if keep else update
    return pod


# -- pod states, as the StatefulSet sees them -----------------------------------------------


def phase(pod: Object) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def is_created(pod: Object) -> bool:
    """Stored by the API server (which sets phase Pending); a pod still to make has none."""
    return phase(pod) != ""


def is_terminating(pod: Object) -> bool:
    return bool(_meta(pod).get("deletionTimestamp"))


def is_running_and_ready(pod: Object) -> bool:
    return phase(pod) == "Running" and is_ready(pod)


def is_running_and_available(pod: Object, min_ready_seconds: int, now: float) -> bool:
    return is_available(pod, min_ready_seconds, now)


def is_healthy(pod: Object) -> bool:
    return is_running_and_ready(pod) and not is_terminating(pod)
