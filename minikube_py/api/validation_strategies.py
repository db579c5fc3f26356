"""Validation of update strategies: how a workload replaces its pods when its template changes.

Deployments, StatefulSets and DaemonSets each say how a new pod template rolls out:

- a **Deployment** (``spec.strategy``) either stops every old pod first (``Recreate``) or
  rolls, bounded by ``maxUnavailable`` (old pods it may take down before new ones are ready)
  and ``maxSurge`` (extra pods it may start above ``replicas``); both may not be 0, or the
  rollout could never move;
- a **StatefulSet** (``spec.updateStrategy``) replaces pods only when someone deletes them
  (``OnDelete``) or rolls from the highest ordinal down, leaving pods below ``partition``
  alone; its ``maxUnavailable``, when given, may not be 0;
- a **DaemonSet** (``spec.updateStrategy``) rolls node by node, either taking the old pod
  down first (``maxUnavailable``) or starting the new one beside it (``maxSurge``): exactly
  one of the two must be non-zero.

Budgets are integers or percentages (``int_or_percent`` in ``validation_selectors``). Field
paths, messages and upstream's quirks (a ``rollingUpdate`` on a ``Recreate`` Deployment is
forbidden, on an ``OnDelete`` StatefulSet invalid) follow ``pkg/apis/apps/validation`` in
Kubernetes 1.32. The workload validators in ``validation_workloads.py`` call these.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.errors import Cause
from minikube_py.api.validation_causes import (
    Rendered,
    forbidden,
    go_quote,
    invalid,
    mapping,
    nonnegative,
    not_supported,
    required,
    text,
)
from minikube_py.api.validation_selectors import amount, int_or_percent, int_or_string


def validate_deployment_strategy(spec: dict[str, Any]) -> list[Cause]:
    """``spec.strategy`` of a Deployment (it takes the whole spec, as upstream's does)."""
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


def validate_stateful_set_strategy(strategy: dict[str, Any]) -> list[Cause]:
    """``spec.updateStrategy`` of a StatefulSet."""
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


def validate_daemon_set_strategy(strategy: dict[str, Any]) -> list[Cause]:
    """``spec.updateStrategy`` of a DaemonSet."""
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
