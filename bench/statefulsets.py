"""Benchmark the StatefulSet controller: 50 replicas, OrderedReady, time until all Ready.

Usage::

    python bench/statefulsets.py [--replicas N] [--nodes N] [--no-claims]

One cluster in this process (``running_cluster``: API server over in-memory SQLite, scheduler,
node agents on the real process runtime, every standard controller, among them the PV binder
and the hostpath provisioner), as ``bench/controllers.py`` builds it. Each phase creates one
object and is timed by a watch opened before it, until its ``status.readyReplicas`` is N:

1. **StatefulSet, OrderedReady** (the default policy) -- N pause pods, each with its own
   1Mi claim from ``volumeClaimTemplates`` (class ``standard``: the provisioner makes a
   directory and a PersistentVolume, the binder binds it, then the pod is scheduled and
   started). One pod at a time: pod n+1 is made only once pod n is Running and Ready, so the
   time is N times the latency of one claim + pod, not a throughput.
2. **StatefulSet, Parallel** -- the same set under ``podManagementPolicy: Parallel``: every
   pod and claim at once, what the ordering costs.
3. **peer: Deployment** -- the same N pause pods as a Deployment, no claims: what pods cost
   without stable identities and storage.

``--no-claims`` drops the claim template from both StatefulSets (then phase 1 measures the
ordering alone). Everything is deleted, and its pods waited for, between phases; every wait
is bounded. The ratio lines at the end compare phase 1 with the two others.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from controllers import (
    PHASE_TIMEOUT,
    Phase,
    current_version,
    measured,
    wait_for_service_account,
    watch_until,
)
from pods import NAMESPACE, PAUSE_IMAGE, leftovers, pod_cluster, run_loop
from store_vs_etcd import REPO_ROOT, print_table, progress

if TYPE_CHECKING:
    from minikube_py.client import Client

Object = dict[str, Any]


def template(app: str) -> Object:
    return {
        "metadata": {"labels": {"app": app}},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "pause", "image": PAUSE_IMAGE}],
        },
    }


def stateful_set(name: str, replicas: int, *, parallel: bool, claims: bool) -> Object:
    spec: Object = {
        "serviceName": name,
        "replicas": replicas,
        "selector": {"matchLabels": {"app": name}},
        "template": template(name),
        "podManagementPolicy": "Parallel" if parallel else "OrderedReady",
    }
    if claims:
        spec["template"]["spec"]["containers"][0]["volumeMounts"] = [
            {"name": "data", "mountPath": "/data"}
        ]
        spec["volumeClaimTemplates"] = [
            {
                "metadata": {"name": "data"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Mi"}},
                },
            }
        ]
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": spec,
    }


def deployment(name: str, replicas: int) -> Object:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": template(name),
        },
    }


def all_ready(name: str, count: int) -> Callable[[str, Object], bool]:
    def done(kind: str, obj: Object) -> bool:
        if kind == "DELETED" or obj["metadata"]["name"] != name:
            return False
        status = obj.get("status") or {}
        return status.get("readyReplicas") == count and status.get("replicas") == count

    return done


async def timed_create(
    client: Client, gvr: Any, obj: Object, title: str, count: int, phases: list[Phase]
) -> None:
    """Create ``obj`` and time it until its status says ``count`` ready replicas."""
    name = obj["metadata"]["name"]
    version = await current_version(client, gvr)
    ready = asyncio.ensure_future(watch_until(client, gvr, all_ready(name, count), version))
    with measured(title, count, phases) as phase:
        began = phase.seconds
        await client.create(gvr, NAMESPACE, obj)
        phase.seconds = await ready - began


async def remove(client: Client, gvr: Any, name: str) -> None:
    """Delete the workload, then its claims once its pods are gone (untimed, bounded)."""
    from minikube_py.client import PERSISTENT_VOLUME_CLAIMS, PODS

    await client.delete(gvr, NAMESPACE, name)
    async with asyncio.timeout(PHASE_TIMEOUT):
        while True:
            pods = (await client.list(PODS, NAMESPACE, label_selector=f"app={name}"))["items"]
            if not pods:  # the garbage collector deletes them, the kubelets stop them
                break
            await asyncio.sleep(0.2)
    claims = await client.list(PERSISTENT_VOLUME_CLAIMS, NAMESPACE)
    for claim in claims["items"]:
        await client.delete(PERSISTENT_VOLUME_CLAIMS, NAMESPACE, claim["metadata"]["name"])


async def run(count: int, nodes: int, claims: bool) -> tuple[list[Phase], list[int]]:
    from minikube_py.client import DEPLOYMENTS, STATEFULSETS

    phases: list[Phase] = []
    what = "each with a 1Mi claim" if claims else "no claims"
    async with pod_cluster(nodes) as (client, directory):
        await wait_for_service_account(client)
        progress(f"StatefulSet, OrderedReady: {count} pause pods ({what})")
        sts = stateful_set("ordered", count, parallel=False, claims=claims)
        await timed_create(
            client, STATEFULSETS, sts, f"StatefulSet OrderedReady, {what}", count, phases
        )
        await remove(client, STATEFULSETS, "ordered")
        progress(f"StatefulSet, Parallel: {count} pause pods ({what})")
        sts = stateful_set("parallel", count, parallel=True, claims=claims)
        await timed_create(
            client, STATEFULSETS, sts, f"StatefulSet Parallel, {what}", count, phases
        )
        await remove(client, STATEFULSETS, "parallel")
        progress(f"peer: Deployment of {count} pause pods")
        peer = deployment("peer", count)
        await timed_create(client, DEPLOYMENTS, peer, "peer: Deployment, no claims", count, phases)
        await remove(client, DEPLOYMENTS, "peer")
    return phases, leftovers(directory)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--replicas", type=int, default=50, help="pods per phase (50)")
    parser.add_argument("--nodes", type=int, default=1, help="nodes (1, as minikube)")
    parser.add_argument("--no-claims", action="store_true", help="StatefulSets without claims")
    args = parser.parse_args(argv)
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    started = time.perf_counter()
    result: list[tuple[list[Phase], list[int]]] = []

    async def section() -> Any:
        result.append(await run(args.replicas, args.nodes, not args.no_claims))

    run_loop(section(), serve_loop=True)
    phases, left = result[0]
    wall = time.perf_counter() - started
    print()
    print(
        f"statefulsets: {args.replicas} pause pods per phase on {args.nodes} node(s), "
        f"process runtime ({wall:.1f} s in all)"
    )
    rows = [["phase", "pods", "seconds to all Ready", "pods/s", "CPU s"]]
    for phase in phases:
        rows.append(
            [
                phase.name,
                str(phase.pods),
                f"{phase.seconds:.2f}",
                f"{phase.rate:.1f}",
                f"{phase.cpu_seconds:.2f}",
            ]
        )
    print_table(rows, right=(1, 2, 3, 4))
    ordered, parallel, peer = phases
    print(f"\nper pod, OrderedReady: {ordered.seconds / ordered.pods * 1000:.0f} ms")
    print(f"OrderedReady / Parallel:   {ordered.seconds / parallel.seconds:.2f}x")
    print(f"OrderedReady / Deployment: {ordered.seconds / peer.seconds:.2f}x")
    print(f"\nprocesses left after the cluster stopped: {len(left)}" + (f" {left}" if left else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
