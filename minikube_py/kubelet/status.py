"""Pod status: what the kubelet reports about a pod, computed from what it knows.

``kubectl get pods`` and ``describe`` read everything from ``pod.status``, which only the
node's kubelet writes. This module builds that status as upstream's
``generateAPIPodStatus`` does, from the spec, the kubelet's view of each container
(``ContainerView``: waiting with a reason, running since, or terminated with an exit code) and
the pod's addresses:

- ``phase``: Pending while an init container has not succeeded or an app container waits for
  its first start; Running while a container runs (or will be restarted); Succeeded when all
  ended with 0 and none will restart; Failed when one failed for good.
- ``conditions``: PodReadyToStartContainers (the sandbox exists), Initialized (all init
  containers succeeded), ContainersReady and Ready (every app container ready), and the
  scheduler's PodScheduled; with upstream's reasons and messages, and a ``lastTransitionTime``
  that only moves when the status does.
- ``containerStatuses`` / ``initContainerStatuses``: state and lastState, ready, started,
  restartCount, image, imageID, containerID (``minikube-py://<id>``).
- ``qosClass``: Guaranteed, Burstable or BestEffort from requests and limits.

Every function here is pure: the pod worker calls them and writes the result when it changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any, Literal

import attrs

from minikube_py.api.quantities import QuantityError, parse_quantity
from minikube_py.api.stamps import rfc3339

Object = dict[str, Any]
CONTAINER_ID_PREFIX = "minikube-py://"
OWN_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady")


@attrs.frozen
class Terminated:
    """One ended run of a container."""

    exit_code: int
    reason: str
    started_at: float | None
    finished_at: float | None
    container_id: str = ""
    signal: int | None = None
    message: str | None = None


@attrs.frozen
class ContainerView:
    """What the kubelet knows of one container of the pod, in the terms of its status."""

    name: str
    image: str
    state: Literal["waiting", "running", "terminated"] = "waiting"
    reason: str = "ContainerCreating"  # when waiting
    message: str = ""  # when waiting
    started_at: float | None = None  # when running
    terminated: Terminated | None = None  # when terminated
    last: Terminated | None = None  # the run before (lastState)
    image_id: str = ""
    container_id: str = ""  # the runtime's id of the current (or latest) container
    ready: bool = False
    started: bool = False
    restart_count: int = 0
    sidecar: bool = False  # an init container with restartPolicy Always: runs beside the app

    @property
    def succeeded(self) -> bool:
        return self.terminated is not None and self.terminated.exit_code == 0

    @property
    def initialized(self) -> bool:
        """Done as an init container: exited 0, or for a sidecar, started."""
        return self.started if self.sidecar else self.succeeded


def _terminated(run: Terminated) -> Object:
    out: Object = {"exitCode": run.exit_code, "reason": run.reason}
    if run.signal:
        out["signal"] = run.signal
    if run.message:
        out["message"] = run.message
    out["startedAt"] = rfc3339(run.started_at) if run.started_at is not None else None
    out["finishedAt"] = rfc3339(run.finished_at) if run.finished_at is not None else None
    if run.container_id:
        out["containerID"] = CONTAINER_ID_PREFIX + run.container_id
    return out


def container_status(view: ContainerView) -> Object:
    """One entry of ``containerStatuses`` (or ``initContainerStatuses``)."""
    state: Object
    if view.state == "running":
        started = rfc3339(view.started_at) if view.started_at is not None else None
        state = {"running": {"startedAt": started}}
    elif view.state == "terminated" and view.terminated is not None:
        state = {"terminated": _terminated(view.terminated)}
    else:
        waiting: Object = {"reason": view.reason}
        if view.message:
            waiting["message"] = view.message
        state = {"waiting": waiting}
    out: Object = {
        "name": view.name,
        "state": state,
        "lastState": {"terminated": _terminated(view.last)} if view.last else {},
        "ready": view.ready,
        "restartCount": view.restart_count,
        "image": view.image,
        "imageID": view.image_id,
        "started": view.started,
    }
    if view.container_id:
        out["containerID"] = CONTAINER_ID_PREFIX + view.container_id
    return out


def _counts_as_stopped(view: ContainerView) -> bool:
    # A container waiting to be restarted has run before: upstream counts it as stopped.
    return view.state == "terminated" or (view.state == "waiting" and view.last is not None)


def _app_started(app: Sequence[ContainerView]) -> bool:
    """Whether an app container has run: from then on a sidecar restarting (or stopped at
    the end) no longer makes the pod initializing again, as upstream."""
    return any(v.state != "waiting" or v.last is not None for v in app)


def phase(pod: Object, init: Sequence[ContainerView], app: Sequence[ContainerView]) -> str:
    """The pod's phase, as upstream's ``getPhase``."""
    policy = (pod.get("spec") or {}).get("restartPolicy", "Always")
    for view in init:
        if view.initialized or (view.sidecar and _app_started(app)):
            continue
        if view.sidecar:
            return "Pending"
        failed = view.state == "terminated" or (view.state == "waiting" and view.last is not None)
        if failed and policy == "Never":
            return "Failed"
        return "Pending"
    running = waiting = stopped = succeeded = 0
    for view in app:
        if view.state == "running":
            running += 1
        elif _counts_as_stopped(view):
            stopped += 1
            succeeded += 1 if view.succeeded else 0
        else:
            waiting += 1
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if stopped:
        if policy == "Always":
            return "Running"  # every container is being restarted
        if stopped == succeeded:
            return "Succeeded"
        return "Failed" if policy == "Never" else "Running"  # OnFailure: restarting
    return "Pending"


def _condition(kind: str, ok: bool, reason: str = "", message: str = "") -> Object:
    out: Object = {"type": kind, "status": "True" if ok else "False", "lastProbeTime": None}
    if reason:
        out["reason"] = reason
    if message:
        out["message"] = message
    return out


def conditions(
    pod_phase: str,
    init: Sequence[ContainerView],
    app: Sequence[ContainerView],
    *,
    sandbox_ready: bool,
) -> list[Object]:
    """The kubelet's four conditions, in upstream's order, without transition times."""
    started = _app_started(app)
    incomplete = [v.name for v in init if not (v.initialized or (v.sidecar and started))]
    if not init or not incomplete:
        initialized = _condition("Initialized", True)
    elif pod_phase == "Succeeded":
        initialized = _condition("Initialized", True, "PodCompleted")
    else:
        message = f"containers with incomplete status: [{' '.join(incomplete)}]"
        initialized = _condition("Initialized", False, "ContainersNotInitialized", message)
    # sidecars count towards readiness; init containers that ran to completion do not
    unready = [v.name for v in init if v.sidecar and not v.ready]
    unready += [v.name for v in app if not v.ready]
    if pod_phase == "Succeeded":
        ready = [_condition(k, False, "PodCompleted") for k in ("Ready", "ContainersReady")]
    elif unready:
        message = f"containers with unready status: [{' '.join(unready)}]"
        ready = [
            _condition(k, False, "ContainersNotReady", message)
            for k in ("Ready", "ContainersReady")
        ]
    else:
        ready = [_condition(k, True) for k in ("Ready", "ContainersReady")]
    return [_condition("PodReadyToStartContainers", sandbox_ready), initialized, *ready]


def merge_conditions(previous: Sequence[Object], fresh: Sequence[Object], now: str) -> list[Object]:
    """``fresh`` with ``lastTransitionTime`` kept where the status did not change, plus the
    conditions others own (PodScheduled, DisruptionTarget, readiness gates) kept as they are."""
    before = {c.get("type"): c for c in previous}
    merged: list[Object] = []
    for condition in fresh:
        old = before.get(condition["type"])
        same = old is not None and old.get("status") == condition["status"]
        stamp = old.get("lastTransitionTime") if same and old is not None else now
        merged.append({**condition, "lastTransitionTime": stamp})
    kept = [c for c in previous if c.get("type") not in OWN_CONDITIONS]
    if not any(c.get("type") == "PodScheduled" for c in kept):
        kept.append({**_condition("PodScheduled", True), "lastTransitionTime": now})
    return merged + kept


def _amounts(resources: Object, field: str) -> dict[str, Fraction]:
    out: dict[str, Fraction] = {}
    for name, text in ((resources or {}).get(field) or {}).items():
        if name not in ("cpu", "memory"):
            continue
        try:
            amount = parse_quantity(text)
        except QuantityError:
            continue
        if amount != 0:
            out[name] = amount
    return out


def qos_class(pod: Object) -> str:
    """Guaranteed, Burstable or BestEffort, by upstream's ``GetPodQOS`` rules."""
    spec = pod.get("spec") or {}
    requests: dict[str, Fraction] = {}
    limits: dict[str, Fraction] = {}
    guaranteed = True
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        resources = container.get("resources") or {}
        for name, amount in _amounts(resources, "requests").items():
            requests[name] = requests.get(name, Fraction(0)) + amount
        container_limits = _amounts(resources, "limits")
        for name, amount in container_limits.items():
            limits[name] = limits.get(name, Fraction(0)) + amount
        if not {"cpu", "memory"} <= container_limits.keys():
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and all(limits.get(name) == amount for name, amount in requests.items()):
        # requests default to limits, so a request left out equals its limit
        return "Guaranteed"
    return "Burstable"


def pod_status(
    pod: Object,
    init: Sequence[ContainerView],
    app: Sequence[ContainerView],
    *,
    pod_ip: str | None,
    host_ip: str,
    start_time: float | None,
    sandbox_ready: bool,
    now: float,
    phase_override: tuple[str, str, str] | None = None,
) -> Object:
    """The whole ``status`` to write; ``phase_override`` is ``(phase, reason, message)`` for
    decisions that are not the containers' (rejected at admission, deadline exceeded)."""
    previous = pod.get("status") or {}
    pod_phase = phase_override[0] if phase_override else phase(pod, init, app)
    fresh = conditions(pod_phase, init, app, sandbox_ready=sandbox_ready)
    status: Object = {
        "phase": pod_phase,
        "conditions": merge_conditions(previous.get("conditions") or [], fresh, rfc3339(now)),
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
    }
    if phase_override and phase_override[1]:
        status["reason"] = phase_override[1]
        status["message"] = phase_override[2]
    if pod_ip:
        status["podIP"] = pod_ip
        status["podIPs"] = [{"ip": pod_ip}]
    if start_time is not None:
        status["startTime"] = rfc3339(start_time)
    if init:
        status["initContainerStatuses"] = [container_status(v) for v in init]
    status["containerStatuses"] = [container_status(v) for v in app]
    status["qosClass"] = qos_class(pod)
    return status
