"""Benchmark ``kubectl apply`` of real manifests, and server-side apply under concurrency.

Usage::

    python bench/apply.py [--quick]

``kubectl apply`` is how most people talk to a cluster, so how much of its time the server
takes decides whether the cluster feels instant. This script starts ``python -m minikube_py
serve`` on loopback in a temporary directory (through ``ServeProcess`` of ``bench/api.py``:
durable SQLite, the admin client certificate) and measures two things:

* **The whole conformance corpus in one ``kubectl apply -R -f``** -- the Kubernetes website
  examples of ``tests/e2e/corpus/website-examples`` (``--corpus`` overrides), copied into
  the temporary directory minus the files a 1.32 cluster rejects (a ``batch/v1beta1`` CronJob,
  a Pod without ``apiVersion``, a Secret whose data is not base64) and minus the files that
  redefine an object an earlier file already defines (eight files define a Deployment
  ``nginx-deployment``, with different selectors: in one invocation the later ones would
  update the first one's object, and upstream too rejects updates that change a selector).
  Each round times the real kubectl with ``--dry-run=client`` on the copy (kubectl parses,
  validates and reads every object from the server, but writes nothing), then the real apply;
  objects without a namespace go to a fresh namespace per round. The ratio apply / dry-run
  shows what the server's writes add to what kubectl costs anyway; the CPU seconds of kubectl
  and of the server in each show the same split in a form machine load hardly disturbs.
  Between rounds everything is deleted again (not timed), so every round creates every
  object. An untimed round 0 fills kubectl's discovery and OpenAPI caches. Medians of the
  rounds are reported.
* **Apply-patch throughput, 10 concurrent clients** -- each client sends ``PATCH
  application/apply-patch+yaml?fieldManager=bench-N`` (server-side apply) to its own
  ConfigMaps and Deployments, changing a value each time (the objects were created by that
  client's first apply, untimed, so no other manager owns their fields); the peer in the same
  run is the same loop with JSON merge patches (``application/merge-patch+json``) of the same
  change on objects of their own, the cheapest patch the server knows. Requests/s and p50 /
  p99 latency of both, and their ratio. If the server does not implement server-side apply
  (HTTP 415) or refuses it, that is printed and only the merge-patch figures appear.

The header reports CPU used by other processes during the run and warns above 0.25 cores, as
the other benchmarks do. ``serve`` is stopped by pid on every exit path and the temporary
directory removed. ``--quick`` (3 rounds, 1.5 s patch phases) takes under a minute on 2 cores;
the full run (5 rounds, 5 s phases) about 1.5 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from api import (
    STOP_TIMEOUT,
    ApiClient,
    Measured,
    ServeProcess,
    children_cpu_seconds,
    closed_loop,
    print_table,
)
from store_vs_etcd import (
    REPO_ROOT,
    _terminate_as_interrupt,
    progress,
    system_busy_seconds,
)

CORPUS = REPO_ROOT / "tests" / "e2e" / "corpus" / "website-examples"
LEFT_OUT = {
    "application/job/cronjob.yaml": "batch/v1beta1 is not served by 1.32",
    "pods/inject/pod-single-secret-env-variable.yaml": "no apiVersion",
    "secret/tls-auth-secret.yaml": "data is not base64",
}
KUBECTL_TIMEOUT = 300.0
CLIENTS = 10
OBJECTS_PER_CLIENT = 4  # two ConfigMaps and two Deployments each
PATCH_NAMESPACE = "bench-apply"
APPLY = "application/apply-patch+yaml"


@dataclass(frozen=True)
class Params:
    rounds: int
    patch_seconds: float
    max_ops: int = 100_000


FULL = Params(rounds=5, patch_seconds=5.0)
QUICK = Params(rounds=3, patch_seconds=1.5)


# --------------------------------------------------------------------------- kubectl


@dataclass
class Kubectl:
    kubeconfig: Path
    cache: Path
    home: Path
    cpu: float = 0.0  # CPU seconds of the last run (it is reaped, so RUSAGE_CHILDREN has it)

    def run(self, *args: str, check: bool = True) -> tuple[float, subprocess.CompletedProcess[str]]:
        """Run kubectl; (wall seconds, the finished process)."""
        before = children_cpu_seconds()
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBECTL_")}
        env.update(KUBECONFIG=str(self.kubeconfig), HOME=str(self.home), NO_PROXY="*")
        command = ["kubectl", f"--cache-dir={self.cache}", *args]
        began = time.perf_counter()
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=KUBECTL_TIMEOUT
        )
        elapsed = time.perf_counter() - began
        self.cpu = children_cpu_seconds() - before
        if check and done.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed:\n{done.stderr[-2000:]}")
        return elapsed, done


def copy_corpus(source: Path, target: Path) -> tuple[int, list[str]]:
    """The corpus minus ``LEFT_OUT`` and minus files that redefine an object, keeping folders.

    Many examples reuse names (``nginx-deployment`` in eight files, with different selectors):
    in one invocation a later file would update, not create, the earlier file's object, and
    where the selector differs the update is rejected (immutable), upstream as here. So the
    first file in path order keeps a (kind, namespace, name) and later ones are left out.
    Returns the number of files copied and the paths left out for redefining an object.
    """
    copied, redefining = 0, []
    seen: set[tuple[Any, Any, Any]] = set()
    for path in sorted(source.rglob("*.yaml")):
        relative = path.relative_to(source).as_posix()
        if relative in LEFT_OUT:
            continue
        docs = [doc for doc in yaml.safe_load_all(path.read_text()) if isinstance(doc, dict)]
        keys = {
            (doc.get("kind"), doc["metadata"].get("namespace", ""), doc["metadata"].get("name"))
            for doc in docs
        }
        if keys & seen:
            redefining.append(relative)
            continue
        seen |= keys
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / relative)
        copied += 1
    return copied, redefining


@dataclass
class Round:
    dry_run: float  # wall seconds
    apply: float
    objects: int
    kubectl_cpu: tuple[float, float]  # CPU seconds of kubectl: dry run, apply
    server_cpu: tuple[float, float]  # CPU seconds of serve during each

    @property
    def ratio(self) -> float:
        return self.apply / self.dry_run


def bench_corpus(kubectl: Kubectl, serve: ServeProcess, corpus: Path, rounds: int) -> list[Round]:
    """Rounds of dry run then apply; objects without a namespace go to a fresh one per round.

    The round's namespace is the kubeconfig context's, not ``-n``: with ``-n`` kubectl refuses
    the files that name a namespace of their own (kube-system, default, cpu-example, ...).
    """
    for namespace in named_namespaces(corpus):  # the docs have readers create these first
        if kubectl.run("get", "namespace", namespace, check=False)[1].returncode != 0:
            kubectl.run("create", "namespace", namespace)
    results = []
    for number in range(rounds + 1):  # round 0 fills kubectl's caches and is not reported
        namespace = f"corpus-{number}"
        kubectl.run("create", "namespace", namespace)
        kubectl.run("config", "set-context", "--current", f"--namespace={namespace}")
        if number:
            progress(f"round {number}/{rounds}: dry run, then apply into {namespace}")
        server_before = serve.cpu_seconds()
        dry, _ = kubectl.run("apply", "-R", "-f", str(corpus), "--dry-run=client")
        dry_cpu, server_middle = kubectl.cpu, serve.cpu_seconds()
        wall, done = kubectl.run("apply", "-R", "-f", str(corpus))
        server_cpu = (server_middle - server_before, serve.cpu_seconds() - server_middle)
        created = sum(line.endswith(" created") for line in done.stdout.splitlines())
        if number:
            results.append(Round(dry, wall, created, (dry_cpu, kubectl.cpu), server_cpu))
        delete_all(kubectl, corpus, namespace)
    return results


def delete_all(kubectl: Kubectl, corpus: Path, namespace: str) -> None:
    """Delete what a round created and wait until it is gone.

    ``kubectl delete --wait`` polls each object through a client limited to 5 requests/s
    (12 s for this corpus), so the wait here is one ``get`` of everything, repeated.
    """
    kubectl.run("delete", "-R", "-f", str(corpus), "--wait=false")
    kubectl.run("delete", "namespace", namespace, "--wait=false")
    deadline = time.monotonic() + KUBECTL_TIMEOUT
    while time.monotonic() < deadline:
        _, left = kubectl.run("get", "-R", "-f", str(corpus), "--ignore-not-found", "-o", "name")
        _, space = kubectl.run("get", "namespace", namespace, "--ignore-not-found", "-o", "name")
        if not (left.stdout.strip() or space.stdout.strip()):
            return
        time.sleep(0.1)
    raise RuntimeError(f"objects were still there after {KUBECTL_TIMEOUT:g} s:\n{left.stdout}")


def named_namespaces(corpus: Path) -> set[str]:
    found = set()
    for path in corpus.rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") != "Namespace":
                found.add(str((doc.get("metadata") or {}).get("namespace") or "default"))
    return found


# --------------------------------------------------------------------------- patches


def container(value: str) -> dict[str, Any]:
    return {"name": "web", "image": "nginx:1.27", "env": [{"name": "V", "value": value}]}


def deployment(name: str, value: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [container(value)]},
            },
        },
    }


def config_map(name: str, value: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"v": value},
    }


def target(phase: str, client: int, op: int) -> tuple[str, str, bool]:
    """(collection path, name, is a Deployment) of a client's ``op``-th object in a phase."""
    index = op % OBJECTS_PER_CLIENT
    name = f"{phase}-{client}-{index}"
    if index % 2:
        return f"/apis/apps/v1/namespaces/{PATCH_NAMESPACE}/deployments", name, True
    return f"/api/v1/namespaces/{PATCH_NAMESPACE}/configmaps", name, False


def manifest(name: str, is_deployment: bool, value: str) -> dict[str, Any]:
    """The whole object: what a server-side apply sends (JSON is YAML)."""
    return deployment(name, value) if is_deployment else config_map(name, value)


def merge_patch(is_deployment: bool, value: str) -> dict[str, Any]:
    """The same change as a merge patch: only the changed part (lists are replaced whole)."""
    if is_deployment:
        return {"spec": {"template": {"spec": {"containers": [container(value)]}}}}
    return {"data": {"v": value}}


async def bench_patches(serve: ServeProcess, params: Params) -> tuple[list[Measured], str]:
    """Merge patches, then apply patches; (what was measured, why apply was not, if so).

    Each phase has objects of its own: a merge patch makes its sender the owner of the fields
    it sets, and a later apply of other values to them would be a conflict (409), as upstream.
    """
    assert serve.ssl_context is not None
    api = ApiClient(serve.url, serve.ssl_context, CLIENTS)
    try:
        namespace = {"metadata": {"name": PATCH_NAMESPACE}}
        await api.call("POST", "/api/v1/namespaces", namespace, expect=201)
        missing = ""
        for client in range(CLIENTS):
            for op in range(OBJECTS_PER_CLIENT):
                path, name, is_deployment = target("merge", client, op)
                await api.call("POST", path, manifest(name, is_deployment, "0"), expect=201)
                path, name, is_deployment = target("apply", client, op)
                if not missing:  # the first apply of an object creates it
                    missing = await try_apply(
                        api,
                        f"{path}/{name}?fieldManager=bench-{client}",
                        manifest(name, is_deployment, "0"),
                    )
        results = [await measure(api, serve, params, merge=True)]
        if not missing:
            results.append(await measure(api, serve, params, merge=False))
        return results, missing
    finally:
        await api.close()


async def try_apply(api: ApiClient, path: str, obj: dict[str, Any]) -> str:
    """Server-side apply ``obj``; "" if it was created, else what the server answered."""
    async with api.session.patch(
        f"{api.url}{path}", data=json.dumps(obj), headers={"Content-Type": APPLY}
    ) as reply:
        answer = (await reply.read())[:300].decode(errors="replace")
    return "" if reply.status == 201 else f"HTTP {reply.status}: {answer}"


async def measure(api: ApiClient, serve: ServeProcess, params: Params, *, merge: bool) -> Measured:
    kind = "merge-patch" if merge else "apply-patch"
    progress(f"{kind}: {CLIENTS} clients ({params.patch_seconds:g} s)")

    async def op(client: int, i: int) -> None:
        path, name, is_deployment = target("merge" if merge else "apply", client, i)
        value = f"{kind}-{i}"
        if merge:
            patch = merge_patch(is_deployment, value)
            url, content_type = f"{path}/{name}", "application/merge-patch+json"
        else:
            patch = manifest(name, is_deployment, value)
            url, content_type = f"{path}/{name}?fieldManager=bench-{client}", APPLY
        await api.call("PATCH", url, patch, content_type=content_type)

    await asyncio.gather(*(api.call("GET", "/version") for _ in range(CLIENTS)))
    server_before, own_before = serve.cpu_seconds(), time.process_time()
    latencies, elapsed = await closed_loop(op, CLIENTS, params.max_ops, params.patch_seconds)
    return Measured(
        "apiserver",
        f"{kind} (ConfigMaps, Deployments)",
        CLIENTS,
        len(latencies),
        elapsed,
        latencies,
        serve.cpu_seconds() - server_before,
        time.process_time() - own_before,
    )


# --------------------------------------------------------------------------- report and main


def report(
    rounds: list[Round], files: int, redefining: list[str], patches: list[Measured], missing: str
) -> None:
    print()
    print(
        f"kubectl apply -R -f <a copy of the corpus: {files} files>; left out: the files a 1.32 "
        "cluster rejects ("
        + "; ".join(f"{path}: {why}" for path, why in LEFT_OUT.items())
        + f") and {len(redefining)} files that redefine an object of an earlier file "
        "(one invocation would update, not create, it)"
    )
    rows: list[Sequence[str]] = [
        (
            "round",
            "objects created",
            "dry run s",
            "apply s",
            "apply / dry run",
            "kubectl CPU s (dry, apply)",
            "server CPU s (dry, apply)",
        )
    ]

    def pair(values: tuple[float, float]) -> str:
        return f"{values[0]:.2f}, {values[1]:.2f}"

    for number, r in enumerate(rounds, 1):
        rows.append(
            (
                str(number),
                str(r.objects),
                f"{r.dry_run:.3f}",
                f"{r.apply:.3f}",
                f"{r.ratio:.2f}x",
                pair(r.kubectl_cpu),
                pair(r.server_cpu),
            )
        )

    def median(pick: Callable[[Round], float]) -> float:
        return statistics.median(pick(r) for r in rounds)

    dry, wall, ratio = (
        median(lambda r: r.dry_run),
        median(lambda r: r.apply),
        median(lambda r: r.ratio),
    )
    kubectl_cpu = (median(lambda r: r.kubectl_cpu[0]), median(lambda r: r.kubectl_cpu[1]))
    server_cpu = (median(lambda r: r.server_cpu[0]), median(lambda r: r.server_cpu[1]))
    objects = str(rounds[0].objects)
    rows.append(
        (
            "median",
            objects,
            f"{dry:.3f}",
            f"{wall:.3f}",
            f"{ratio:.2f}x",
            pair(kubectl_cpu),
            pair(server_cpu),
        )
    )
    print_table(rows, right=(1, 2, 3, 4, 5, 6))
    extra = (server_cpu[1] - server_cpu[0]) / max(rounds[0].objects, 1)
    print(
        f"server's share: the apply takes {ratio:.2f}x the wall time of the dry run (median of "
        f"the rounds' ratios); the server used {server_cpu[1]:.2f} CPU s for the apply against "
        f"{server_cpu[0]:.2f} for the dry run ({extra * 1e3:.1f} ms more per created object), "
        f"kubectl {kubectl_cpu[1]:.2f} against {kubectl_cpu[0]:.2f} (medians)"
    )
    print()
    rows = [("patch", "clients", "requests/s", "p50 ms", "p99 ms", "server CPU", "harness CPU")]
    for m in patches:
        rows.append(
            (
                m.operation,
                str(m.clients),
                f"{m.rate:,.0f}",
                f"{m.p(50):.2f}",
                f"{m.p(99):.2f}",
                f"{m.server_cpu / m.elapsed:.2f} cores",
                f"{m.harness_cpu / m.elapsed:.2f} cores",
            )
        )
    print_table(rows, right=(1, 2, 3, 4, 5, 6))
    if missing:
        print(
            f"server-side apply NOT AVAILABLE on this server (first apply: {missing}): "
            "apply-patch not measured"
        )
    elif len(patches) == 2:
        merge, apply = patches
        print(
            f"apply-patch / merge-patch: {apply.rate / merge.rate:.2f}x the requests/s, "
            f"p99 {apply.p(99) / merge.p(99):.2f}x"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="short run for a smoke test")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the manifests to apply")
    args = parser.parse_args(argv)
    params = QUICK if args.quick else FULL
    if shutil.which("kubectl") is None:
        print("kubectl not found: this benchmark drives the real kubectl", file=sys.stderr)
        return 2
    if not args.corpus.is_dir():
        print(f"no corpus at {args.corpus} (use --corpus)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    started = time.perf_counter()
    busy_before, own_before = system_busy_seconds(), time.process_time()
    children_before = children_cpu_seconds()
    with tempfile.TemporaryDirectory(prefix="bench-apply-", ignore_cleanup_errors=True) as tmp:
        workdir = Path(tmp)
        files, redefining = copy_corpus(args.corpus, workdir / "corpus")
        with ServeProcess(workdir / "serve", workdir / "pycache") as serve:
            progress(f"serve at {serve.url} (pid {serve.pid}); {files} files in {workdir}")
            (workdir / "home").mkdir()
            kubeconfig = workdir / "kubeconfig"  # a copy: each round sets its namespace in it
            shutil.copyfile(serve.state_dir / "kubeconfig", kubeconfig)
            kubectl = Kubectl(kubeconfig, workdir / "cache", workdir / "home")
            rounds = bench_corpus(kubectl, serve, workdir / "corpus", params.rounds)
            try:
                patches, missing = asyncio.run(bench_patches(serve, params))
            except asyncio.CancelledError:  # SIGTERM while the loop ran
                raise KeyboardInterrupt("SIGTERM") from None
    wall = time.perf_counter() - started
    ours = time.process_time() - own_before + children_cpu_seconds() - children_before
    others = system_busy_seconds() - busy_before - ours
    print()
    print(
        f"apply ({'quick' if args.quick else 'full'} run, {wall:.1f} s): real kubectl "
        f"against `python -m minikube_py serve` (durable SQLite, HTTPS); {os.cpu_count()} CPUs"
    )
    print(
        f"CPU used by other processes during the run: {max(others, 0.0) / wall:.2f} cores"
        + (" -- WARNING: machine was busy, numbers are noisy" if others / wall > 0.25 else "")
    )
    if serve.exit_code != 0:
        print(f"WARNING: serve did not stop cleanly within {STOP_TIMEOUT:g} s of SIGTERM")
    report(rounds, files, redefining, patches, missing)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
