"""One test group per plugin, on plain dicts, checking upstream's reason texts."""

from minikube_py.scheduler.framework import CycleState, Status
from minikube_py.scheduler.plugins import (
    BalancedAllocation,
    NodeAffinity,
    NodeName,
    NodePorts,
    NodeResourcesFit,
    NodeUnschedulable,
    TaintToleration,
)

from .helpers import info, node, pod

GPU_TAINT = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}


def reasons(status: Status) -> tuple[str, ...]:
    return status.reasons


def test_node_unschedulable() -> None:
    plugin = NodeUnschedulable()
    cordoned = info(node("a", unschedulable=True))
    assert reasons(plugin.filter(CycleState(), pod(), cordoned)) == ("node(s) were unschedulable",)
    tolerant = pod(tolerations=[{"key": "node.kubernetes.io/unschedulable", "operator": "Exists"}])
    assert plugin.filter(CycleState(), tolerant, cordoned).ok
    assert plugin.filter(CycleState(), pod(), info(node("b"))).ok


def test_node_name() -> None:
    plugin = NodeName()
    assert plugin.filter(CycleState(), pod(nodeName="a"), info(node("a"))).ok
    assert reasons(plugin.filter(CycleState(), pod(nodeName="a"), info(node("b")))) == (
        "node(s) didn't match the requested node name",
    )
    assert plugin.filter(CycleState(), pod(), info(node("b"))).ok


def test_resources_fit() -> None:
    plugin = NodeResourcesFit()
    small = info(node("a", cpu="1", memory="1Gi"), pod("old", cpu="500m", memory="512Mi"))
    assert plugin.filter(CycleState(), pod(cpu="500m", memory="512Mi"), small).ok
    status = plugin.filter(CycleState(), pod(cpu="600m", memory="600Mi"), small)
    assert reasons(status) == ("Insufficient cpu", "Insufficient memory")
    full = info(node("b", pods=1), pod("old"))
    assert reasons(plugin.filter(CycleState(), pod(), full)) == ("Too many pods",)


def test_least_allocated_prefers_emptier_nodes() -> None:
    plugin = NodeResourcesFit()
    busy = info(node("a"), pod("old", cpu="3", memory="6Gi"))
    idle = info(node("b"))
    p = pod(cpu="500m", memory="1Gi")
    assert plugin.score(CycleState(), p, idle) > plugin.score(CycleState(), p, busy)


def test_balanced_allocation() -> None:
    plugin = BalancedAllocation()
    lopsided = info(node("a"), pod("old", cpu="3", memory="1Mi"))
    even = info(node("b"), pod("old", cpu="2", memory="4Gi"))
    p = pod(cpu="100m", memory="100Mi")
    assert plugin.score(CycleState(), p, even) > plugin.score(CycleState(), p, lopsided)


def test_node_affinity_selector_and_required_terms() -> None:
    plugin = NodeAffinity()
    ssd = info(node("a", labels={"disk": "ssd", "cores": "8"}))
    hdd = info(node("b", labels={"disk": "hdd", "cores": "2"}))
    selector = pod(nodeSelector={"disk": "ssd"})
    assert plugin.filter(CycleState(), selector, ssd).ok
    assert reasons(plugin.filter(CycleState(), selector, hdd)) == (
        "node(s) didn't match Pod's node affinity/selector",
    )
    term = {"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["4"]}]}
    by_name = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["b"]}]}
    required = pod(
        affinity={
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [term, by_name]
                }
            }
        }
    )
    assert plugin.filter(CycleState(), required, ssd).ok  # first term
    assert plugin.filter(CycleState(), required, hdd).ok  # second term
    assert not plugin.filter(CycleState(), required, info(node("c"))).ok


def test_node_affinity_preferred_score_normalized() -> None:
    plugin = NodeAffinity()
    preference = {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}
    p = pod(
        affinity={
            "nodeAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {"weight": 30, "preference": preference}
                ]
            }
        }
    )
    scores = {
        "a": plugin.score(CycleState(), p, info(node("a", labels={"disk": "ssd"}))),
        "b": plugin.score(CycleState(), p, info(node("b"))),
    }
    assert scores == {"a": 30, "b": 0}
    plugin.normalize(CycleState(), p, scores)
    assert scores == {"a": 100, "b": 0}


def test_taint_toleration_filter() -> None:
    plugin = TaintToleration()
    tainted = info(node("a", taints=[GPU_TAINT]))
    assert reasons(plugin.filter(CycleState(), pod(), tainted)) == (
        "node(s) had untolerated taint {dedicated: gpu}",
    )
    tolerant = pod(tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu"}])
    assert plugin.filter(CycleState(), tolerant, tainted).ok
    soft = info(node("b", taints=[{"key": "x", "effect": "PreferNoSchedule"}]))
    assert plugin.filter(CycleState(), pod(), soft).ok


def test_taint_toleration_score_prefers_fewer_soft_taints() -> None:
    plugin = TaintToleration()
    soft = info(node("a", taints=[{"key": "x", "effect": "PreferNoSchedule"}]))
    clean = info(node("b"))
    scores = {n.name: plugin.score(CycleState(), pod(), n) for n in (soft, clean)}
    plugin.normalize(CycleState(), pod(), scores)
    assert scores == {"a": 0, "b": 100}


def test_node_ports() -> None:
    plugin = NodePorts()
    holder = pod("old")
    holder["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 8080}]
    busy = info(node("a"), holder)
    wanting = pod()
    wanting["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 8080}]
    state = CycleState()
    assert plugin.pre_filter(state, wanting).ok
    assert reasons(plugin.filter(state, wanting, busy)) == (
        "node(s) didn't have free ports for the requested pod ports",
    )
    assert plugin.filter(state, wanting, info(node("b"))).ok
    busy.remove_pod(holder)
    assert plugin.filter(state, wanting, busy).ok
