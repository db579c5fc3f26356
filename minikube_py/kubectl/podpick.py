"""Which pod, and which container of it, a command about ``TYPE/NAME`` talks to.

``kubectl logs deployment/web`` and ``kubectl exec deploy/web -- sh`` name a workload, not a
pod: kubectl reads the workload's label selector, lists the pods it matches and takes the
*best* one. What "best" means depends on the command: for logs, a pod that is scheduled,
running, ready for the longest time and has restarted the most (its logs tell the most); for
exec and attach, the same but with the fewest restarts. When several pods match, ``logs`` says
which it took (``Found 2 pods, using pod/web-7946c6559d-j7tkt``).

Then the container: ``-c`` names it, else the pod's ``kubectl.kubernetes.io/default-container``
annotation, else the first container — with a line on standard error when the pod has more
than one to choose from: ``Defaulted container "a" out of: a, b``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from minikube_py.client.protocol import GVR, Object
from minikube_py.kubectl.session import KubectlError, Session

PODS = GVR("", "v1", "pods")
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"
_FAR = datetime.max.isoformat()  # a missing time sorts after every real one


def selector_string(selector: Object | None) -> str:
    """A ``LabelSelector`` as a query string (``app=web,tier in (a,b)``), sorted by key as
    apimachinery writes it."""
    parts: list[tuple[str, str]] = []
    for key, value in ((selector or {}).get("matchLabels") or {}).items():
        parts.append((key, f"{key}={value}"))
    for expression in (selector or {}).get("matchExpressions") or []:
        key, operator = expression.get("key", ""), expression.get("operator", "")
        values = ",".join(sorted(expression.get("values") or []))
        text = {
            "In": f"{key} in ({values})",
            "NotIn": f"{key} notin ({values})",
            "Exists": key,
            "DoesNotExist": f"!{key}",
        }.get(operator, key)
        parts.append((key, text))
    return ",".join(text for _, text in sorted(parts, key=lambda part: part[0]))


def workload_selector(obj: Object, purpose: str = "cannot get the logs from") -> str:
    """The pod selector of a workload (Deployment, ReplicaSet, Job …) or of a Service; an
    error names the ``purpose`` it failed (``cannot attach to *v1.Service: …``)."""
    kind, spec = obj.get("kind", ""), obj.get("spec") or {}
    if kind in ("Service", "ReplicationController"):
        plain = spec.get("selector") or {}
        if plain:
            return selector_string({"matchLabels": plain})
        name = (obj.get("metadata") or {}).get("name", "")
        why = f"invalid service '{name}': Service is defined without a selector"
    elif kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"):
        return selector_string(spec.get("selector"))
    else:
        why = f"selector for *v1.{kind} not implemented"
    raise KubectlError(f"{purpose} *v1.{kind}: {why}")


def _ready_since(pod: Object) -> str | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            return str(condition.get("lastTransitionTime") or "") or None
    return None


def _restarts(pod: Object) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return max((int(status.get("restartCount") or 0) for status in statuses), default=0)


def _common_key(pod: Object) -> tuple[bool, int, bool, str]:
    # scheduled first, then Running < Unknown < Pending < anything else, ready first, and among
    # ready pods the one ready the longest (RFC 3339 strings in UTC sort as times)
    phase = (pod.get("status") or {}).get("phase")
    ready_since = _ready_since(pod)
    return (
        not (pod.get("spec") or {}).get("nodeName"),
        {"Running": 0, "Unknown": 1, "Pending": 2}.get(str(phase), 3),
        ready_since is None,
        ready_since or _FAR,
    )


def _created(pod: Object) -> str:
    return str((pod.get("metadata") or {}).get("creationTimestamp") or _FAR)


def for_logging(pod: Object) -> tuple[Any, ...]:
    """Sort key: the pod whose logs say the most first (upstream's ``ByLogging``)."""
    return (*_common_key(pod), -_restarts(pod), _created(pod))


def for_attaching(pod: Object) -> tuple[Any, ...]:
    """Sort key: the healthiest pod first (upstream's reversed ``ActivePods``)."""
    return (*_common_key(pod), _restarts(pod), _created(pod))


async def pods_of(
    session: Session,
    namespace: str,
    selector: str,
    order: Callable[[Object], Any],
    *,
    wait: float = 0.0,
) -> list[Object]:
    """The pods ``selector`` matches in ``namespace``, best first. With none yet, wait up to
    ``wait`` seconds for the first (kubectl's ``--pod-running-timeout``)."""
    listed = await session.get_json(PODS.path(namespace), {"labelSelector": selector})
    pods = sorted(listed.get("items") or [], key=order)
    if pods or wait <= 0:
        return pods
    version = str((listed.get("metadata") or {}).get("resourceVersion") or "")
    try:
        async with asyncio.timeout(wait):
            watch = session.client.watch(
                PODS, namespace, resource_version=version, label_selector=selector
            )
            async with contextlib.aclosing(watch) as events:
                async for kind, pod in events:
                    if kind in ("ADDED", "MODIFIED"):
                        return [pod]
    except TimeoutError:
        pass
    raise KubectlError("timed out waiting for the condition")


async def resolve_target(
    session: Session,
    word: str,
    order: Callable[[Object], Any],
    *,
    announce: bool,
    wait: float = 0.0,
    purpose: str = "cannot get the logs from",
) -> Object:
    """The pod ``word`` names: ``web`` or ``pod/web`` as it is, ``deployment/web`` its best
    pod (``announce``: say which, when there were several; ``wait``: how long to wait for a
    first pod). Errors as ``ApiError``."""
    kind_word, _, name = word.rpartition("/")
    if not kind_word:
        return await session.get_json(PODS.path(session.namespace, name))
    resource = await session.resource(kind_word)
    namespace = session.namespace_of(resource)
    obj = await session.get_json(resource.gvr.path(namespace, name))
    if resource.kind == "Pod" and resource.gvr.group == "":
        return obj
    selector = workload_selector(obj, purpose)
    pods = await pods_of(session, session.namespace, selector, order, wait=wait)
    if announce and len(pods) > 1:
        session.err.write(f"Found {len(pods)} pods, using pod/{pods[0]['metadata']['name']}\n")
    return pods[0]


def containers(pod: Object, field: str = "containers") -> list[Object]:
    return list((pod.get("spec") or {}).get(field) or [])


def all_container_names(pod: Object) -> str:
    """``a, b, debug (ephem), setup (init)``: how kubectl lists a pod's containers."""
    names = [c.get("name", "") for c in containers(pod)]
    names += [f"{c.get('name', '')} (ephem)" for c in containers(pod, "ephemeralContainers")]
    names += [f"{c.get('name', '')} (init)" for c in containers(pod, "initContainers")]
    return ", ".join(names)


def has_container(pod: Object, name: str) -> bool:
    fields = ("containers", "initContainers", "ephemeralContainers")
    return any(c.get("name") == name for field in fields for c in containers(pod, field))


def default_container(session: Session, pod: Object, *, quiet: bool = False) -> str:
    """The container a command without ``-c`` means; says so on stderr when there was a
    choice (unless ``quiet``, as ``kubectl logs -l`` is)."""
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    preferred = annotations.get(DEFAULT_CONTAINER_ANNOTATION, "")
    if preferred and has_container(pod, preferred):
        return str(preferred)
    main = containers(pod)
    if not main:
        metadata = pod.get("metadata") or {}
        name = f"{metadata.get('namespace', '')}/{metadata.get('name', '')}"
        raise KubectlError(f"pod {name} does not have any containers")
    several = (
        len(main) > 1 or containers(pod, "initContainers") or containers(pod, "ephemeralContainers")
    )
    chosen = str(main[0].get("name", ""))
    if several and not quiet:
        session.err.write(f'Defaulted container "{chosen}" out of: {all_container_names(pod)}\n')
    return chosen
