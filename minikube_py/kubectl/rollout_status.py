"""``kubectl rollout status``: watch a rollout until it is complete, in kubectl's words.

``status`` watches the object (one list, then a watch on ``metadata.name``) and prints
kubectl's progress line at every change until the rollout is complete (``deployment "web"
successfully rolled out``), the ``--timeout`` passes (``timed out waiting for the
condition``), or — with ``-w=false`` — after the first look. The same line may come twice:
kubectl prints one per event, not one per change of the line.

The lines are computed from the object alone, as kubectl's status viewers do: the
controller's ``observedGeneration`` must have caught up with ``generation``, then the updated,
available and ready counts are compared with the desired replicas.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from minikube_py.api.errors import ApiError
from minikube_py.client.discovery import Resource
from minikube_py.client.protocol import Object
from minikube_py.kubectl import rollout_history
from minikube_py.kubectl.cmd_logs import FlagError, go_duration
from minikube_py.kubectl.session import KubectlError, Session


def deployment_status(obj: Object, revision: int = 0) -> tuple[str, bool]:
    """kubectl's line for a Deployment, and whether its rollout is complete."""
    name, spec, status = _parts(obj)
    if revision > 0:
        current = rollout_history.revision_of(obj)
        if current != revision:
            raise KubectlError(
                f"desired revision ({revision}) is different from the running revision ({current})"
            )
    if _generation(obj) > int(status.get("observedGeneration") or 0):
        return "Waiting for deployment spec update to be observed...\n", False
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") == (
            "ProgressDeadlineExceeded"
        ):
            raise KubectlError(f'deployment "{name}" exceeded its progress deadline')
    wanted = spec.get("replicas")
    updated = int(status.get("updatedReplicas") or 0)
    current_total = int(status.get("replicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    waiting = f'Waiting for deployment "{name}" rollout to finish: '
    if wanted is not None and updated < int(wanted):
        return f"{waiting}{updated} out of {wanted} new replicas have been updated...\n", False
    if current_total > updated:
        return (
            f"{waiting}{current_total - updated} old replicas are pending termination...\n",
            False,
        )
    if available < updated:
        return f"{waiting}{available} of {updated} updated replicas are available...\n", False
    return f'deployment "{name}" successfully rolled out\n', True


def daemon_set_status(obj: Object, revision: int = 0) -> tuple[str, bool]:
    """kubectl's line for a DaemonSet (revisions are not checked, as upstream)."""
    name, spec, status = _parts(obj)
    if (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") != "RollingUpdate":
        raise KubectlError("rollout status is only available for RollingUpdate strategy type")
    if _generation(obj) > int(status.get("observedGeneration") or 0):
        return "Waiting for daemon set spec update to be observed...\n", False
    desired = int(status.get("desiredNumberScheduled") or 0)
    updated = int(status.get("updatedNumberScheduled") or 0)
    available = int(status.get("numberAvailable") or 0)
    waiting = f'Waiting for daemon set "{name}" rollout to finish: '
    if updated < desired:
        return f"{waiting}{updated} out of {desired} new pods have been updated...\n", False
    if available < desired:
        return f"{waiting}{available} of {desired} updated pods are available...\n", False
    return f'daemon set "{name}" successfully rolled out\n', True


def stateful_set_status(obj: Object, revision: int = 0) -> tuple[str, bool]:
    """kubectl's line for a StatefulSet."""
    _, spec, status = _parts(obj)
    strategy = spec.get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        raise KubectlError("rollout status is only available for RollingUpdate strategy type")
    observed = int(status.get("observedGeneration") or 0)
    if observed == 0 or _generation(obj) > observed:
        return "Waiting for statefulset spec update to be observed...\n", False
    wanted = spec.get("replicas")
    ready = int(status.get("readyReplicas") or 0)
    if wanted is not None and ready < int(wanted):
        return f"Waiting for {int(wanted) - ready} pods to be ready...\n", False
    updated = int(status.get("updatedReplicas") or 0)
    rolling = strategy.get("rollingUpdate")
    if rolling is not None:
        partition = rolling.get("partition")
        if wanted is not None and partition is not None and updated < int(wanted) - partition:
            return (
                "Waiting for partitioned roll out to finish: "
                f"{updated} out of {int(wanted) - partition} new pods have been updated...\n"
            ), False
        return f"partitioned roll out complete: {updated} new pods have been updated...\n", True
    update_revision = status.get("updateRevision", "")
    if update_revision != status.get("currentRevision", ""):
        return (
            f"waiting for statefulset rolling update to complete {updated} pods at revision "
            f"{update_revision}...\n"
        ), False
    return (
        f"statefulset rolling update complete {int(status.get('currentReplicas') or 0)} pods "
        f"at revision {status.get('currentRevision', '')}...\n"
    ), True


Viewer = Callable[[Object, int], tuple[str, bool]]
_VIEWERS: dict[tuple[str, str], Viewer] = {
    ("apps", "Deployment"): deployment_status,
    ("apps", "DaemonSet"): daemon_set_status,
    ("apps", "StatefulSet"): stateful_set_status,
}


def _parts(obj: Object) -> tuple[str, dict[str, Any], dict[str, Any]]:
    return obj["metadata"]["name"], obj.get("spec") or {}, obj.get("status") or {}


def _generation(obj: Object) -> int:
    return int(obj["metadata"].get("generation") or 0)


def _kind_text(resource: Resource) -> str:
    """``Deployment.apps``, ``Pod``: how Go prints a GroupKind."""
    group = resource.gvr.group
    return f"{resource.kind}.{group}" if group else resource.kind


async def run_status(session: Session, args: argparse.Namespace) -> int:
    try:
        timeout = go_duration(args.timeout, "--timeout")
    except FlagError as error:
        session.err.write(f"Error: {error}\nSee 'kubectl rollout status --help' for usage.\n")
        return 1
    watch = args.watch.lower() in ("true", "1", "t")
    for resource, obj in await rollout_history.targets(session, args.words):
        viewer = _VIEWERS.get((resource.gvr.group, resource.kind))
        if viewer is None:
            raise KubectlError(f"no status viewer has been implemented for {_kind_text(resource)}")
        try:
            async with asyncio.timeout(timeout if timeout > 0 else None):
                await _follow(session, resource, obj, viewer, args.revision, watch)
        except TimeoutError:
            raise KubectlError("timed out waiting for the condition") from None
    return 0


async def _follow(
    session: Session, resource: Resource, obj: Object, viewer: Viewer, revision: int, watch: bool
) -> None:
    """Print the viewer's line for the object now and at every change, until it is done."""
    name = obj["metadata"]["name"]
    namespace = session.namespace_of(resource)
    version = ""  # none yet: list first
    while True:
        if not version:
            listed = await session.client.list(
                resource.gvr, namespace, field_selector=f"metadata.name={name}"
            )
            version = str((listed.get("metadata") or {}).get("resourceVersion") or "0")
            for item in listed.get("items") or []:
                if _show(session, viewer(item, revision)) or not watch:
                    return
        events = session.client.watch(
            resource.gvr,
            namespace,
            resource_version=version,
            field_selector=f"metadata.name={name}",
            timeout_seconds=300,
        )
        try:
            async with contextlib.aclosing(events) as stream:
                async for kind, item in stream:
                    version = str(item["metadata"].get("resourceVersion") or version)
                    if kind == "DELETED":
                        raise KubectlError("object has been deleted")
                    if kind in ("ADDED", "MODIFIED") and (
                        _show(session, viewer(item, revision)) or not watch
                    ):
                        return
        except ApiError as error:
            if error.code != 410:
                raise
            version = ""  # too old to watch from: list again
        # the server ended the watch (its timeout): watch on from the last version seen


def _show(session: Session, verdict: tuple[str, bool]) -> bool:
    message, done = verdict
    session.write(message)
    session.out.flush()
    return done
