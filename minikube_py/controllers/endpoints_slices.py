"""Planning a Service's EndpointSlices: which to create, update and delete.

An EndpointSlice (``discovery.k8s.io/v1``, its parts in ``endpoints_sliceparts.py``) holds
up to ``MAX_ENDPOINTS_PER_SLICE`` endpoints of one Service that share one list of ports; a
Service with many pods, or whose pods resolve a named ``targetPort`` differently, has several.

``plan_slices`` is upstream's reconciler (``k8s.io/endpointslice``, ``reconciler.go``) as a
pure function of the Service, its pods, its existing slices and the nodes. It churns as
little as it can: endpoints stay in the slice they are in; a slice is rewritten only if one
of its endpoints changed or left; new endpoints fill the slices being rewritten anyway, then
the fullest unchanged slice they fit in, and only then new slices. A slice that would be
deleted while another is created is reused under its name instead. A Service with no
endpoints keeps one empty *placeholder* slice. The controller (``endpointslices.py``) writes
the plan.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from minikube_py.client.protocol import Object
from minikube_py.controllers.endpoints_pods import resolve_ports, should_pod_be_in_endpoints
from minikube_py.controllers.endpoints_sliceparts import (
    ADDRESS_TYPE,
    EndpointKey,
    PortsKey,
    endpoint_key,
    new_slice,
    owned_by,
    pod_endpoint,
    ports_key,
    same_beyond_key,
    slice_labels,
    slice_ports,
)

MAX_ENDPOINTS_PER_SLICE = 100  # kube-controller-manager's --max-endpoints-per-slice


@attrs.define
class SlicePlan:
    """The writes a sync makes, and the pods it had to leave out (to retry)."""

    create: list[Object] = attrs.Factory(list)
    update: list[Object] = attrs.Factory(list)
    delete: list[Object] = attrs.Factory(list)
    problems: list[str] = attrs.Factory(list)  # pods left out for now, to retry


def _meta(obj: Object) -> dict[str, Any]:
    return obj.get("metadata") or {}


def _is_placeholder_of(existing: Object, placeholder: Object) -> bool:
    """Upstream compares namespace, labels and the slice's fields — not name or owners."""
    return (
        _meta(existing).get("namespace") == _meta(placeholder).get("namespace")
        and (_meta(existing).get("labels") or {}) == _meta(placeholder)["labels"]
        and existing.get("addressType") == placeholder["addressType"]
        and not existing.get("endpoints")
        and not existing.get("ports")
    )


def plan_slices(
    service: Object,
    pods: list[Object],
    existing: list[Object],
    node: Callable[[str], Object | None],
    *,
    max_per_slice: int = MAX_ENDPOINTS_PER_SLICE,
) -> SlicePlan:
    """What to write so that ``existing`` (this controller's slices of ``service``) list
    ``pods`` (those its selector matches); ``node(name)`` reads the node cache."""
    plan = SlicePlan()
    spec, namespace = service.get("spec") or {}, _meta(service).get("namespace")
    publish = bool(spec.get("publishNotReadyAddresses"))
    # slices of another address type go; the rest are planned by their list of ports
    of_type = [s for s in existing if s.get("addressType") == ADDRESS_TYPE]
    wrong_type = [s for s in existing if s.get("addressType") != ADDRESS_TYPE]
    mine: dict[PortsKey, list[Object]] = {}
    deletes: list[Object] = []
    for endpoint_slice in of_type:
        if owned_by(endpoint_slice, service):
            mine.setdefault(ports_key(endpoint_slice.get("ports")), []).append(endpoint_slice)
        else:  # left by an older Service of the same name: the GC may not have got to it
            deletes.append(endpoint_slice)
    desired: dict[PortsKey, dict[EndpointKey, Object]] = {}
    desired_ports: dict[PortsKey, list[Object]] = {}
    for pod in sorted(pods, key=lambda p: str(_meta(p).get("name"))):
        if not should_pod_be_in_endpoints(pod, True):
            continue
        ports = slice_ports(resolve_ports(service, pod))
        key = ports_key(ports)
        endpoints = desired.setdefault(key, {})
        desired_ports.setdefault(key, ports)
        node_name = str((pod.get("spec") or {}).get("nodeName") or "")
        found = node(node_name) if node_name else None
        if found is None and not publish:
            # left out now, retried later: the node may not be in the cache yet
            plan.problems.append(
                f"skipping Pod {_meta(pod).get('name')} for Service {namespace}/"
                f"{_meta(service).get('name')}: Node {node_name} Not Found"
            )
            continue
        endpoint = pod_endpoint(pod, found, service)
        if endpoint["addresses"]:
            endpoints[endpoint_key(endpoint)] = endpoint
    for key, endpoints in desired.items():
        create, update, delete = _by_ports(
            service, mine.get(key, []), endpoints, desired_ports[key], max_per_slice
        )
        plan.create += create
        plan.update += update
        deletes += delete
    for key, stale in mine.items():
        if key not in desired:
            deletes += stale
    if len(deletes) == len(of_type) and not plan.create:
        placeholder = new_slice(service, [])
        if len(deletes) == 1 and _is_placeholder_of(deletes[0], placeholder):
            deletes = []  # it is the placeholder already
        else:
            plan.create.append(placeholder)
    plan.delete = deletes
    _reuse_deleted(service, plan)
    plan.delete += wrong_type
    return plan


def _by_ports(
    service: Object,
    existing: list[Object],
    desired: dict[EndpointKey, Object],
    ports: list[Object],
    max_per_slice: int,
) -> tuple[list[Object], list[Object], list[Object]]:
    """Slices to create, update and delete so that the slices of one list of ports hold
    exactly ``desired`` (upstream's reconcileByPortMapping); ``desired`` is used up."""
    by_name: dict[str, Object] = {}
    unchanged: dict[str, None] = {}  # ordered sets of slice names
    to_update: dict[str, None] = {}
    to_delete: dict[str, None] = {}
    # 1. keep the endpoints still desired where they are, refreshed; drop the others
    for endpoint_slice in existing:
        name = _meta(endpoint_slice)["name"]
        by_name[name] = endpoint_slice
        kept, changed = [], False
        for endpoint in endpoint_slice.get("endpoints") or []:
            wanted = desired.pop(endpoint_key(endpoint), None)
            if wanted is not None:
                kept.append(wanted)
                changed = changed or not same_beyond_key(wanted, endpoint)
        labels, relabelled = slice_labels(service, endpoint_slice)
        if changed or len(kept) != len(endpoint_slice.get("endpoints") or []):
            if not kept:
                to_delete[name] = None
                continue
            by_name[name] = _copy(endpoint_slice, endpoints=kept, labels=labels)
            to_update[name] = None
        elif relabelled:
            by_name[name] = _copy(endpoint_slice, labels=labels)
            to_update[name] = None
        else:
            unchanged[name] = None
    # 2. new endpoints first fill the slices being written anyway, the fullest first
    if desired and to_update:
        filling = sorted((by_name[n] for n in to_update), key=lambda s: -len(s["endpoints"]))
        for endpoint_slice in filling:
            _fill(endpoint_slice, desired, max_per_slice)
    # 3. then the unchanged slice they fit best in, then new slices
    created = []
    while desired:
        target = None
        if len(desired) < max_per_slice and unchanged:
            target = _slice_to_fill([by_name[n] for n in unchanged], len(desired), max_per_slice)
        if target is None:
            target = new_slice(service, ports)
        else:
            target = _copy(target)
            by_name[_meta(target)["name"]] = target
        _fill(target, desired, max_per_slice)
        if name := _meta(target).get("name"):
            to_update[name] = None
            unchanged.pop(name, None)
        else:
            created.append(target)
    return created, [by_name[n] for n in to_update], [by_name[n] for n in to_delete]


def _copy(
    endpoint_slice: Object, *, endpoints: list[Object] | None = None, labels: Any = None
) -> Object:
    """A copy to change: its own endpoint list and metadata."""
    metadata = dict(_meta(endpoint_slice))
    if labels is not None:
        metadata["labels"] = labels
    listed = (endpoint_slice.get("endpoints") or []) if endpoints is None else endpoints
    return {**endpoint_slice, "metadata": metadata, "endpoints": list(listed)}


def _fill(endpoint_slice: Object, desired: dict[EndpointKey, Object], most: int) -> None:
    endpoints = endpoint_slice["endpoints"]
    while desired and len(endpoints) < most:
        endpoints.append(desired.pop(next(iter(desired))))


def _slice_to_fill(slices: list[Object], count: int, most: int) -> Object | None:
    """The slice that ``count`` more endpoints fill closest to full, if any has room."""
    closest, best = None, most
    for endpoint_slice in slices:
        left = most - (count + len(endpoint_slice.get("endpoints") or []))
        if 0 <= left < best:
            closest, best = endpoint_slice, left
            if left == 0:
                break
    return closest


def _reuse_deleted(service: Object, plan: SlicePlan) -> None:
    """Rather than delete one slice and create another, rewrite the one under its name."""
    keep = []
    for doomed in plan.delete:
        if plan.create and owned_by(doomed, service):
            replacement = plan.create.pop()
            replacement["metadata"]["name"] = _meta(doomed)["name"]
            plan.update.append(replacement)
        else:
            keep.append(doomed)
    plan.delete = keep
