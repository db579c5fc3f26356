"""Validation of the controllers that keep pods running: Deployments, ReplicaSets,
StatefulSets, DaemonSets and ReplicationControllers.

Each owns pods through a label *selector* and creates them from a pod *template*, so the
selector is required, must not be empty and must match the template's labels — otherwise the
controller would create pods it does not own and create them forever. Their pods must restart
``Always``. Replica counts and history limits are non-negative; rolling-update budgets are
integers or percentages. Once created, the selector of an ``apps/v1`` workload is immutable,
and a StatefulSet's spec may change only in replicas, template, update strategy and a few
more.

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
    Rendered,
    forbidden,
    go_label_selector,
    go_quote,
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
    amount,
    as_selector,
    immutable_selector,
    int_or_percent,
    int_or_string,
    required_selector,
    template_matches,
    validate_label_selector,
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


def _deployment_strategy(spec: dict[str, Any]) -> list[Cause]:
    strategy, path = mapping(spec, "strategy"), "spec.strategy"
    kind, rolling = text(strategy, "type"), strategy.get("rollingUpdate")
    if kind == "Recreate":
        if rolling is None:
            return []
        return [
            forbidden(
                f"{path}.rollingUpdate", "may not be specified when strategy `type` is 'Recreate'"
            )
        ]
    if kind != "RollingUpdate":
        pointer = "nil" if rolling is None else "0xc000000000"
        shown = Rendered(
            f"apps.DeploymentStrategy{{Type:{go_quote(kind)}, RollingUpdate:"
            f"(*apps.RollingUpdateDeployment)({pointer})}}"
        )
        return [not_supported(path, shown, ["Recreate", "RollingUpdate"])]
    if not isinstance(rolling, dict):
        return [required(f"{path}.rollingUpdate", "this should be defaulted and never be nil")]
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    causes = int_or_percent(unavailable, f"{path}.rollingUpdate.maxUnavailable")
    causes += int_or_percent(surge, f"{path}.rollingUpdate.maxSurge")
    if amount(unavailable) == 0 and amount(surge) == 0:
        causes.append(
            invalid(
                f"{path}.rollingUpdate.maxUnavailable",
                int_or_string(unavailable),
                "may not be 0 when `maxSurge` is 0",
            )
        )
    return causes


def validate_deployment(obj: Any, old: Any) -> list[Cause]:
    spec = mapping(obj, "spec")
    causes = nonnegative("spec.replicas", spec.get("replicas"))
    causes += _replica_set_spec(spec, "deployment")
    causes += _deployment_strategy(spec)
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
    causes += _stateful_strategy(mapping(spec, "updateStrategy"))
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


def _stateful_strategy(strategy: dict[str, Any]) -> list[Cause]:
    kind, rolling, path = (
        text(strategy, "type"),
        strategy.get("rollingUpdate"),
        "spec.updateStrategy",
    )
    if not kind:
        return [required(path)]
    if kind == "OnDelete":
        if rolling is None:
            return []
        return [
            invalid(
                f"{path}.rollingUpdate", rolling, "only allowed for updateStrategy 'RollingUpdate'"
            )
        ]
    if kind != "RollingUpdate":
        return [invalid(path, strategy, "must be 'RollingUpdate' or 'OnDelete'")]
    rolling = rolling if isinstance(rolling, dict) else {}
    causes = nonnegative(f"{path}.rollingUpdate.partition", rolling.get("partition"))
    if (unavailable := rolling.get("maxUnavailable")) is not None:
        causes += int_or_percent(unavailable, f"{path}.rollingUpdate.maxUnavailable")
        if amount(unavailable) == 0:
            causes.append(
                invalid(
                    f"{path}.rollingUpdate.maxUnavailable",
                    int_or_string(unavailable),
                    "cannot be 0",
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
    causes += _daemon_strategy(mapping(spec, "updateStrategy"))
    causes += nonnegative("spec.revisionHistoryLimit", spec.get("revisionHistoryLimit"))
    return causes + immutable_selector(spec, old)


def _daemon_strategy(strategy: dict[str, Any]) -> list[Cause]:
    kind, path = text(strategy, "type"), "spec.updateStrategy"
    if kind == "OnDelete":
        return []
    if kind != "RollingUpdate":
        return [not_supported(path, strategy, ["RollingUpdate", "OnDelete"])]
    rolling = strategy.get("rollingUpdate")
    if not isinstance(rolling, dict):
        return [required(f"{path}.rollingUpdate")]
    unavailable, surge, at = rolling.get("maxUnavailable"), rolling.get("maxSurge"), path
    causes = int_or_percent(unavailable, f"{at}.rollingUpdate.maxUnavailable")
    causes += int_or_percent(surge, f"{at}.rollingUpdate.maxSurge")
    if amount(unavailable) and amount(surge):
        causes.append(
            invalid(
                f"{at}.rollingUpdate.maxSurge",
                int_or_string(surge),
                "may not be set when maxUnavailable is non-zero",
            )
        )
    elif not amount(unavailable) and not amount(surge):
        causes.append(
            required(f"{at}.rollingUpdate.maxUnavailable", "cannot be 0 when maxSurge is 0")
        )
    return causes
