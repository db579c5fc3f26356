"""``kubectl describe namespace``, ``resourcequota`` and ``limitrange``: what a namespace
allows.

A Namespace's description is its phase and conditions followed by every ResourceQuota in it
(used against hard limits, resource by resource) and every LimitRange (the minimum, maximum
and default requests and limits per resource). The quota and the limit range describe
themselves with the same tables.
"""

from __future__ import annotations

from minikube_py.api.errors import ApiError
from minikube_py.api.printers import items, mapping, text
from minikube_py.client.discovery import Resource
from minikube_py.client.protocol import Object
from minikube_py.kubectl.describe_writer import DescribeWriter, go_time, new_description
from minikube_py.kubectl.session import Session

# The help kubectl prints under a quota scope.
SCOPE_HELP = {
    "Terminating": "Matches all pods that have an active deadline. These pods have a limited "
    "lifespan on a node before being actively terminated by the system.",
    "NotTerminating": "Matches all pods that do not have an active deadline. These pods usually "
    "include long running pods whose container command is not expected to terminate.",
    "BestEffort": "Matches all pods that do not have resource requirements set. These pods have "
    "a best effort quality of service.",
    "NotBestEffort": "Matches all pods that have at least one resource requirement set. These "
    "pods have a burstable or guaranteed quality of service.",
}
LIMIT_FIELDS = ("min", "max", "defaultRequest", "default", "maxLimitRequestRatio")
LIMIT_HEADER = "Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n"
LIMIT_RULE = "----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n"


async def describe_namespace(
    session: Session, resource: Resource, namespace: Object, show_events: bool = True
) -> str:
    meta = mapping(namespace, "metadata")
    name = text(meta, "name")
    quotas = await optional_list(session, f"/api/v1/namespaces/{name}/resourcequotas")
    limits = await optional_list(session, f"/api/v1/namespaces/{name}/limitranges")
    w = new_description(meta, namespaced=False)
    w.write(0, f"Status:\t{text(namespace, 'status', 'phase')}\n")
    conditions = items(namespace, "status", "conditions")
    if conditions:
        w.write(0, "Conditions:\n")
        w.write(1, "Type\tStatus\tLastTransitionTime\tReason\tMessage\n")
        w.write(1, "----\t------\t------------------\t------\t-------\n")
        for c in conditions:
            when = go_time(c.get("lastTransitionTime"))
            w.write(
                1,
                f"{text(c, 'type')}\t{text(c, 'status')}\t{when}\t"
                f"{text(c, 'reason')}\t{text(c, 'message')}\n",
            )
    if quotas is not None:
        w.write(0, "\n")
        _quotas(w, quotas)
    if limits is not None:
        w.write(0, "\n")
        _limit_ranges(w, limits)
    return w.render()


async def optional_list(session: Session, path: str) -> list[Object] | None:
    """The items at ``path``; None where the server does not serve the kind (404)."""
    try:
        listed = await session.get_json(path, {"limit": "500"})
    except ApiError as error:
        if error.code == 404:
            return None
        raise
    return [item for item in listed.get("items") or () if isinstance(item, dict)]


def _quotas(w: DescribeWriter, quotas: list[Object]) -> None:
    if not quotas:
        w.write(0, "No resource quota.\n")
        return
    w.write(0, "Resource Quotas\n")
    for quota in sorted(quotas, key=lambda q: text(q, "metadata", "name")):
        w.write(1, f"Name:\t{text(quota, 'metadata', 'name')}\n")
        _quota_table(w, quota, 1, "---")


def _quota_table(w: DescribeWriter, quota: Object, level: int, rule: str) -> None:
    """Scopes, then ``Resource Used Hard`` for each resource the quota limits."""
    scopes = sorted(str(scope) for scope in items(quota, "spec", "scopes"))
    if scopes:
        w.write(level, f"Scopes:\t{', '.join(scopes)}\n")
        for scope in scopes:
            if scope in SCOPE_HELP:
                bullet = "* " if level else " * "
                w.write(level, f"{bullet}{SCOPE_HELP[scope]}\n")
    w.write(level, "Resource\tUsed\tHard\n")
    w.write(level, f"--------\t{rule}\t{rule}\n")
    hard, used = mapping(quota, "status", "hard"), mapping(quota, "status", "used")
    for name in sorted(hard):
        w.write(level, f"{name}\t{used.get(name, '0')}\t{hard[name]}\n")


def _limit_ranges(w: DescribeWriter, ranges: list[Object]) -> None:
    if not ranges:
        w.write(0, "No LimitRange resource.\n")
        return
    w.write(0, "Resource Limits\n " + LIMIT_HEADER + " " + LIMIT_RULE)
    for limit_range in ranges:
        _limit_rows(w, limit_range, " ")


def _limit_rows(w: DescribeWriter, limit_range: Object, prefix: str) -> None:
    """One row per limit type and resource, ``-`` where a bound is not set (kubectl ranges
    over a Go map here, so its row order varies; sorted is stable)."""
    for item in items(limit_range, "spec", "limits"):
        names = sorted({name for field in LIMIT_FIELDS for name in mapping(item, field)})
        for name in names:
            values = [str(mapping(item, field).get(name, "-")) for field in LIMIT_FIELDS]
            w.write(0, f"{prefix}{text(item, 'type')}\t{name}\t" + "\t".join(values) + "\n")


async def describe_resource_quota(
    session: Session, resource: Resource, quota: Object, show_events: bool = True
) -> str:
    w = DescribeWriter()
    w.write(0, f"Name:\t{text(quota, 'metadata', 'name')}\n")
    w.write(0, f"Namespace:\t{text(quota, 'metadata', 'namespace')}\n")
    _quota_table(w, quota, 0, "----")
    return w.render()


async def describe_limit_range(
    session: Session, resource: Resource, limit_range: Object, show_events: bool = True
) -> str:
    w = DescribeWriter()
    w.write(0, f"Name:\t{text(limit_range, 'metadata', 'name')}\n")
    w.write(0, f"Namespace:\t{text(limit_range, 'metadata', 'namespace')}\n")
    w.write(0, LIMIT_HEADER + LIMIT_RULE)
    _limit_rows(w, limit_range, "")
    return w.render()
