"""Which PersistentVolume fits a PersistentVolumeClaim: the binder's matching rules.

A claim asks for storage: at least ``resources.requests.storage``, the ``accessModes`` it
needs, a ``storageClassName`` (``""`` is "no class", as is a claim without one once admission
had its say), maybe a label ``selector`` and ``volumeMode``. A PersistentVolume offers
``capacity.storage``, its own access modes, a class and labels. Upstream's binder
(``pkg/controller/volume/persistentvolume/index.go``) picks the match like this:

- a volume whose ``claimRef`` already names this claim (pre-bound by an administrator, or made
  for it by a provisioner) wins outright if it is big enough;
- otherwise only volumes bound to nobody, in the claim's class, with the claim's
  ``volumeMode`` and labels that satisfy its selector;
- access modes: volumes are grouped by their set of modes; the groups whose modes include all
  the claim's are tried from the fewest modes up, and the first group with a fit wins — a
  ``ReadWriteOnce`` claim is not given a ``ReadWriteMany`` volume while an RWO one fits;
- in that group the *smallest* volume that is big enough, so a 1 Gi claim does not take the
  100 Gi volume another claim may need;
- with ``WaitForFirstConsumer`` the controller leaves unbound volumes to the scheduler, which
  knows the pod's node (``delay_binding``); pre-bound ones still match.

These functions are pure, and shared: the binder (``controllers/persistentvolume*.py``) and the
scheduler's VolumeBinding plugin (with a node, whose labels a volume's ``nodeAffinity`` must
admit) both decide with them, which is why they live in the data model's layer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fractions import Fraction
from typing import Any

from minikube_py.api.quantities import QuantityError, parse_quantity
from minikube_py.api.selectors import LabelSelector

Object = dict[str, Any]
BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
# what a node must offer for a volume's nodeAffinity term: (node labels, node name) → bool
NodeCheck = Callable[[Object], bool]


def _spec(obj: Object) -> Object:
    return obj.get("spec") or {}


def _annotations(obj: Object) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def claim_class(claim: Object) -> str:
    """The claim's class: the old beta annotation wins, as upstream's helper reads it."""
    if BETA_CLASS_ANNOTATION in _annotations(claim):
        return _annotations(claim)[BETA_CLASS_ANNOTATION]
    return str(_spec(claim).get("storageClassName") or "")


def volume_class(volume: Object) -> str:
    if BETA_CLASS_ANNOTATION in _annotations(volume):
        return _annotations(volume)[BETA_CLASS_ANNOTATION]
    return str(_spec(volume).get("storageClassName") or "")


def storage(quantity: Any) -> Fraction:
    """A storage quantity's value; a missing or malformed one counts as zero."""
    try:
        return parse_quantity(quantity) if quantity is not None else Fraction(0)
    except (QuantityError, ValueError, TypeError):
        return Fraction(0)


def requested(claim: Object) -> Fraction:
    return storage(((_spec(claim).get("resources") or {}).get("requests") or {}).get("storage"))


def capacity(volume: Object) -> Fraction:
    return storage((_spec(volume).get("capacity") or {}).get("storage"))


def volume_mode(obj: Object) -> str:
    return str(_spec(obj).get("volumeMode") or "Filesystem")


def is_bound_to_claim(volume: Object, claim: Object) -> bool:
    """The volume's ``claimRef`` names this claim (by name; by uid too once it has one)."""
    ref = _spec(volume).get("claimRef")
    if not ref:
        return False
    meta = claim.get("metadata") or {}
    if ref.get("name") != meta.get("name") or ref.get("namespace") != meta.get("namespace"):
        return False
    return not ref.get("uid") or ref.get("uid") == meta.get("uid")


def selector_matches(claim: Object, volume: Object) -> bool:
    selector = _spec(claim).get("selector")
    if selector is None:
        return True  # no selector: any volume
    try:
        parsed = LabelSelector.from_object(selector)
    except ValueError:
        return False
    return parsed.matches((volume.get("metadata") or {}).get("labels") or {})


def unsatisfied(volume: Object, claim: Object) -> str | None:
    """Why ``volume`` cannot serve ``claim`` (upstream's ``checkVolumeSatisfyClaim`` words),
    or None when it can; used for a claim that names its volume."""
    if capacity(volume) < requested(claim):
        return "requested PV is too small"
    if volume_class(volume) != claim_class(claim):
        return "storageClassName does not match"
    if volume_mode(volume) != volume_mode(claim):
        return "incompatible volumeMode"
    if not set(_spec(claim).get("accessModes") or []) <= set(
        _spec(volume).get("accessModes") or []
    ):
        return "incompatible accessMode"
    return None


def best_match(
    claim: Object,
    volumes: Iterable[Object],
    *,
    delay_binding: bool = False,
    node_fits: NodeCheck | None = None,
) -> Object | None:
    """The volume the claim should be bound to, or None (see the module docstring).

    ``node_fits``: the scheduler's question for one node — may this volume be used there?
    """
    wanted_modes = set(_spec(claim).get("accessModes") or [])
    request = requested(claim)
    # mode set (as a sorted tuple) → the candidates offering exactly those modes
    groups: dict[tuple[str, ...], list[Object]] = {}
    for volume in volumes:
        modes = tuple(sorted(set(_spec(volume).get("accessModes") or [])))
        if not wanted_modes <= set(modes):
            continue
        if capacity(volume) < request or volume_mode(volume) != volume_mode(claim):
            continue
        if (volume.get("metadata") or {}).get("deletionTimestamp"):
            continue
        if node_fits is not None and not node_fits(volume):
            continue
        if is_bound_to_claim(volume, claim):
            return volume  # made for it, or pre-bound by an administrator: no contest
        if node_fits is None and delay_binding:
            continue  # the scheduler picks these, knowing the pod's node
        if _spec(volume).get("claimRef"):
            continue  # someone else's
        if (volume.get("status") or {}).get("phase") in ("Released", "Failed"):
            continue  # keeps its old claimRef until reclaimed; never handed out again
        if volume_class(volume) != claim_class(claim) or not selector_matches(claim, volume):
            continue
        groups.setdefault(modes, []).append(volume)
    for modes in sorted(groups, key=lambda m: (len(m), m)):
        return min(groups[modes], key=lambda v: (capacity(v), v["metadata"].get("name", "")))
    return None


# The annotation that makes a StorageClass the default (the beta one still counts).
DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


def is_default_class(storage_class: Any) -> bool:
    marks = (storage_class.get("metadata") or {}).get("annotations") or {}
    return any(marks.get(key) == "true" for key in DEFAULT_CLASS_ANNOTATIONS)


def default_class(classes: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The default StorageClass (None: there is none); of several the newest, then the name
    last in order, as upstream since 1.26."""
    defaults = [c for c in classes if is_default_class(c)]
    if not defaults:
        return None
    return max(
        defaults,
        key=lambda c: (c["metadata"].get("creationTimestamp") or "", c["metadata"]["name"]),
    )


def claims_of_pod(pod: Any) -> list[str]:
    """The claim names a pod's volumes use."""
    names = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        source = volume.get("persistentVolumeClaim") if isinstance(volume, dict) else None
        if isinstance(source, dict) and source.get("claimName"):
            names.append(str(source["claimName"]))
    return names
