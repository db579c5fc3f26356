"""A Job's success policy: declare an Indexed Job succeeded before every index has.

Normally an Indexed Job succeeds once each of its ``completions`` indexes has a succeeded pod.
``spec.successPolicy.rules`` (the JobSuccessPolicy feature, beta and on by default in 1.32;
upstream's ``success_policy.go``) lets it succeed earlier — say a leader/worker job where only
the leader's result matters. The rules are tried in order; the first one met decides:

- ``succeededIndexes`` only (e.g. ``"0,2-3"``): every listed index has succeeded;
- ``succeededCount`` only: at least that many indexes, any of them, have succeeded;
- both: at least ``succeededCount`` of the *listed* indexes have succeeded (or all of them).

A met rule gives the Job the interim ``SuccessCriteriaMet`` condition, reason
``SuccessPolicy``, message ``Matched rules at index <i>``; the controller then deletes the
pods still running — without counting them as failures — and, once none is left, adds
``Complete`` with the same reason and message. The policy is looked at only when nothing has
failed the Job first: a Job past its ``backoffLimit``, a ``FailJob`` pod-failure-policy match or
its active deadline fails even if the policy is met in the same sync (the docs: the
terminating policies are respected over the success policy).

A rule whose ``succeededIndexes`` cannot be read (the API server validates it, so this only
happens to hand-edited storage) is skipped, as upstream does.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from minikube_py.controllers.job_indexes import parse_indexes
from minikube_py.controllers.job_tracking import SyncContext
from minikube_py.controllers.job_util import SUCCESS_CRITERIA_MET, is_indexed, new_condition, spec
from minikube_py.logs import get_logger

Object = dict[str, Any]
SUCCESS_POLICY = "SuccessPolicy"  # the conditions' reason (batch/v1 JobReasonSuccessPolicy)
_log = get_logger("controllers.job")


def judge_success_policy(ctx: SyncContext, now: float) -> None:
    """Head ``ctx`` for success (an interim ``SuccessCriteriaMet``) when nothing decided the
    Job's outcome yet and its success policy is met by the succeeded indexes."""
    if ctx.finished is not None or not is_indexed(ctx.job):
        return
    completions = int(spec(ctx.job).get("completions") or 0)
    message = match_success_policy(
        spec(ctx.job).get("successPolicy"), completions, ctx.succeeded_indexes
    )
    if message is None:
        return
    _log.info("job met its success policy", key=ctx.key, rule=message)
    ctx.finished = new_condition(SUCCESS_CRITERIA_MET, "True", SUCCESS_POLICY, message, now)


def match_success_policy(
    policy: Object | None, completions: int, succeeded: Set[int]
) -> str | None:
    """The condition message of the first rule of ``policy`` that the ``succeeded`` indexes
    meet, or None when no rule is met (or there is no policy, or nothing succeeded yet)."""
    if not policy or not succeeded:
        return None
    for index, rule in enumerate(policy.get("rules") or []):
        if not isinstance(rule, dict):
            continue
        count = rule.get("succeededCount")
        wanted = rule.get("succeededIndexes")
        if wanted is not None:
            required = parse_indexes(str(wanted), completions)
            if not required:
                continue  # unreadable, or every index beyond completions
            if _indexes_rule_met(required, succeeded, count):
                return f"Matched rules at index {index}"
        elif isinstance(count, int) and len(succeeded) >= count:
            return f"Matched rules at index {index}"
    return None


def _indexes_rule_met(required: Set[int], succeeded: Set[int], count: Any) -> bool:
    """All ``required`` indexes succeeded, or — with a count — at least that many of them."""
    found = len(required & succeeded)
    if found == len(required):
        return True
    return isinstance(count, int) and found >= count
