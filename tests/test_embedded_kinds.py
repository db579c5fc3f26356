"""Kind words and manifests as the embedded cluster reads them, without a cluster: discovery
answers written here stand for the server's."""

from __future__ import annotations

from pathlib import Path

import pytest

from minikube_py.client.protocol import GVR
from minikube_py.cluster.settings import ClusterError
from minikube_py.embedded.kinds import Resolver, find, resources_of, split_ref
from minikube_py.embedded.manifests import objects
from minikube_py.embedded.waiting import condition_predicate

DISCOVERY = [
    {
        "groupVersion": "v1",
        "resources": [
            {
                "name": "pods",
                "singularName": "pod",
                "kind": "Pod",
                "namespaced": True,
                "shortNames": ["po"],
            },
            {"name": "pods/log", "singularName": "", "kind": "Pod", "namespaced": True},
            {
                "name": "events",
                "singularName": "event",
                "kind": "Event",
                "namespaced": True,
                "shortNames": ["ev"],
            },
            {
                "name": "nodes",
                "singularName": "node",
                "kind": "Node",
                "namespaced": False,
                "shortNames": ["no"],
            },
        ],
    },
    {
        "groupVersion": "apps/v1",
        "resources": [
            {
                "name": "deployments",
                "singularName": "deployment",
                "kind": "Deployment",
                "namespaced": True,
                "shortNames": ["deploy"],
            },
        ],
    },
    {
        "groupVersion": "events.k8s.io/v1",
        "resources": [
            {
                "name": "events",
                "singularName": "event",
                "kind": "Event",
                "namespaced": True,
                "shortNames": ["ev"],
            },
        ],
    },
    {
        "groupVersion": "networking.k8s.io/v1",
        "resources": [
            {
                "name": "ingresses",
                "singularName": "ingress",
                "kind": "Ingress",
                "namespaced": True,
                "shortNames": ["ing"],
            },
        ],
    },
]
RESOURCES = list(resources_of(DISCOVERY))


@pytest.mark.parametrize(
    ("word", "gvr"),
    [
        ("pods", GVR("", "v1", "pods")),
        ("pod", GVR("", "v1", "pods")),
        ("po", GVR("", "v1", "pods")),
        ("Pod", GVR("", "v1", "pods")),
        ("PODS", GVR("", "v1", "pods")),
        ("deploy", GVR("apps", "v1", "deployments")),
        ("Deployment", GVR("apps", "v1", "deployments")),
        ("deployments.apps", GVR("apps", "v1", "deployments")),
        ("deployments.v1.apps", GVR("apps", "v1", "deployments")),
        ("ingresses.networking.k8s.io", GVR("networking.k8s.io", "v1", "ingresses")),
        ("ing", GVR("networking.k8s.io", "v1", "ingresses")),
        # two groups serve "events": the core group, listed first, wins (as kubectl's)
        ("events", GVR("", "v1", "events")),
        ("events.events.k8s.io", GVR("events.k8s.io", "v1", "events")),
        ("no", GVR("", "v1", "nodes")),
    ],
)
def test_every_spelling_kubectl_accepts_names_the_resource(word: str, gvr: GVR) -> None:
    found = find(word, RESOURCES)
    assert found is not None and found.gvr == gvr


@pytest.mark.parametrize("word", ["pods/log", "log", "deployments.batch", "deployments.v2.apps"])
def test_subresources_and_wrong_groups_name_nothing(word: str) -> None:
    assert find(word, RESOURCES) is None


async def test_the_resolver_asks_discovery_again_for_a_word_it_does_not_know() -> None:
    answers = [DISCOVERY[:1], DISCOVERY]  # the second answer knows deployments (a new CRD)
    asked = 0

    async def discover() -> list[dict[str, object]]:
        nonlocal asked
        asked += 1
        return answers[min(asked - 1, 1)]

    resolver = Resolver(discover)
    assert (await resolver.resource("po")).kind == "Pod"
    assert (await resolver.resource("pod")).kind == "Pod"
    assert asked == 1  # cached
    assert (await resolver.resource("deploy")).kind == "Deployment"
    assert asked == 2
    with pytest.raises(ClusterError, match='doesn\'t have a resource type "widgets"'):
        await resolver.resource("widgets")


def test_references_name_a_kind_and_an_object() -> None:
    assert split_ref("deployment/web") == ("deployment", "web")
    assert split_ref(("pods", "web-0")) == ("pods", "web-0")
    for wrong in ("web", "a/b/c", ("pods",), "/web", 3):
        with pytest.raises(ClusterError):
            split_ref(wrong)


def test_manifests_come_as_yaml_dicts_lists_files_and_directories(tmp_path: Path) -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\n"
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: Secret, metadata: {name: b}}\n"
        "- {apiVersion: v1, kind: Service, metadata: {name: c}}\n"
    )
    names = ["a", "b", "c"]
    assert [o["metadata"]["name"] for o in objects(text)] == names
    (tmp_path / "2.yaml").write_text(text)
    (tmp_path / "1.json").write_text(
        '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}}'
    )
    (tmp_path / "notes.txt").write_text("not a manifest")
    assert [o["metadata"]["name"] for o in objects(tmp_path)] == ["ns", *names]
    assert [o["metadata"]["name"] for o in objects(str(tmp_path / "2.yaml"))] == names
    one = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    assert objects(one) == [one] and objects([one, one]) == [one, one]


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("kind: ConfigMap\nmetadata: {name: a}\n", "needs apiVersion and kind"),
        ("- a\n- b\n", "must be a mapping"),
        ("a: [1\n", "cannot read the manifest"),
        (Path("/nonexistent/minikube-py.yaml"), "does not exist"),
    ],
)
def test_manifests_that_name_no_object_are_refused(manifest: str | Path, message: str) -> None:
    with pytest.raises(ClusterError, match=message):
        objects(manifest)


def test_conditions_read_as_kubectl_wait_reads_them() -> None:
    pod = {
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}, {"type": "X", "status": "False"}],
            "containerStatuses": [{"ready": True, "restartCount": 0}],
        }
    }
    assert condition_predicate("delete") is None
    holds = {
        "Ready": True,
        "ready": True,
        "condition=Ready": True,
        "condition=X=False": True,
        "X": False,
        "Missing": False,
        "jsonpath={.status.phase}=Running": True,
        "jsonpath={.status.phase}=Pending": False,
        "jsonpath={.status.containerStatuses[0].ready}=true": True,
        "jsonpath={.status.containerStatuses[3].ready}=true": False,
        "jsonpath={.status.containerStatuses[0].restartCount}=0": True,
    }
    for condition, expected in holds.items():
        predicate = condition_predicate(condition)
        assert predicate is not None and predicate(pod) is expected, condition
    with pytest.raises(ClusterError):
        condition_predicate("jsonpath=.status.phase")
