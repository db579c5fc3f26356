"""A Job's pod failure policy: which failed pods fail the Job at once, count, or are ignored.

By default every failed pod counts against ``backoffLimit``. ``spec.podFailurePolicy.rules``
refines that (upstream's ``pod_failure_policy.go``): the first rule matching a failed pod
decides, by its ``action``:

- ``FailJob``: the whole Job fails now, reason ``PodFailurePolicy`` — e.g. exit code 42 means
  "bad input, retrying cannot help";
- ``Ignore``: the failure does not count (e.g. the pod was evicted: condition
  ``DisruptionTarget``), and the pod is replaced;
- ``Count``: counted as usual; ``FailIndex`` (with ``backoffLimitPerIndex``) is not handled
  here and counts.

A rule matches on ``onExitCodes`` — a container (optionally by ``containerName``) terminated
with a non-zero exit code that is ``In`` / ``NotIn`` the ``values`` — or on ``onPodConditions``
— the pod has a condition of that ``type`` with that ``status``. No matching rule: it counts.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from minikube_py.controllers.job_util import container_statuses, meta

Object = dict[str, Any]


class Verdict(NamedTuple):
    """What the policy says about one failed pod."""

    fail_job_message: str | None  # set for a FailJob match: the Job's failure message
    count_failed: bool  # whether the failure counts against backoffLimit
    action: str | None  # the matching rule's action; None when no rule matched


def match_pod_failure_policy(policy: Object | None, pod: Object) -> Verdict:
    """The first rule of ``policy`` that matches the failed ``pod``, as a ``Verdict``."""
    for index, rule in enumerate((policy or {}).get("rules") or []):
        action = str(rule.get("action") or "")
        reason = _exit_code_match(rule.get("onExitCodes"), pod)
        if reason is None and rule.get("onPodConditions"):
            reason = _condition_match(rule["onPodConditions"], pod)
        if reason is None:
            continue
        if action == "FailJob":
            message = f"{reason} matching {action} rule at index {index}"
            return Verdict(message, True, action)
        if action == "Ignore":
            return Verdict(None, False, action)
        return Verdict(None, True, action)  # Count, FailIndex
    return Verdict(None, True, None)


def _exit_code_match(requirement: Object | None, pod: Object) -> str | None:
    """ "Container <c> for pod <ns>/<pod> failed with exit code <n>" for the first container
    whose non-zero exit code satisfies ``requirement``; None when none does."""
    if not requirement:
        return None
    wanted_container = requirement.get("containerName")
    values = set(requirement.get("values") or [])
    operator = requirement.get("operator")
    for container in container_statuses(pod):
        if wanted_container and container.get("name") != wanted_container:
            continue
        terminated = (container.get("state") or {}).get("terminated")
        if not isinstance(terminated, dict):
            continue
        code = int(terminated.get("exitCode") or 0)
        if code == 0:  # a container that succeeded never matches
            continue
        if (operator == "In" and code in values) or (operator == "NotIn" and code not in values):
            pod_meta = meta(pod)
            return (
                f"Container {container.get('name')} for pod "
                f"{pod_meta.get('namespace')}/{pod_meta.get('name')} failed with exit code {code}"
            )
    return None


def _condition_match(patterns: list[Object], pod: Object) -> str | None:
    conditions = (pod.get("status") or {}).get("conditions") or []
    for pattern in patterns:
        wanted = (pattern.get("type"), pattern.get("status") or "True")
        for condition in conditions:
            if (condition.get("type"), condition.get("status")) == wanted:
                pod_meta = meta(pod)
                return (
                    f"Pod {pod_meta.get('namespace')}/{pod_meta.get('name')} has condition "
                    f"{wanted[0]}"
                )
    return None
