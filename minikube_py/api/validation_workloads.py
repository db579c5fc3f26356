"""Validation of the controllers that keep pods running: Deployments, ReplicaSets,
StatefulSets, DaemonSets and ReplicationControllers.

Each owns pods through a label *selector* and creates them from a pod *template*, so the
selector is required, must not be empty and must match the template's labels — otherwise the
controller would create pods it does not own and create them forever. Their pods must restart
``Always``. Replica counts and history limits are non-negative; rolling-update budgets are
integers or percentages (their update strategies are checked in ``validation_strategies``).
Once created, the selector of an ``apps/v1`` workload is immutable, and a StatefulSet's spec
may change only in replicas, template, update strategy and a few more.

Field paths and messages follow ``pkg/apis/apps/validation`` and the ReplicationController
part of ``pkg/apis/core/validation`` in Kubernetes 1.32, including upstream's quirks (a
ReplicaSet's empty selector is "invalid for deployment"; a StatefulSet's template is checked
only for labels and annotations, its pods are validated when they are created).
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.errors import Cause
from minikube_py.api.meta import validate_annotations, validate_labels
from minikube_py.api.validation_causes import (
    forbidden,
    go_label_selector,
    go_string_map,
    invalid,
    is_int,
    items,
    mapping,
    nonnegative,
    not_supported,
    required,
    same,
    text,
)
from minikube_py.api.validation_pods import validate_pod_template
from minikube_py.api.validation_selectors import (
    always_restarts,
    as_selector,
    immutable_selector,
    required_selector,
    template_matches,
    validate_label_selector,
)
from minikube_py.api.validation_strategies import (
    validate_daemon_set_strategy,
    validate_deployment_strategy,
    validate_stateful_set_strategy,
)


def _replica_set_spec(spec: dict[str, Any], kind: str) -> list[Cause]:
    """Selector and template rules shared by Deployments and ReplicaSets."""
    causes = required_selector(spec, "spec", kind)
    selector = as_selector(spec.get("selector"))
    if selector is None:
        shown = go_label_selector(spec.get("selector"))
        return [*causes, invalid("spec.selector", shown, "invalid label selector")]
    template = mapping(spec, "template")
    causes += template_matches(selector, template, "spec.template")
    causes += validate_pod_template(template, "spec.template")
    return causes + always_restarts(template, "spec.template", "ReplicaSet")


def validate_deployment(obj: Any, old: Any) -> list[Cause]:
    spec = mapping(obj, "spec")
    causes = nonnegative("spec.replicas", spec.get("replicas"))
    causes += _replica_set_spec(spec, "deployment")
    causes += validate_deployment_strategy(spec)
    for key in ("minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds"):
        causes += nonnegative(f"spec.{key}", spec.get(key))
    deadline, ready = spec.get("progressDeadlineSeconds"), spec.get("minReadySeconds")
    if is_int(deadline) and deadline <= (ready if is_int(ready) else 0):
        causes.append(
            invalid(
                "spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"
            )
        )
    return causes + immutable_selector(spec, old)


def validate_replica_set(obj: Any, old: Any) -> list[Cause]:
    spec = mapping(obj, "spec")
    causes = nonnegative("spec.replicas", spec.get("replicas"))
    causes += nonnegative("spec.minReadySeconds", spec.get("minReadySeconds"))
    # Upstream's ReplicaSet really does call its empty selector "invalid for deployment".
    return causes + _replica_set_spec(spec, "deployment") + immutable_selector(spec, old)


def validate_replication_controller(obj: Any, old: Any) -> list[Cause]:
    spec = mapping(obj, "spec")
    causes = nonnegative("spec.minReadySeconds", spec.get("minReadySeconds"))
    selector = mapping(spec, "selector")
    if not selector:
        causes.append(required("spec.selector"))
    causes += nonnegative("spec.replicas", spec.get("replicas"))
    template = spec.get("template")
    if not isinstance(template, dict):
        return [*causes, required("spec.template")]
    labels = mapping(template, "metadata").get("labels")
    wanted = labels if isinstance(labels, dict) else {}
    if selector and any(wanted.get(key) != value for key, value in selector.items()):
        causes.append(
            invalid(
                "spec.template.metadata.labels",
                go_string_map(labels),
                "`selector` does not match template `labels`",
            )
        )
    causes += validate_pod_template(template, "spec.template")
    return causes + always_restarts(template, "spec.template", "ReplicationController")


_STATEFUL_MUTABLE = (
    "replicas",
    "template",
    "updateStrategy",
    "minReadySeconds",
    "ordinals",
    "persistentVolumeClaimRetentionPolicy",
)


def validate_stateful_set(obj: Any, old: Any) -> list[Cause]:
    spec = mapping(obj, "spec")
    causes: list[Cause] = []
    policy = text(spec, "podManagementPolicy")
    if not policy:
        causes.append(required("spec.podManagementPolicy"))
    elif policy not in ("OrderedReady", "Parallel"):
        causes.append(
            invalid("spec.podManagementPolicy", policy, "must be 'OrderedReady' or 'Parallel'")
        )
    causes += validate_stateful_set_strategy(mapping(spec, "updateStrategy"))
    retention = mapping(spec, "persistentVolumeClaimRetentionPolicy")
    for key in ("whenDeleted", "whenScaled") if retention else ():
        if text(retention, key) not in ("Retain", "Delete"):
            causes.append(
                not_supported(
                    f"spec.persistentVolumeClaimRetentionPolicy.{key}",
                    text(retention, key),
                    ["Retain", "Delete"],
                )
            )
    for key in ("replicas", "minReadySeconds"):
        causes += nonnegative(f"spec.{key}", spec.get(key))
    causes += nonnegative("spec.ordinals.start", mapping(spec, "ordinals").get("start"))
    causes += required_selector(spec, "spec", "statefulset")
    selector, template = as_selector(spec.get("selector")), mapping(spec, "template")
    if selector is None:
        causes.append(invalid("spec.selector", go_label_selector(spec.get("selector")), ""))
    else:
        causes += template_matches(selector, template, "spec.template")
        meta = mapping(template, "metadata")
        causes += validate_labels(meta.get("labels"), "spec.template.labels")
        causes += validate_annotations(meta.get("annotations"), "spec.template.annotations")
    causes += always_restarts(template, "spec.template", "StatefulSet")
    if old is not None:
        before = dict(mapping(old, "spec"))
        if not same({**spec, **{key: before.get(key) for key in _STATEFUL_MUTABLE}}, before):
            causes.append(
                forbidden(
                    "spec",
                    "updates to statefulset spec for fields other than "
                    "'replicas', 'ordinals', 'template', 'updateStrategy', "
                    "'persistentVolumeClaimRetentionPolicy' and "
                    "'minReadySeconds' are forbidden",
                )
            )
    return causes


def validate_daemon_set(obj: Any, old: Any) -> list[Cause]:
    spec = mapping(obj, "spec")
    raw_selector, template = spec.get("selector"), mapping(spec, "template")
    causes = validate_label_selector(raw_selector, "spec.selector")
    selector = as_selector(raw_selector)
    labels = mapping(template, "metadata").get("labels")
    if selector is not None and not selector.matches(labels):
        causes.append(
            invalid(
                "spec.template.metadata.labels",
                go_string_map(labels),
                "`selector` does not match template `labels`",
            )
        )
    if (
        isinstance(raw_selector, dict)
        and not mapping(raw_selector, "matchLabels")
        and not items(raw_selector, "matchExpressions")
    ):
        causes.append(
            invalid(
                "spec.selector",
                go_label_selector(raw_selector),
                "empty selector is invalid for daemonset",
            )
        )
    causes += validate_pod_template(template, "spec.template")
    causes += always_restarts(template, "spec.template", "DaemonSet")
    for key in ("minReadySeconds", "templateGeneration"):
        causes += nonnegative(f"spec.{key}", spec.get(key))
    causes += validate_daemon_set_strategy(mapping(spec, "updateStrategy"))
    causes += nonnegative("spec.revisionHistoryLimit", spec.get("revisionHistoryLimit"))
    return causes + immutable_selector(spec, old)
