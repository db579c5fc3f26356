"""The pod's ``PodScheduled`` condition: what ``kubectl describe pod`` shows under Conditions.

Upstream splits the work between two parties. When no node fits, the scheduler sets
``PodScheduled=False`` with reason ``Unschedulable`` and the ``FitError`` text as message, by a
strategic-merge patch of the pod's status (reason ``SchedulerError`` when something failed on
the way, such as a refused binding, rather than a verdict) — and only when that changes
something, so a pod retried every few seconds does not rewrite itself each time. When the
scheduler binds the pod,
the API server's ``pods/binding`` sets ``PodScheduled=True`` in the same write that sets
``spec.nodeName`` (see ``apiserver/subresources.py``).

``lastTransitionTime`` moves only when the status flips (False → True), as upstream's
``UpdatePodCondition`` keeps it when only the message changes; ``lastProbeTime`` stays null.
"""

from __future__ import annotations

import datetime
from typing import Any

Object = dict[str, Any]
TYPE = "PodScheduled"
REASON_UNSCHEDULABLE = "Unschedulable"  # no node fits (a FitError)
REASON_ERROR = "SchedulerError"  # something failed on the way (a binding refused)


def now() -> str:
    moment = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def pod_scheduled(pod: Object) -> Object | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == TYPE:
            return condition  # type: ignore[no-any-return]
    return None


def unschedulable_patch(
    pod: Object,
    message: str,
    *,
    reason: str = REASON_UNSCHEDULABLE,
    timestamp: str | None = None,
) -> Object | None:
    """The status patch that marks ``pod`` unschedulable, or None if it already says so."""
    old = pod_scheduled(pod)
    if (
        old is not None
        and old.get("status") == "False"
        and old.get("reason") == reason
        and old.get("message") == message
    ):
        return None
    if old is not None and old.get("status") == "False" and old.get("lastTransitionTime"):
        since = old["lastTransitionTime"]
    else:
        since = timestamp or now()
    condition = {
        "type": TYPE,
        "status": "False",
        "reason": reason,
        "message": message,
        "lastProbeTime": None,
        "lastTransitionTime": since,
    }
    return {"status": {"conditions": [condition]}}
