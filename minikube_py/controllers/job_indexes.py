"""Indexed Jobs: every pod works on one *completion index* from 0 to ``completions - 1``.

With ``completionMode: Indexed`` a Job is done when each index has one succeeded pod. Each pod
learns its index three ways: the ``batch.kubernetes.io/job-completion-index`` annotation and
label, and the ``JOB_COMPLETION_INDEX`` environment variable (read from that annotation by the
downward API). Its hostname is ``<job>-<index>`` and its name starts ``<job>-<index>-``.

The succeeded indexes are kept in ``status.completedIndexes`` as a compact list of ranges,
written as upstream's ``orderedIntervals`` prints them: ``"0-2,5,7,8"`` — a run of three or more
as ``first-last``, a pair as two numbers (upstream's ``indexed_job_utils.go``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from minikube_py.controllers.job_util import is_terminating, meta

Object = dict[str, Any]
INDEX_KEY = "batch.kubernetes.io/job-completion-index"
INDEX_ENV = "JOB_COMPLETION_INDEX"
MAX_GENERATED_NAME = 63 - 5  # upstream's names.MaxGeneratedNameLength


def completion_index(pod: Object) -> int | None:
    """The pod's index from its annotation; ``None`` when missing or not a number."""
    value = (meta(pod).get("annotations") or {}).get(INDEX_KEY)
    if not isinstance(value, str) or not value.isdigit():
        return None
    return int(value)


def valid_index(pod: Object, completions: int) -> int | None:
    index = completion_index(pod)
    return index if index is not None and index < completions else None


def parse_indexes(text: str | None, completions: int) -> set[int]:
    """The indexes ``text`` lists (below ``completions``); unreadable parts are skipped."""
    found: set[int] = set()
    for part in (text or "").split(","):
        first, _, last = part.partition("-")
        if not first.strip().isdigit() or (last and not last.strip().isdigit()):
            continue
        start = int(first)
        end = int(last) if last else start
        found.update(range(start, min(end, completions - 1) + 1))
    return found


def format_indexes(indexes: Iterable[int]) -> str:
    runs: list[list[int]] = []
    for index in sorted(set(indexes)):
        if runs and runs[-1][1] == index - 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    parts = []
    for first, last in runs:
        if last == first:
            parts.append(str(first))
        else:
            parts.append(f"{first}{',' if last == first + 1 else '-'}{last}")
    return ",".join(parts)


def first_pending_indexes(
    count: int,
    completions: int,
    succeeded: set[int],
    active: Iterable[Object],
    held: Iterable[Object] = (),
) -> list[int]:
    """The ``count`` lowest indexes neither succeeded nor worked on by an ``active`` pod (or
    a terminating one in ``held``, when only failed pods may be replaced)."""
    taken = set(succeeded)
    for pod in [*active, *held]:
        if (index := valid_index(pod, completions)) is not None:
            taken.add(index)
    return [index for index in range(completions) if index not in taken][:count]


def terminating_pods(pods: Iterable[Object]) -> list[Object]:
    return [pod for pod in pods if is_terminating(pod)]


def indexed_template(template: Object, job_name: str, index: int) -> tuple[Object, str]:
    """The pod template for ``index`` and the ``generateName`` its pod gets."""
    made = copy.deepcopy(template)
    template_meta = made.setdefault("metadata", {})
    template_meta.setdefault("annotations", {})[INDEX_KEY] = str(index)
    template_meta.setdefault("labels", {})[INDEX_KEY] = str(index)  # PodIndexLabel, GA in 1.32
    pod_spec = made.setdefault("spec", {})
    pod_spec["hostname"] = f"{job_name}-{index}"
    for field in ("initContainers", "containers"):
        for container in pod_spec.get(field) or []:
            env = container.setdefault("env", [])
            if not any(var.get("name") == INDEX_ENV for var in env):
                path = f"metadata.annotations['{INDEX_KEY}']"
                env.append({"name": INDEX_ENV, "valueFrom": {"fieldRef": {"fieldPath": path}}})
    suffix = f"-{index}-"
    prefix = f"{job_name}{suffix}"
    if len(prefix) > MAX_GENERATED_NAME:
        prefix = prefix[: MAX_GENERATED_NAME - len(suffix)] + suffix
    return made, prefix


def duplicated_index_pods(
    pods: list[Object], completions: int
) -> tuple[list[Object], list[Object]]:
    """(pods to remove, the rest): a pod without a valid index goes, and of several pods on the
    same index all but the one furthest along (running, ready, oldest) go."""
    remove: list[Object] = []
    by_index: dict[int, list[Object]] = {}
    for pod in pods:
        index = valid_index(pod, completions)
        if index is None:
            remove.append(pod)
        else:
            by_index.setdefault(index, []).append(pod)
    keep: list[Object] = []
    for group in by_index.values():
        group.sort(key=_progress)
        remove.extend(group[:-1])
        keep.append(group[-1])
    return remove, keep


def _progress(pod: Object) -> tuple[bool, int, bool, str]:
    """Sort key: the pod furthest along last (scheduled, running, ready, then the oldest)."""
    pod_status = pod.get("status") or {}
    running = {"Pending": 0, "Unknown": 1, "Running": 2}.get(str(pod_status.get("phase")), 0)
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in pod_status.get("conditions") or []
    )
    created = str(meta(pod).get("creationTimestamp") or "")
    # an older pod sorts later: invert the timestamp's order by negating character codes
    return (bool((pod.get("spec") or {}).get("nodeName")), running, ready, _inverted(created))


def _inverted(text: str) -> str:
    return "".join(chr(0x10FFFF - ord(char)) for char in text)
