"""Making, removing and releasing a Job's pods.

Each pod is made from the Job's template (``podcontrol.pod_from_template``: the template's
labels — which the API server already filled with ``batch.kubernetes.io/controller-uid``,
``batch.kubernetes.io/job-name`` and their legacy twins — an ownerReference naming the Job as
controller) plus the ``batch.kubernetes.io/job-tracking`` finalizer, so the pod stays until the
controller has counted it. Creation goes in slow-start batches (1, 2, 4 …, stopping after a
batch with a failure), as upstream's ``manageJob``.

Deleting pods comes in two flavours, as upstream: pods the Job no longer wants (too many, or a
suspended Job) lose the finalizer first, so they go without being counted as failures; pods of
a Job that has failed keep it until ``job_tracking`` counts them. Removing the finalizer is a
strategic-merge ``$deleteFromPrimitiveList`` patch, which leaves other finalizers alone.
Events are upstream's: ``SuccessfulCreate`` / ``FailedCreate`` / ``SuccessfulDelete`` /
``FailedDelete``.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Sequence
from typing import Any

from minikube_py.client.events import EventRecorder
from minikube_py.client.protocol import JOBS, PODS, ApiError, Client
from minikube_py.controllers.job_util import TRACKING_FINALIZER, has_tracking_finalizer, meta
from minikube_py.controllers.podcontrol import (
    ControllerKind,
    namespace_terminating,
    pod_from_template,
)
from minikube_py.controllers.ranking import is_ready
from minikube_py.logs import get_logger

Object = dict[str, Any]
JOB = ControllerKind(JOBS, "Job")
_REMOVE_FINALIZER = {"metadata": {"$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER]}}
_log = get_logger("controllers.job")


def with_kind(job: Object) -> Object:
    return {**job, "apiVersion": JOB.api_version, "kind": JOB.kind}


class JobPods:
    """Creates, deletes and un-finalizes one controller's Job pods, with Events on the Job."""

    def __init__(self, client: Client, recorder: EventRecorder) -> None:
        self.client = client
        self.recorder = recorder

    async def create(
        self, job: Object, templates: Sequence[tuple[Object, str | None]]
    ) -> tuple[int, Exception | None]:
        """Create one pod per (template, generateName) in slow-start batches; (how many were
        created or need not be, the first error)."""
        done, position, batch = 0, 0, 1
        while position < len(templates):
            chunk = templates[position : position + batch]
            errors = await asyncio.gather(*(self._create(job, t, name) for t, name in chunk))
            failures = [error for error in errors if error is not None]
            done += len(chunk) - len(failures)
            if failures:
                return done, failures[0]
            position += len(chunk)
            batch *= 2
        return done, None

    async def _create(
        self, job: Object, template: Object, generate_name: str | None
    ) -> Exception | None:
        template = copy.deepcopy(template)
        finalizers = template.setdefault("metadata", {}).setdefault("finalizers", [])
        if TRACKING_FINALIZER not in finalizers:
            finalizers.append(TRACKING_FINALIZER)
        pod = pod_from_template(template, job, controller_kind=JOB)
        if generate_name:
            pod["metadata"]["generateName"] = generate_name
        namespace, subject = meta(job)["namespace"], with_kind(job)
        try:
            made = await self.client.create(PODS, namespace, pod)
        except Exception as error:
            if namespace_terminating(error):
                return None
            await self.recorder.record(
                subject, reason="FailedCreate", message=f"Error creating: {error}", warning=True
            )
            return error
        name = made["metadata"]["name"]
        _log.info("created pod", key=f"{namespace}/{meta(job)['name']}", pod=name)
        await self.recorder.record(
            subject, reason="SuccessfulCreate", message=f"Created pod: {name}"
        )
        return None

    async def delete(
        self, job: Object, pods: Sequence[Object], *, drop_finalizer: bool
    ) -> tuple[int, int, Exception | None, list[Object]]:
        """Delete ``pods`` (first dropping the tracking finalizer if asked); (deleted, of them
        ready, the first error, the pods not deleted)."""
        results = await asyncio.gather(*(self._delete(job, p, drop_finalizer) for p in pods))
        # a pod already gone counts as deleted, but its deletion will never be observed
        paired = list(zip(pods, results, strict=True))
        deleted = [pod for pod, error in paired if error is None or _not_found(error)]
        missed = [pod for pod, error in paired if error is not None]
        errors = [e for e in results if e is not None and not _not_found(e)]
        ready = sum(1 for pod in deleted if is_ready(pod))
        return len(deleted), ready, errors[0] if errors else None, missed

    async def _delete(self, job: Object, pod: Object, drop_finalizer: bool) -> Exception | None:
        namespace, name = meta(pod).get("namespace") or "", meta(pod).get("name") or ""
        try:
            if drop_finalizer and has_tracking_finalizer(pod):
                await self.remove_finalizer(pod)
            await self.client.delete(PODS, namespace, name)
        except Exception as error:
            if not _not_found(error):
                await self.recorder.record(
                    with_kind(job),
                    reason="FailedDelete",
                    message=f"Error deleting: {error}",
                    warning=True,
                )
            return error
        await self.recorder.record(
            with_kind(job), reason="SuccessfulDelete", message=f"Deleted pod: {name}"
        )
        return None

    async def remove_finalizer(self, pod: Object) -> None:
        namespace, name = meta(pod).get("namespace") or "", meta(pod).get("name") or ""
        await self.client.patch(PODS, namespace, name, _REMOVE_FINALIZER, patch_type="strategic")

    async def remove_finalizers(
        self, pods: Sequence[Object]
    ) -> tuple[list[bool], Exception | None]:
        """Drop the tracking finalizer of each pod; per pod whether it is gone (a pod already
        deleted counts as done), and the first error."""

        async def one(pod: Object) -> Exception | None:
            try:
                await self.remove_finalizer(pod)
            except Exception as error:
                return None if _not_found(error) else error
            return None

        results = await asyncio.gather(*(one(pod) for pod in pods))
        errors = [error for error in results if error is not None]
        return [error is None for error in results], errors[0] if errors else None


def _not_found(error: Exception) -> bool:
    return isinstance(error, ApiError) and error.code == 404
