"""The conformance corpus: every Kubernetes website example, applied with the real kubectl.

``tests/e2e/corpus/website-examples/`` (``MINIKUBE_PY_CORPUS`` overrides it) holds 83
unmodified example manifests of the Kubernetes documentation (CC BY 4.0,
see its README). Each file is applied with ``kubectl apply -f`` (default ``--validate=strict``)
into a namespace made for it alone, once client-side and once ``--server-side``, and the outcome
is compared with what a Kubernetes 1.32 cluster does:

- every object of a served kind is accepted, and after one more write to it (the same
  server-side apply again, or an annotation added with a merge patch) reading it back
  (``kubectl get -o json``) still shows every field the manifest set (``stringData`` of a
  Secret shows up in ``data``);
- three files are rejected upstream, and must be rejected here with the text kubectl prints
  against a real 1.32 cluster (``EXPECTED``).

Files that leave their fresh namespace (they name a namespace of their own, or create
Namespaces, PersistentVolumes or IngressClasses) would collide with themselves in the second
pass and with each other (three DaemonSets named ``fluentd-elasticsearch`` in kube-system with
different, immutable selectors). They run one at a time after the others, in the namespace they
name (created first if missing, as the docs tell readers to), and everything they created is
deleted again right after their check. Each pass prints a per-file line and a one-line summary
``N accepted, M rejected as expected, K unexpected``; any unexpected outcome fails the test.

The corpus gets a cluster of its own whose controller manager runs no workload controllers
(``serve --controllers``): what is tested is how the API takes the files, and the examples'
Deployments, Jobs and DaemonSets would otherwise make some hundred pods — enough to fill a
node for the tests after it.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from minikube_py.api.catalog import builtin_registry
from tests.e2e.conftest import ROOT, Kubectl, make_kubectl, serving

CORPUS = Path(os.environ.get("MINIKUBE_PY_CORPUS", ROOT / "tests/e2e/corpus/website-examples"))
WORKERS = 4  # kubectl is mostly start-up and waiting; 4 keep 2 cores busy without thrashing
CRONJOB = "application/job/cronjob.yaml"
NO_API_VERSION = "pods/inject/pod-single-secret-env-variable.yaml"
BAD_BASE64 = "secret/tls-auth-secret.yaml"
TOUCHED = "conformance.minikube-py.test/patched"  # the annotation the client-side pass adds

# path -> (stderr check for client-side apply, for server-side apply), given the -f argument.
# The first two fail inside kubectl, before any write: kubectl finds no OpenAPI v3 document for
# batch/v1beta1, falls back to the v2 schema (which skips unknown kinds) and then cannot map the
# kind; a document without apiVersion fails kubectl's own schema check (kubectl/pkg/validation
# getObjectKind). The Secret's data is not base64: the 1.32 server's JSON decoder rejects the
# body with a 400 (apiserver's transformDecodeError wording) before validation runs.
Check = Callable[[str, str], bool]  # (stderr, the -f argument) -> as upstream prints it


def _exactly(template: str) -> Check:
    return lambda stderr, path: stderr.strip() == template.format(path=path)


def _mentions(text: str) -> Check:
    return lambda stderr, path: text in stderr


_NO_CRONJOB_V1BETA1 = _exactly(
    'error: resource mapping not found for name: "hello" namespace: "" from "{path}": '
    'no matches for kind "CronJob" in version "batch/v1beta1"\nensure CRDs are installed first'
)
_NO_API_VERSION = _exactly(
    'error: error validating "{path}": error validating data: apiVersion not set; if you choose '
    "to ignore these errors, turn validation off with --validate=false"
)
EXPECTED: dict[str, tuple[Check, Check]] = {
    CRONJOB: (_NO_CRONJOB_V1BETA1, _NO_CRONJOB_V1BETA1),
    NO_API_VERSION: (_NO_API_VERSION, _NO_API_VERSION),
    BAD_BASE64: (
        _exactly(
            'Error from server (BadRequest): error when creating "{path}": Secret in version '
            '"v1" cannot be handled as a Secret: illegal base64 data at input byte 7'
        ),
        # upstream's apply path fails converting the patched object; its wording is not pinned
        _mentions("illegal base64 data at input byte 7"),
    ),
}


@dataclass(frozen=True)
class Case:
    path: Path
    docs: list[dict[str, Any]]
    named_namespaces: frozenset[str]  # namespaces the file's objects name themselves
    shared: bool  # creates something outside a fresh namespace

    @property
    def name(self) -> str:
        return self.path.relative_to(CORPUS).as_posix()


@dataclass
class Outcome:
    case: Case
    accepted: bool
    said: str  # kubectl's output, condensed to one line
    problem: str | None = None  # why the outcome is not the expected one


def load_cases() -> list[Case]:
    registry = builtin_registry()
    cases = []
    for path in sorted(CORPUS.rglob("*.yaml")):
        docs = [doc for doc in yaml.safe_load_all(path.read_text()) if isinstance(doc, dict)]
        named = frozenset(
            str(doc["metadata"]["namespace"]) for doc in docs if doc["metadata"].get("namespace")
        )
        cluster_scoped = False
        for doc in docs:
            rt = registry.by_api_version(str(doc.get("apiVersion")), str(doc.get("kind")))
            cluster_scoped |= rt is not None and not rt.namespaced
        cases.append(Case(path, docs, named, bool(named) or cluster_scoped))
    return cases


def lost_fields(want: Any, got: Any, path: str = "") -> list[str]:
    """Fields of ``want`` (a manifest) that ``got`` (the object read back) lacks or changed."""
    if want is None:  # null means unset (creationTimestamp: null)
        return []
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{path}: object read back as {got!r:.80}"]
        lost = []
        for key, value in want.items():
            where = f"{path}.{key}" if path else key
            if key not in got:
                lost += [] if value is None else [f"{where}: dropped"]
            else:
                lost += lost_fields(value, got[key], where)
        return lost
    if isinstance(want, list):
        # admission may append (a pod's service-account volume and its mounts, the default
        # tolerations): what the manifest listed must come first, unchanged
        if not isinstance(got, list) or len(got) < len(want):
            return [f"{path}: list of {len(want)} read back as {got!r:.80}"]
        return [
            lost
            for index, item in enumerate(want)
            for lost in lost_fields(item, got[index], f"{path}[{index}]")
        ]
    return [] if want == got else [f"{path}: {want!r} read back as {got!r}"]


def check_read_back(case: Case, body: Any) -> list[str]:
    items = body.get("items", []) if body.get("kind") == "List" else [body]
    found = {(item["kind"], item["metadata"]["name"]): item for item in items}
    lost = []
    for doc in case.docs:
        key = (doc["kind"], doc["metadata"]["name"])
        if key not in found:
            lost.append(f"{key[0]}/{key[1]}: not found")
            continue
        want, got = dict(doc), found[key]
        want.pop("status", None)  # the server owns status; a manifest's is reset on create
        for name, value in (want.pop("stringData", None) or {}).items():
            data = got.get("data") or {}
            if data.get(name) != base64.b64encode(str(value).encode()).decode():
                lost.append(f"{key[0]}/{key[1]}: stringData.{name} not in data")
        lost += [f"{key[0]}/{key[1]}: {field}" for field in lost_fields(want, got)]
    return lost


def _one_line(text: str) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines() if line.strip())


def apply_one(kubectl: Kubectl, case: Case, *, fresh: str | None, server_side: bool) -> Outcome:
    """Apply one file, into ``fresh`` unless it names its own namespaces; check; clean up."""
    made: list[str] = []
    for namespace in sorted(case.named_namespaces):
        if kubectl.run("get", "namespace", namespace, check=False).returncode != 0:
            kubectl.run("create", "namespace", namespace)
            made.append(namespace)
    scope = ["-n", fresh] if fresh else []
    try:
        return _apply_and_check(kubectl, case, scope, server_side)
    finally:
        if case.shared:  # leave nothing behind that the next file or pass would run into
            kubectl.run("delete", "-f", str(case.path), *scope, "--ignore-not-found", "--wait")
            for namespace in made:
                kubectl.run("delete", "namespace", namespace, "--wait")


def _apply_and_check(kubectl: Kubectl, case: Case, scope: list[str], server_side: bool) -> Outcome:
    extra = ["--server-side"] if server_side else []
    done = kubectl.run("apply", "-f", str(case.path), *scope, *extra, check=False, timeout=60)
    said = _one_line(done.stdout + done.stderr)
    expected = EXPECTED.get(case.name)
    if expected is not None:
        check = expected[1 if server_side else 0]
        if done.returncode == 0:
            return Outcome(case, True, said, "accepted, but a 1.32 cluster rejects it")
        if check(done.stderr, str(case.path)):
            return Outcome(case, False, said)
        return Outcome(case, False, said, "rejected, but not with the text 1.32 prints")
    if done.returncode != 0:
        return Outcome(case, False, said, "rejected")
    # A write to every object that exists now, so that the read back covers create and patch:
    # the same apply again (an apply patch of each object), or a merge patch of an annotation.
    again = ["apply", *extra] if server_side else ["annotate", "--overwrite"]
    touch = [] if server_side else [f"{TOUCHED}=true"]
    patched = kubectl.run(*again, "-f", str(case.path), *scope, *touch, check=False)
    if patched.returncode != 0:
        return Outcome(case, True, said, f"then {again[0]} failed: {_one_line(patched.stderr)}")
    body = json.loads(kubectl.out("get", "-f", str(case.path), *scope, "-o", "json"))
    lost = check_read_back(case, body)
    return Outcome(case, True, said, "fields lost: " + "; ".join(lost) if lost else None)


def run_pass(kubectl: Kubectl, cases: list[Case], *, server_side: bool) -> list[Outcome]:
    tag = "ssa" if server_side else "csa"
    fresh = {
        case.name: f"corpus-{tag}-{uuid.uuid4().hex[:10]}"
        for case in cases
        if not case.named_namespaces
    }
    # One namespace per file, all made by one kubectl: its start-up is most of a call's cost.
    stream = "".join(
        f"---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"
        for name in fresh.values()
    )
    kubectl.run("create", "-f", "-", stdin=stream, timeout=60)

    def one(case: Case) -> Outcome:
        return apply_one(kubectl, case, fresh=fresh.get(case.name), server_side=server_side)

    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = list(pool.map(one, [case for case in cases if not case.shared]))
    # one at a time: they share namespaces and cluster-scoped names with each other
    outcomes += [one(case) for case in cases if case.shared]
    return sorted(outcomes, key=lambda outcome: outcome.case.name)


def report(title: str, outcomes: list[Outcome]) -> tuple[str, list[str]]:
    """Per-file lines, the one-line summary, and the unexpected outcomes."""
    lines, unexpected = [f"--- {title}"], []
    for outcome in outcomes:
        verdict = "ok  " if outcome.problem is None else "FAIL"
        state = "accepted" if outcome.accepted else "rejected"
        lines.append(f"{verdict} {outcome.case.name}: {state}: {outcome.said}"[:400])
        if outcome.problem is not None:
            unexpected.append(f"{outcome.case.name}: {outcome.problem}: {outcome.said}")
    accepted = sum(o.accepted and o.problem is None for o in outcomes)
    rejected = sum(not o.accepted and o.problem is None for o in outcomes)
    summary = (
        f"{title}: {accepted} accepted, {rejected} rejected as expected, "
        f"{len(unexpected)} unexpected"
    )
    return "\n".join([*lines, summary]), unexpected


# accounts for pods, namespaces that can be deleted, cascading deletes; nothing that runs pods
API_CONTROLLERS = (
    "serviceaccount,root-ca-cert-publisher,namespace,garbagecollector,pvc-protection,pv-protection"
)


@pytest.fixture(scope="module")
def corpus_kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    """kubectl for a cluster of the corpus's own, stopped after the module."""
    directory = tmp_path_factory.mktemp("corpus-cluster")
    with serving(directory / "state", extra=("--controllers", API_CONTROLLERS)) as server:
        yield make_kubectl(server.kubeconfig, directory)


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    assert CORPUS.is_dir(), f"the conformance corpus is not at {CORPUS} (MINIKUBE_PY_CORPUS)"
    found = load_cases()
    assert len(found) == 83, f"the corpus should hold 83 files, found {len(found)}"
    return found


def test_the_read_back_check_notices_lost_and_changed_fields() -> None:
    """The comparison the corpus test relies on (no cluster needed)."""
    manifest = {
        "kind": "Secret",
        "metadata": {"name": "s", "creationTimestamp": None},
        "stringData": {"user": "admin"},
        "spec": {"ports": [{"port": 80, "name": "web"}], "emptyDir": {}},
        "status": {},
    }
    case = Case(Path("s.yaml"), [manifest], frozenset(), False)
    kept = {
        "kind": "Secret",
        "metadata": {"name": "s", "uid": "u"},
        "data": {"user": "YWRtaW4="},
        "spec": {"ports": [{"port": 80, "name": "web", "protocol": "TCP"}], "emptyDir": {}},
    }
    assert check_read_back(case, kept) == []
    lost = {**kept, "data": {}, "spec": {"ports": [{"port": "80"}]}}
    assert check_read_back(case, {"kind": "List", "items": [lost]}) == [
        "Secret/s: stringData.user not in data",
        "Secret/s: spec.ports[0].port: 80 read back as '80'",
        "Secret/s: spec.ports[0].name: dropped",
        "Secret/s: spec.emptyDir: dropped",
    ]
    assert check_read_back(case, {"kind": "List", "items": []}) == ["Secret/s: not found"]


@pytest.mark.parametrize("server_side", [False, True], ids=["client-side", "server-side"])
def test_corpus_applies_as_upstream(
    corpus_kubectl: Kubectl,
    cases: list[Case],
    server_side: bool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    title = "kubectl apply --server-side" if server_side else "kubectl apply"
    text, unexpected = report(title, run_pass(corpus_kubectl, cases, server_side=server_side))
    with capsys.disabled():
        print("\n" + text)
    shown = "\n".join(line[:300] for line in unexpected[:12])
    assert not unexpected, f"{len(unexpected)} unexpected outcome(s), the first 12:\n{shown}"
