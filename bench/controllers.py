"""Benchmark the controllers: a Deployment of pause pods scaled 0 -> 500 and rolled, on 5 nodes.

Usage::

    python bench/controllers.py [--quick] [--replicas N] [--nodes N]

One cluster in this process (``running_cluster``: API server over in-memory SQLite, scheduler,
5 node agents on the real process runtime, every standard controller), as the tests build it,
on the loop ``serve`` runs on (uvloop when installed). Phases, each timed by a watch opened
before it starts:

1. **peer: bare pods** -- 500 pause pods created directly by 50 clients (no Deployment, no
   ReplicaSet), until every one is Ready. What the pods themselves cost: scheduling, starting
   500 processes, the status writes. Deleted afterwards (and waited for).
2. **scale-up** -- a Deployment of the same pods at ``replicas: 0`` is scaled to 500 with one
   patch, until the Deployment's ``status.readyReplicas`` is 500: the Deployment controller
   sizes its ReplicaSet, whose controller creates the pods (slow-start batches of 1, 2, 4 …
   up to 500 a sync), and the rest is as in the peer. Goal: >= 100 pods/s (clusterloader2's
   default scheduler-throughput threshold); the ratio to the peer is what the controllers add.
3. **rolling update** -- a template change with ``maxSurge: 25%`` (and the default
   ``maxUnavailable: 25%``), until the Deployment reports 500 updated, ready and available
   replicas and no old ones: 500 pods made and 500 deleted.

For each phase, a CPU breakdown per component (``cpu_sampler.py``: store, API server,
controllers, scheduler, kubelets, the rest) shows the hot spots; the pause processes' own CPU is
in "other processes" in the header. ``--quick``: 100 pods on 3 nodes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cpu_sampler import CpuSampler
from pods import (
    NAMESPACE,
    PAUSE_IMAGE,
    in_parallel,
    leftovers,
    pod_cluster,
    run_loop,
    tune_garbage_collection,
)
from store_vs_etcd import REPO_ROOT, print_table, progress, system_busy_seconds

if TYPE_CHECKING:
    from minikube_py.client import Client

GOAL_RATE = 100.0  # pods/s to Ready for the scale-up (issue 6)
PHASE_TIMEOUT = 600.0
CREATE_CLIENTS = 50
NAME = "pause"
Object = dict[str, Any]


@dataclass
class Phase:
    name: str
    pods: int
    seconds: float
    cpu_seconds: float
    breakdown: list[tuple[str, float, float]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.pods / self.seconds if self.seconds else 0.0


def template(revision: str) -> Object:
    return {
        "metadata": {"labels": {"app": NAME}, "annotations": {"bench/revision": revision}},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "pause", "image": PAUSE_IMAGE}],
        },
    }


def deployment(replicas: int) -> Object:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": NAME}},
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": template("1"),
        },
    }


def is_ready(pod: Object) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def all_ready(count: int) -> Callable[[str, Object], bool]:
    """``done`` for ``watch_until``: ``count`` pods Ready, kept up event by event (the harness
    shares the cluster's process, so it must not rescan every pod at every event)."""
    ready: set[str] = set()

    def done(kind: str, pod: Object) -> bool:
        name = pod["metadata"]["name"]
        if kind != "DELETED" and is_ready(pod):
            ready.add(name)
        else:
            ready.discard(name)
        return len(ready) >= count

    return done


async def watch_until(
    client: Client, gvr: Any, done: Callable[[str, Object], bool], version: str
) -> float:
    """Follow ``gvr`` in the bench namespace from ``version`` until ``done(kind, object)``
    says so after an event; the moment it did."""
    events = client.watch(gvr, NAMESPACE, resource_version=version)
    async with asyncio.timeout(PHASE_TIMEOUT), contextlib.aclosing(events):
        async for kind, obj in events:
            if done(kind, obj):
                return time.perf_counter()
    raise RuntimeError("the watch ended early")


async def current_version(client: Client, gvr: Any) -> str:
    listed = await client.list(gvr, NAMESPACE, limit=1)
    return str(listed["metadata"]["resourceVersion"])


@contextlib.contextmanager
def measured(name: str, pods: int, phases: list[Phase]) -> Any:
    """Time the block, sample its CPU per component, append the Phase."""
    sampler = CpuSampler()
    sampler.start()
    phase = Phase(name, pods, 0.0, 0.0)
    phase.seconds = time.perf_counter()
    try:
        yield phase  # the block sets phase.seconds to the moment it finished
    finally:
        phase.cpu_seconds = sampler.stop()
        phase.breakdown = sampler.breakdown(phase.cpu_seconds)
        phases.append(phase)


async def bare_pods(client: Client, count: int, phases: list[Phase]) -> None:
    from minikube_py.client import PODS

    def pod(index: int) -> Object:
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            **template("1"),
            "metadata": {
                "name": f"bare-{index:03d}",
                "namespace": NAMESPACE,
                "labels": {"app": "bare"},
            },
        }

    version = await current_version(client, PODS)
    ready = asyncio.ensure_future(watch_until(client, PODS, all_ready(count), version))
    with measured("peer: bare pods created by 50 clients -> all Ready", count, phases) as phase:
        began = phase.seconds
        await in_parallel(count, CREATE_CLIENTS, lambda i: client.create(PODS, NAMESPACE, pod(i)))
        phase.seconds = await ready - began
    progress("peer done; deleting its pods")
    await in_parallel(
        count, CREATE_CLIENTS, lambda i: client.delete(PODS, NAMESPACE, f"bare-{i:03d}")
    )
    async with asyncio.timeout(PHASE_TIMEOUT):  # untimed: until the kubelets stopped them
        while (await client.list(PODS, NAMESPACE, label_selector="app=bare"))["items"]:  # noqa: ASYNC110 - a bounded poll of the API, untimed
            await asyncio.sleep(0.2)


def rolled(count: int, generation: int) -> Callable[[str, Object], bool]:
    def done(kind: str, obj: Object) -> bool:
        if kind == "DELETED" or obj["metadata"]["name"] != NAME:
            return False
        status = obj.get("status") or {}
        return (
            status.get("observedGeneration", 0) >= generation
            and status.get("updatedReplicas") == count
            and status.get("readyReplicas") == count
            and status.get("availableReplicas") == count
            and status.get("replicas") == count
        )

    return done


async def deployment_phases(client: Client, count: int, phases: list[Phase]) -> None:
    from minikube_py.client import DEPLOYMENTS

    made = await client.create(DEPLOYMENTS, NAMESPACE, deployment(0))
    version = await current_version(client, DEPLOYMENTS)
    ready = asyncio.ensure_future(watch_until(client, DEPLOYMENTS, rolled(count, 2), version))
    with measured(
        f"scale-up: Deployment 0 -> {count} -> readyReplicas {count}", count, phases
    ) as p:
        began = p.seconds
        await client.patch(DEPLOYMENTS, NAMESPACE, NAME, {"spec": {"replicas": count}})
        p.seconds = await ready - began
    generation = int(made["metadata"].get("generation", 1)) + 2
    version = await current_version(client, DEPLOYMENTS)
    ready = asyncio.ensure_future(
        watch_until(client, DEPLOYMENTS, rolled(count, generation), version)
    )
    with measured(f"rolling update of {count}, maxSurge 25%", count, phases) as p:
        began = p.seconds
        patch = {"spec": {"template": {"metadata": {"annotations": {"bench/revision": "2"}}}}}
        await client.patch(DEPLOYMENTS, NAMESPACE, NAME, patch)
        p.seconds = await ready - began


async def run(count: int, nodes: int) -> tuple[list[Phase], list[int]]:
    phases: list[Phase] = []
    async with pod_cluster(nodes) as (client, directory):
        await wait_for_service_account(client)
        tune_garbage_collection()
        progress(f"peer: {count} bare pause pods on {nodes} nodes")
        await bare_pods(client, count, phases)
        progress(f"Deployment: scale 0 -> {count}, then a rolling update")
        await deployment_phases(client, count, phases)
    return phases, leftovers(directory)


async def wait_for_service_account(client: Client) -> None:
    """Pods are refused until the namespace's ``default`` ServiceAccount exists (its
    controller makes it a moment after the namespace)."""
    from minikube_py.client import SERVICE_ACCOUNTS

    async with asyncio.timeout(30):
        while True:
            with contextlib.suppress(Exception):
                await client.get(SERVICE_ACCOUNTS, NAMESPACE, "default")
                return
            await asyncio.sleep(0.05)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="100 pods on 3 nodes")
    parser.add_argument("--replicas", type=int, help="pods (default 500, quick 100)")
    parser.add_argument("--nodes", type=int, help="nodes (default 5, quick 3)")
    args = parser.parse_args(argv)
    count = args.replicas or (100 if args.quick else 500)
    nodes = args.nodes or (3 if args.quick else 5)
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    started = time.perf_counter()
    busy_before, own_before = system_busy_seconds(), time.process_time()
    phases, left = run_loop_phases(count, nodes)
    wall = time.perf_counter() - started
    others = system_busy_seconds() - busy_before - (time.process_time() - own_before)
    print()
    print(f"controllers: {count} pause pods on {nodes} nodes, process runtime ({wall:.1f} s)")
    print(
        f"CPU used by other processes (the pods' own, and anything else): {others / wall:.2f} cores"
    )
    rows = [["phase", "pods", "seconds", "pods/s", "CPU s", "cores"]]
    for phase in phases:
        rows.append(
            [
                phase.name,
                str(phase.pods),
                f"{phase.seconds:.2f}",
                f"{phase.rate:.1f}",
                f"{phase.cpu_seconds:.2f}",
                f"{phase.cpu_seconds / phase.seconds:.2f}",
            ]
        )
    print_table(rows, right=(1, 2, 3, 4, 5))
    for phase in phases:
        print(f"\nCPU by component, {phase.name}:")
        for component, seconds, share in phase.breakdown:
            print(f"  {component:<32} {seconds:7.2f} s  {share:6.1%}")
    peer, scale = phases[0], phases[1]
    print(f"\nprocesses left after the cluster stopped: {len(left)}" + (f" {left}" if left else ""))
    print("\nGoals")
    met = scale.rate >= GOAL_RATE
    print(
        f"  [{'met' if met else 'NOT met'}] scale-up >= {GOAL_RATE:.0f} pods/s to Ready: "
        f"{scale.rate:.1f} pods/s ({scale.rate / peer.rate:.2f}x bare pods, {peer.rate:.1f}/s)"
    )
    return 0


def run_loop_phases(count: int, nodes: int) -> tuple[list[Phase], list[int]]:
    result: list[tuple[list[Phase], list[int]]] = []

    async def section() -> Any:
        result.append(await run(count, nodes))

    run_loop(section(), serve_loop=True)
    return result[0]


if __name__ == "__main__":
    sys.exit(main())
