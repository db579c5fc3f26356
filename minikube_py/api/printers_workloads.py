"""Printer columns of the workload kinds: deployments, replica sets, jobs and their kin.

A workload's row compares what was asked for with what exists: a deployment's READY is
``ready/desired``, UP-TO-DATE and AVAILABLE come from its status; a job's COMPLETIONS is
``succeeded/completions`` and its DURATION runs from ``startTime`` to ``completionTime`` (or to
now while it runs). The ``-o wide`` columns name the template's containers and images and the
selector, in upstream's formats (``app=web``, ``tier in (a,b)``).
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.printers import (
    AGE,
    NAME,
    Obj,
    condition,
    container_cells,
    current_time,
    dig,
    format_labels,
    format_selector,
    human_duration,
    integer,
    items,
    parse_time,
    selector_string,
    since,
    template_containers,
    text,
)
from minikube_py.api.resources import CellFunction, Column

CONTAINERS_DOC = "Names of each container in the template."
IMAGES_DOC = "Images referenced by each container in the template."


def _desired(obj: Obj) -> int:
    # The API defaults replicas to 1; objects stored without defaulting mean the same.
    return integer(obj, "spec", "replicas", default=1)


def _status(field: str) -> CellFunction:
    return lambda obj: integer(obj, "status", field)


def _containers(*prefix: str) -> CellFunction:
    return lambda obj: container_cells(template_containers(obj, *prefix))[0]


def _images(*prefix: str) -> CellFunction:
    return lambda obj: container_cells(template_containers(obj, *prefix))[1]


def _wide(*prefix: str, selector: CellFunction | None = None) -> tuple[Column, ...]:
    """CONTAINERS, IMAGES and (unless ``selector`` is None) SELECTOR, all ``-o wide`` only."""
    columns = (
        Column("Containers", priority=1, description=CONTAINERS_DOC, cell=_containers(*prefix)),
        Column("Images", priority=1, description=IMAGES_DOC, cell=_images(*prefix)),
    )
    if selector is None:
        return columns
    return (
        *columns,
        Column("Selector", priority=1, description="Label selector for pods.", cell=selector),
    )


def _label_selector(obj: Obj) -> str:
    return format_selector(dig(obj, "spec", "selector"))


DEPLOYMENT_COLUMNS = (
    NAME,
    Column(
        "Ready",
        description="Number of the pod with ready state",
        cell=lambda d: f"{integer(d, 'status', 'readyReplicas')}/{_desired(d)}",
    ),
    Column(
        "Up-to-date",
        description="Total number of non-terminated pods targeted by this "
        "deployment that have the desired template spec.",
        cell=_status("updatedReplicas"),
    ),
    Column(
        "Available",
        description="Total number of available pods (ready for at least "
        "minReadySeconds) targeted by this deployment.",
        cell=_status("availableReplicas"),
    ),
    AGE,
    # Deployments print the bare selector string: "" rather than "<none>" when empty.
    *_wide("spec", selector=lambda d: selector_string(dig(d, "spec", "selector"))),
)
REPLICASET_COLUMNS = (
    NAME,
    Column(
        "Desired",
        type="integer",
        description="Replicas is the number of desired replicas.",
        cell=_desired,
    ),
    Column(
        "Current",
        type="integer",
        description="Replicas is the most recently observed number of replicas.",
        cell=_status("replicas"),
    ),
    Column(
        "Ready",
        type="integer",
        description="The number of ready replicas for this replica set.",
        cell=_status("readyReplicas"),
    ),
    AGE,
    *_wide("spec", selector=_label_selector),
)
RC_COLUMNS = (
    *REPLICASET_COLUMNS[:5],
    # A replication controller's selector is a plain label map, not a LabelSelector.
    *_wide("spec", selector=lambda rc: format_labels(dig(rc, "spec", "selector"))),
)
STATEFULSET_COLUMNS = (
    NAME,
    Column(
        "Ready",
        description="Number of the pod with ready state",
        cell=lambda s: f"{integer(s, 'status', 'readyReplicas')}/{_desired(s)}",
    ),
    AGE,
    *_wide("spec"),
)
DAEMONSET_COLUMNS = (
    NAME,
    Column(
        "Desired",
        type="integer",
        description="The total number of nodes that should be running the daemon pod.",
        cell=_status("desiredNumberScheduled"),
    ),
    Column(
        "Current",
        type="integer",
        description="The number of nodes that are running at least 1 daemon pod.",
        cell=_status("currentNumberScheduled"),
    ),
    Column(
        "Ready",
        type="integer",
        description="The number of nodes that should be running the "
        "daemon pod and have one or more of the daemon pod running and ready.",
        cell=_status("numberReady"),
    ),
    Column(
        "Up-to-date",
        type="integer",
        description="The total number of nodes that are running updated daemon pod",
        cell=_status("updatedNumberScheduled"),
    ),
    Column(
        "Available",
        type="integer",
        description="The number of nodes that should be running "
        "the daemon pod and have one or more of the daemon pod running and available.",
        cell=_status("numberAvailable"),
    ),
    Column(
        "Node Selector",
        description="NodeSelector is a selector which must be true for the pod to fit on a node.",
        cell=lambda ds: format_labels(dig(ds, "spec", "template", "spec", "nodeSelector")),
    ),
    AGE,
    *_wide("spec", selector=_label_selector),
)


def _controller(obj: Obj) -> str:
    for ref in items(obj, "metadata", "ownerReferences"):
        if dig(ref, "controller") is True:
            group = text(ref, "apiVersion").rpartition("/")[0]
            kind = text(ref, "kind") + (f".{group}" if group else "")
            return f"{kind.lower()}/{text(ref, 'name')}"
    return "<none>"


CONTROLLERREVISION_COLUMNS = (
    NAME,
    Column("Controller", description="Controller of the object", cell=_controller),
    Column(
        "Revision",
        description="Revision indicates the revision of the state represented by Data.",
        cell=lambda cr: integer(cr, "revision"),
    ),
    AGE,
)


def _job_condition(job: Obj, kind: str) -> bool:
    cond = condition(job, kind)
    return cond is not None and cond.get("status") == "True"


def _job_status(job: Obj) -> str:
    if _job_condition(job, "Complete"):
        return "Complete"
    if _job_condition(job, "Failed"):
        return "Failed"
    if dig(job, "metadata", "deletionTimestamp") is not None:
        return "Terminating"
    if _job_condition(job, "Suspended"):
        return "Suspended"
    if _job_condition(job, "FailureTarget"):
        return "FailureTarget"
    return "Running"


def _completions(job: Obj) -> str:
    succeeded = integer(job, "status", "succeeded")
    completions: Any = dig(job, "spec", "completions")
    if isinstance(completions, int):
        return f"{succeeded}/{completions}"
    parallelism = integer(job, "spec", "parallelism")
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def _duration(job: Obj) -> str:
    start = parse_time(dig(job, "status", "startTime"))
    if start is None:
        return ""
    end = parse_time(dig(job, "status", "completionTime")) or current_time()
    return human_duration(end - start)


JOB_COLUMNS = (
    NAME,
    Column("Status", description="Status of the job.", cell=_job_status),
    Column(
        "Completions",
        description="The number of pods which reached phase Succeeded.",
        cell=_completions,
    ),
    Column("Duration", description="Time required to complete the job.", cell=_duration),
    AGE,
    *_wide("spec", selector=_label_selector),
)


def _suspend(cj: Obj) -> str:
    value = dig(cj, "spec", "suspend")
    return "<unset>" if not isinstance(value, bool) else "True" if value else "False"


CRONJOB_COLUMNS = (
    NAME,
    Column(
        "Schedule",
        description="The schedule in Cron format.",
        cell=lambda cj: text(cj, "spec", "schedule"),
    ),
    Column(
        "Timezone",
        description="The time zone name for the given schedule.",
        cell=lambda cj: text(cj, "spec", "timeZone", default="<none>"),
    ),
    Column(
        "Suspend",
        type="boolean",
        description="Whether later executions are suspended.",
        cell=_suspend,
    ),
    Column(
        "Active",
        type="integer",
        description="A list of pointers to currently running jobs.",
        cell=lambda cj: len(items(cj, "status", "active")),
    ),
    Column(
        "Last Schedule",
        description="Information when was the last time the job was successfully scheduled.",
        cell=lambda cj: (
            since(dig(cj, "status", "lastScheduleTime"))
            if dig(cj, "status", "lastScheduleTime") is not None
            else "<none>"
        ),
    ),
    AGE,
    *_wide(
        "spec",
        "jobTemplate",
        "spec",
        selector=lambda cj: format_selector(dig(cj, "spec", "jobTemplate", "spec", "selector")),
    ),
)
