"""The scheduler's Events: what ``kubectl describe pod`` shows about its placement.

Upstream's scheduler records ``Scheduled`` (Normal, "Successfully assigned default/web to
minikube-m02") when it binds a pod and ``FailedScheduling`` (Warning, the ``FitError`` text)
when no node fits, from the component ``default-scheduler``. Events here are core/v1 objects
in the pod's namespace, with ``source.component`` and the newer ``reporting*`` fields both set,
so ``kubectl get events`` and ``kubectl events`` both show who spoke.
"""

from __future__ import annotations

import datetime
import secrets
from typing import Any

Object = dict[str, Any]
COMPONENT = "default-scheduler"


def _now() -> str:
    moment = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def pod_event(pod: Object, *, reason: str, message: str, warning: bool = False) -> Object:
    """A core/v1 Event about ``pod``, named ``<pod>.<random hex>`` as client-go names them."""
    meta = pod["metadata"]
    namespace = meta.get("namespace", "default")
    now = _now()
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{meta['name']}.{secrets.token_hex(8)}", "namespace": namespace},
        "involvedObject": {
            "apiVersion": "v1",
            "kind": "Pod",
            "namespace": namespace,
            "name": meta["name"],
            "uid": meta.get("uid", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        },
        "reason": reason,
        "message": message,
        "type": "Warning" if warning else "Normal",
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": COMPONENT,
        "action": "Scheduling" if warning else "Binding",
        "firstTimestamp": now,
        "lastTimestamp": now,
        "eventTime": None,
        "count": 1,
    }


def scheduled(pod: Object, node: str) -> Object:
    meta = pod["metadata"]
    text = f"Successfully assigned {meta.get('namespace', 'default')}/{meta['name']} to {node}"
    return pod_event(pod, reason="Scheduled", message=text)


def failed_scheduling(pod: Object, message: str) -> Object:
    return pod_event(pod, reason="FailedScheduling", message=message, warning=True)
