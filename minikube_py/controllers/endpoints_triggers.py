"""When did an endpoints change begin? The ``last-change-trigger-time`` annotation.

Each Endpoints and EndpointSlice the controllers write carries the annotation
``endpoints.kubernetes.io/last-change-trigger-time``: the moment of the earliest change that
this write publishes — a pod becoming ready (its ``Ready`` condition's
``lastTransitionTime``) or the Service being made (its ``creationTimestamp``). The service
proxy can then measure how long a change took to reach it (upstream's network programming
latency).

``TriggerTimeTracker`` (upstream's ``TriggerTimeTracker`` in ``k8s.io/endpointslice/util``)
remembers, per Service, the trigger times it saw at the last sync; a sync's trigger time is
the earliest one that is newer than what it remembered, or none when nothing new happened —
the writer then drops the annotation. It is updated on every sync, written or not.
"""

from __future__ import annotations

import datetime

from minikube_py.client.protocol import Object

LAST_CHANGE_TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"

Moment = datetime.datetime


def parse_time(text: object) -> Moment | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def format_time(moment: Moment) -> str:
    """Go's RFC3339Nano in UTC: fractional seconds only if any, without trailing zeros."""
    moment = moment.astimezone(datetime.UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def pod_trigger_time(pod: Object) -> Moment | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return parse_time(condition.get("lastTransitionTime"))
    return None


class TriggerTimeTracker:
    """Per Service key: the service's and each pod's last trigger time seen by a sync."""

    def __init__(self) -> None:
        self._states: dict[str, tuple[Moment | None, dict[str, Moment]]] = {}

    def compute(self, key: str, service: Object, pods: list[Object]) -> Moment | None:
        """The earliest trigger newer than the last sync's (``None``: nothing new); and
        remember this sync's triggers."""
        known = self._states.get(key)
        previous_service, previous_pods = known if known is not None else (None, {})
        triggers: list[Moment] = []
        service_time = parse_time((service.get("metadata") or {}).get("creationTimestamp"))
        if service_time is not None and (
            known is None or previous_service is None or previous_service < service_time
        ):
            triggers.append(service_time)
        pod_times: dict[str, Moment] = {}
        for pod in pods:
            moment = pod_trigger_time(pod)
            if moment is None:
                continue
            name = str((pod.get("metadata") or {}).get("name"))
            pod_times[name] = moment
            before = previous_pods.get(name)
            if before is None or moment > before:
                triggers.append(moment)
        self._states[key] = (service_time, pod_times)
        return min(triggers) if triggers else None

    def forget(self, key: str) -> None:
        """The Service is gone."""
        self._states.pop(key, None)
