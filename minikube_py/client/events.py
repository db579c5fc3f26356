"""Recording Kubernetes Events: how components tell users what they decided and why.

An Event is an ordinary core/v1 object in the namespace of the object it is about
(``involvedObject``): ``kubectl describe`` lists those of the object it shows, ``kubectl get
events`` all of them. Upstream components write them through client-go's event recorder, which
this module follows in small:

- ``source.component`` names who spoke (``default-scheduler``, ``kubelet``, …) and
  ``source.host`` the node for a kubelet; the newer ``reporting*`` fields say the same.
- Events are *aggregated*: the same reason and message about the same object again within
  ten minutes bumps ``count`` and ``lastTimestamp`` of the first Event instead of creating
  another, which is how ``kubectl describe`` shows ``Back-off restarting failed container
  (x5 over 2m)``.
- Recording never fails the caller: an Event is advice, and a component must go on deciding
  even when the API refuses it (for example while a namespace is being deleted).
"""

from __future__ import annotations

import time
from typing import Any

from minikube_py.api.stamps import now_rfc3339
from minikube_py.client.protocol import EVENTS, Client
from minikube_py.logs import get_logger

Object = dict[str, Any]
AGGREGATION_WINDOW = 600.0  # seconds, as client-go's event correlator
_MAX_REMEMBERED = 4096  # aggregation keys kept; the oldest are forgotten first


def _reference(obj: Object) -> Object:
    meta = obj.get("metadata") or {}
    reference = {
        "apiVersion": obj.get("apiVersion", "v1"),
        "kind": obj.get("kind", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    if meta.get("namespace"):
        reference["namespace"] = meta["namespace"]
    return reference


class EventRecorder:
    """Writes Events for one component (and node, for a kubelet) through ``client``."""

    def __init__(self, client: Client, component: str, *, host: str | None = None) -> None:
        self.client = client
        self.component = component
        self.host = host
        # (uid, reason, message, type, field path) → (namespace, event name, count, first seen)
        self._seen: dict[tuple[str, ...], tuple[str, str, int, float]] = {}
        self._log = get_logger("events").bind(source=component)

    def event(
        self,
        obj: Object,
        *,
        reason: str,
        message: str,
        warning: bool = False,
        action: str = "",
        field_path: str = "",
    ) -> Object:
        """A new core/v1 Event about ``obj``, named ``<name>.<hex>`` as client-go names them
        (the hex of the current Unix time in nanoseconds: unique enough, and no syscall)."""
        involved = _reference(obj)
        if field_path:
            involved["fieldPath"] = field_path
        namespace = involved.get("namespace") or "default"
        source = {"component": self.component}
        if self.host:
            source["host"] = self.host
        now = now_rfc3339()
        return {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{involved['name']}.{time.time_ns():x}",
                "namespace": namespace,
            },
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "type": "Warning" if warning else "Normal",
            "source": source,
            "reportingComponent": self.component,
            "reportingInstance": self.host or self.component,
            "action": action,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "eventTime": None,
            "count": 1,
        }

    async def record(
        self,
        obj: Object,
        *,
        reason: str,
        message: str,
        warning: bool = False,
        action: str = "",
        field_path: str = "",
    ) -> None:
        """Record (or aggregate into an earlier) Event about ``obj``; never raises."""
        meta = obj.get("metadata") or {}
        kind = "Warning" if warning else "Normal"
        key = (str(meta.get("uid") or meta.get("name")), reason, message, kind, field_path)
        self._log.info(
            reason, object=f"{meta.get('namespace', '')}/{meta.get('name', '')}", message=message
        )
        try:
            seen = self._seen.get(key)
            if seen is not None and time.monotonic() - seen[3] < AGGREGATION_WINDOW:
                namespace, name, count, first = seen
                await self.client.patch(
                    EVENTS, namespace, name, {"count": count + 1, "lastTimestamp": now_rfc3339()}
                )
                self._seen[key] = (namespace, name, count + 1, first)
                return
            event = self.event(
                obj,
                reason=reason,
                message=message,
                warning=warning,
                action=action,
                field_path=field_path,
            )
            namespace = event["metadata"]["namespace"]
            await self.client.create(EVENTS, namespace, event)
            if len(self._seen) >= _MAX_REMEMBERED:
                self._seen.pop(next(iter(self._seen)))
            self._seen[key] = (namespace, event["metadata"]["name"], 1, time.monotonic())
        except Exception as error:  # an Event is advice, never a failure
            self._seen.pop(key, None)
            self._log.warning("event not recorded", reason=reason, error=str(error))
