"""``kubectl describe node``: a node's health, capacity, and what runs on it.

After the node's labels, taints and heartbeat lease come its conditions (with the kubelet's
last heartbeat and the last change of each), addresses, capacity and allocatable resources,
system information, and the pods on it that have not finished, each with the CPU and memory
it requests and is limited to as a share of what the node can allocate; then the totals
("Allocated resources") and the node's events. Kubelets report node events with the node's
name as its uid and controllers with the real uid, so kubectl asks for both and merges them.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from minikube_py.api.errors import ApiError
from minikube_py.api.printers import dig, items, mapping, since, text
from minikube_py.api.quantities import QuantityError, parse_quantity
from minikube_py.client.discovery import Resource
from minikube_py.client.protocol import LEASES, PODS, Object
from minikube_py.kubectl.describe_writer import (
    DescribeWriter,
    fetch_events,
    go_time,
    new_description,
)
from minikube_py.kubectl.session import Session

ROLE_PREFIX = "node-role.kubernetes.io/"
INFO = (
    ("Machine ID", "machineID"), ("System UUID", "systemUUID"), ("Boot ID", "bootID"),
    ("Kernel Version", "kernelVersion"), ("OS Image", "osImage"),
    ("Operating System", "operatingSystem"), ("Architecture", "architecture"),
    ("Container Runtime Version", "containerRuntimeVersion"),
    ("Kubelet Version", "kubeletVersion"), ("Kube-Proxy Version", "kubeProxyVersion"),
)  # fmt: skip
_DECIMAL = ((18, "E"), (15, "P"), (12, "T"), (9, "G"), (6, "M"), (3, "k"), (0, ""),
            (-3, "m"), (-6, "u"), (-9, "n"))  # fmt: skip
_BINARY = ((60, "Ei"), (50, "Pi"), (40, "Ti"), (30, "Gi"), (20, "Mi"), (10, "Ki"))


async def describe_node(
    session: Session, resource: Resource, node: Object, show_events: bool = True
) -> str:
    meta, spec, status = (mapping(node, part) for part in ("metadata", "spec", "status"))
    name = text(meta, "name")
    selector = f"spec.nodeName={name},status.phase!=Succeeded,status.phase!=Failed"
    pods = await session.get_json(PODS.path(), {"fieldSelector": selector, "limit": "500"})
    events = await fetch_events(session, node, "Node", wanted=show_events)
    if events is not None:  # kubelets name the node by name where a uid belongs
        events += await fetch_events(session, node, "Node", uid=name) or []
    roles = sorted({r for r in (_role(k, v) for k, v in mapping(meta, "labels").items()) if r})
    w = new_description(meta, ("Roles", ",".join(roles) or "<none>"), namespaced=False)
    w.write(0, f"CreationTimestamp:\t{go_time(meta.get('creationTimestamp'))}\n")
    _taints(w, items(spec, "taints"))
    w.write(0, f"Unschedulable:\t{'true' if spec.get('unschedulable') else 'false'}\n")
    await _lease(session, w, name)
    if items(status, "conditions"):
        w.write(0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\t")
        w.write(0, "Reason\tMessage\n")
        w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n")
        for c in items(status, "conditions"):
            beat, change = go_time(c.get("lastHeartbeatTime")), go_time(c.get("lastTransitionTime"))
            w.write(1, f"{text(c, 'type')} \t{text(c, 'status')} \t{beat} \t{change} \t")
            w.write(0, f"{text(c, 'reason')} \t{text(c, 'message')}\n")
    w.write(0, "Addresses:\n")
    for address in items(status, "addresses"):
        w.write(1, f"{text(address, 'type')}:\t{text(address, 'address')}\n")
    for title in ("capacity", "allocatable"):
        if mapping(status, title):
            w.write(0, f"{title.title()}:\n")
            for key, value in sorted(mapping(status, title).items()):
                w.write(0, f"  {key}:\t{value}\n")
    w.write(0, "System Info:\n")
    for label, field in INFO:
        w.write(0, f"  {label}:\t{text(status, 'nodeInfo', field)}\n")
    if text(spec, "podCIDR"):
        w.write(0, f"PodCIDR:\t{text(spec, 'podCIDR')}\n")
    if items(spec, "podCIDRs"):
        w.write(0, f"PodCIDRs:\t{','.join(str(c) for c in items(spec, 'podCIDRs'))}\n")
    if text(spec, "providerID"):
        w.write(0, f"ProviderID:\t{text(spec, 'providerID')}\n")
    _node_resources(w, status, [p for p in pods.get("items") or () if isinstance(p, dict)])
    return w.render(events)


def _role(key: str, value: Any) -> str:
    if key.startswith(ROLE_PREFIX):
        return key.removeprefix(ROLE_PREFIX)
    return str(value) if key == "kubernetes.io/role" and value else ""


def _taints(w: DescribeWriter, taints: list[Any]) -> None:
    w.write(0, "Taints:\t")
    if not taints:
        w.line("<none>")
        return
    ordered = sorted(taints, key=lambda t: f"{text(t, 'effect')},{text(t, 'key')}")
    for i, taint in enumerate(ordered):
        value = f"={text(taint, 'value')}" if text(taint, "value") else ""
        w.write(0, ("\t" if i else "") + f"{text(taint, 'key')}{value}:{text(taint, 'effect')}\n")


async def _lease(session: Session, w: DescribeWriter, name: str) -> None:
    try:
        lease = await session.get_json(LEASES.path("kube-node-lease", name))
    except ApiError as error:
        w.write(0, f"Lease:\tFailed to get lease: {error.message}\n")
        return
    w.write(0, "Lease:\n")
    w.write(1, f"HolderIdentity:\t{text(lease, 'spec', 'holderIdentity') or '<unset>'}\n")
    for label, field in (("AcquireTime", "acquireTime"), ("RenewTime", "renewTime")):
        when = dig(lease, "spec", field)
        w.write(1, f"{label}:\t{go_time(when) if when else '<unset>'}\n")


def _pod_totals(pod: Object) -> tuple[dict[str, Fraction], dict[str, Fraction], dict[str, str]]:
    """A pod's requests and limits (containers summed, init containers as a floor), and the
    first spelling of each resource (which decides how the totals are written)."""
    totals: tuple[dict[str, Fraction], dict[str, Fraction]] = ({}, {})
    spelled: dict[str, str] = {}
    for phase in ("containers", "initContainers"):
        for container in items(pod, "spec", phase):
            for total, field in zip(totals, ("requests", "limits"), strict=True):
                for name, quantity in mapping(container, "resources", field).items():
                    try:
                        amount = parse_quantity(quantity)
                    except QuantityError:
                        continue
                    spelled.setdefault(name, str(quantity))
                    if phase == "containers":
                        total[name] = total.get(name, Fraction(0)) + amount
                    else:
                        total[name] = max(total.get(name, Fraction(0)), amount)
    return totals[0], totals[1], spelled


def quantity_text(amount: Fraction, like: str) -> str:
    """``Quantity.String()`` of ``amount`` in the format of ``like`` (binary or decimal SI)."""
    if amount == 0:
        return "0"
    binary = like.rstrip("0123456789.").endswith("i")
    if binary and amount.denominator == 1 and abs(amount) >= 1024:
        for power, suffix in _BINARY:
            if amount.numerator % (2**power) == 0:
                return f"{amount.numerator // 2**power}{suffix}"
        return str(amount.numerator)
    for power, suffix in _DECIMAL:
        scaled = amount / Fraction(10) ** power
        if scaled.denominator == 1:
            return f"{scaled.numerator}{suffix}"
    return f"{math.ceil(amount * 10**9)}n"


def _share(amount: Fraction, of: Any, milli: bool) -> str:
    try:
        whole = math.ceil(parse_quantity(of) * (1000 if milli else 1))
    except QuantityError:
        whole = 0
    mine = math.ceil(amount * (1000 if milli else 1))
    return str(int(mine / whole * 100)) if whole else "0"


def _node_resources(w: DescribeWriter, status: dict[str, Any], pods: list[Object]) -> None:
    allocatable = mapping(status, "allocatable") or mapping(status, "capacity")
    w.write(0, f"Non-terminated Pods:\t({len(pods)} in total)\n")
    w.write(1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n")
    w.write(1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n")
    sums: tuple[dict[str, Fraction], dict[str, Fraction]] = ({}, {})
    spelling: dict[str, str] = {}
    for pod in pods:
        requests, limits, spelled = _pod_totals(pod)
        for name, like in spelled.items():
            spelling.setdefault(name, like)
        cells = []
        for total, name in ((requests, "cpu"), (limits, "cpu"), (requests, "memory"),
                            (limits, "memory")):  # fmt: skip
            amount = total.get(name, Fraction(0))
            cells.append(
                f"{quantity_text(amount, spelled.get(name, ''))} "
                f"({_share(amount, allocatable.get(name, '0'), name == 'cpu')}%)"
            )
        for total, own in zip(sums, (requests, limits), strict=True):
            for name, amount in own.items():
                total[name] = total.get(name, Fraction(0)) + amount
        meta = mapping(pod, "metadata")
        age = since(meta.get("creationTimestamp"))
        w.write(
            1, f"{text(meta, 'namespace')}\t{text(meta, 'name')}\t\t{chr(9).join(cells)}\t{age}\n"
        )
    w.write(
        0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n"
    )
    w.write(1, "Resource\tRequests\tLimits\n")
    w.write(1, "--------\t--------\t------\n")
    huge = sorted(name for name in allocatable if name.startswith("hugepages-"))
    for name in ["cpu", "memory", "ephemeral-storage", *huge]:
        shown = []
        for total in sums:
            amount = total.get(name, Fraction(0))
            share = _share(amount, allocatable.get(name, "0"), name == "cpu")
            shown.append(f"{quantity_text(amount, spelling.get(name, ''))} ({share}%)")
        w.write(1, f"{name}\t{shown[0]}\t{shown[1]}\n")
    standard = ("cpu", "memory", "ephemeral-storage", "pods")
    for name in sorted(n for n in allocatable if n not in standard and n not in huge):
        request, limit = (
            quantity_text(t.get(name, Fraction(0)), spelling.get(name, "")) for t in sums
        )
        w.write(1, f"{name}\t{request}\t{limit}\n")
