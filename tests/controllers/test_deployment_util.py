"""The pod-template hash, revision annotations, and finding a Deployment's new and old
ReplicaSets."""

from __future__ import annotations

import copy
from typing import Any

from minikube_py.controllers.deployment_rollout import (
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
)
from minikube_py.controllers.deployment_util import (
    CHANGE_CAUSE_ANNOTATION,
    REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
    SAFE_ALPHABET,
    equal_ignore_hash,
    find_new_replica_set,
    find_old_replica_sets,
    fnv32a,
    last_revision,
    max_revision,
    new_replica_set,
    pod_template_hash,
    revision,
    safe_encode,
    set_new_replica_set_annotations,
)

Object = dict[str, Any]
TEMPLATE: Object = {
    "metadata": {"creationTimestamp": None, "labels": {"app": "nginx"}},
    "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14.2"}]},
}


def deployment(template: Object | None = None, annotations: Object | None = None) -> Object:
    return {
        "metadata": {"name": "nginx", "annotations": annotations or {}},
        "spec": {
            "replicas": 10,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
            "template": copy.deepcopy(template or TEMPLATE),
        },
    }


def replica_set(
    name: str,
    created: str,
    *,
    image: str = "nginx:1.14.2",
    replicas: int = 1,
    annotations: Object | None = None,
    uid: str | None = None,
) -> Object:
    template = copy.deepcopy(TEMPLATE)
    template["metadata"]["labels"]["pod-template-hash"] = name.rsplit("-", 1)[-1]
    template["spec"]["containers"][0]["image"] = image
    return {
        "metadata": {
            "name": name,
            "uid": uid or name,
            "creationTimestamp": created,
            "annotations": annotations or {},
        },
        "spec": {"replicas": replicas, "template": template},
    }


def test_fnv32a_matches_the_published_test_vectors() -> None:
    assert fnv32a(b"") == 0x811C9DC5
    assert fnv32a(b"a") == 0xE40C292C
    assert fnv32a(b"foobar") == 0xBF9CF968
    assert fnv32a(b"bar", fnv32a(b"foo")) == fnv32a(b"foobar")


def test_safe_encoding_of_a_decimal_hash_as_in_the_kubernetes_docs() -> None:
    # The docs' nginx-deployment-75675f5897 is SafeEncodeString of the number 3123191453.
    assert safe_encode("3123191453") == "75675f5897"
    assert len(SAFE_ALPHABET) == 27


def test_pod_template_hash_is_stable_and_shaped_like_upstream() -> None:
    first = pod_template_hash(TEMPLATE)
    assert first == pod_template_hash(copy.deepcopy(TEMPLATE))
    assert 1 <= len(first) <= 10 and set(first) <= set("456789bcdf")  # decimal digits, encoded
    # Key order and an unset creationTimestamp do not matter; the content does.
    reordered = {"spec": TEMPLATE["spec"], "metadata": {"labels": {"app": "nginx"}}}
    assert pod_template_hash(reordered) == first
    changed = copy.deepcopy(TEMPLATE)
    changed["spec"]["containers"][0]["image"] = "nginx:1.16.1"
    assert pod_template_hash(changed) != first
    # A collision count gives another name, each count its own.
    assert len({first, pod_template_hash(TEMPLATE, 0), pod_template_hash(TEMPLATE, 1)}) == 3


def test_revisions() -> None:
    rss = [
        replica_set("a-1", "2026-01-01T00:00:00Z", annotations={REVISION_ANNOTATION: "3"}),
        replica_set("a-2", "2026-01-01T00:00:00Z", annotations={REVISION_ANNOTATION: "7"}),
        replica_set("a-3", "2026-01-01T00:00:00Z", annotations={REVISION_ANNOTATION: "x"}),
        replica_set("a-4", "2026-01-01T00:00:00Z"),
    ]
    assert [revision(rs) for rs in rss] == [3, 7, None, 0]
    assert (max_revision(rss), last_revision(rss)) == (7, 3)
    assert (max_revision([]), last_revision(rss[:1])) == (0, 0)


def test_a_new_replica_set_gets_the_revision_the_replica_counts_and_the_change_cause() -> None:
    annotations = {
        CHANGE_CAUSE_ANNOTATION: "kubectl set image deployment/nginx nginx=nginx:1.16.1",
        "kubectl.kubernetes.io/last-applied-configuration": "{}",
        REVISION_ANNOTATION: "4",
        "team": "web",
    }
    rs: Object = {"metadata": {"name": "nginx-abc"}, "spec": {"replicas": 0}}
    assert set_new_replica_set_annotations(deployment(annotations=annotations), rs, "5", False)
    assert rs["metadata"]["annotations"] == {
        CHANGE_CAUSE_ANNOTATION: "kubectl set image deployment/nginx nginx=nginx:1.16.1",
        "team": "web",
        REVISION_ANNOTATION: "5",
        DESIRED_REPLICAS_ANNOTATION: "10",
        MAX_REPLICAS_ANNOTATION: "13",  # 10 + 25% surge, rounded up
    }
    # Nothing new to say the second time round.
    assert not set_new_replica_set_annotations(deployment(annotations=annotations), rs, "5", True)


def test_a_rollback_keeps_the_replaced_revisions_in_the_history() -> None:
    rs: Object = {"metadata": {"annotations": {REVISION_ANNOTATION: "1"}}}
    assert set_new_replica_set_annotations(deployment(), rs, "3", True)
    assert rs["metadata"]["annotations"][REVISION_HISTORY_ANNOTATION] == "1"
    assert set_new_replica_set_annotations(deployment(), rs, "5", True)
    assert rs["metadata"]["annotations"][REVISION_ANNOTATION] == "5"
    assert rs["metadata"]["annotations"][REVISION_HISTORY_ANNOTATION] == "1,3"
    # Replica counts are only recorded on a ReplicaSet about to be created.
    assert DESIRED_REPLICAS_ANNOTATION not in rs["metadata"]["annotations"]
    # A revision is never lowered, and a non-numeric one is left alone.
    assert not set_new_replica_set_annotations(deployment(), rs, "4", True)
    assert rs["metadata"]["annotations"][REVISION_ANNOTATION] == "5"
    assert not set_new_replica_set_annotations(deployment(), rs, "six", True)


def test_revision_history_drops_the_oldest_entries_beyond_its_limit() -> None:
    rs: Object = {
        "metadata": {
            "annotations": {REVISION_ANNOTATION: "12", REVISION_HISTORY_ANNOTATION: "9,10,11"}
        }
    }
    assert set_new_replica_set_annotations(deployment(), rs, "13", True, history_limit=8)
    assert rs["metadata"]["annotations"][REVISION_HISTORY_ANNOTATION] == "10,11,12"


def test_templates_are_equal_apart_from_the_hash_label() -> None:
    hashed = copy.deepcopy(TEMPLATE)
    hashed["metadata"]["labels"]["pod-template-hash"] = "75675f5897"
    assert equal_ignore_hash(hashed, TEMPLATE)
    # Empty and missing maps and lists are alike, as in apimachinery's semantic equality.
    with_empty = copy.deepcopy(TEMPLATE)
    with_empty["metadata"]["annotations"] = {}
    with_empty["spec"]["volumes"] = []
    assert equal_ignore_hash(with_empty, TEMPLATE)
    other_label = copy.deepcopy(TEMPLATE)
    other_label["metadata"]["labels"]["tier"] = "front"
    assert not equal_ignore_hash(other_label, TEMPLATE)


def test_the_oldest_replica_set_with_the_current_template_is_the_new_one() -> None:
    old = replica_set("nginx-1", "2026-01-01T00:00:00Z", image="nginx:1.13", replicas=2)
    empty_old = replica_set("nginx-2", "2026-01-02T00:00:00Z", image="nginx:1.12", replicas=0)
    newer = replica_set("nginx-4", "2026-01-04T00:00:00Z")
    oldest = replica_set("nginx-3", "2026-01-03T00:00:00Z")
    rss = [old, newer, empty_old, oldest]
    assert find_new_replica_set(deployment(), rss) is oldest
    with_replicas, all_old = find_old_replica_sets(deployment(), rss)
    assert with_replicas == [old, newer]
    assert all_old == [old, newer, empty_old]


def test_without_a_new_replica_set_every_one_is_old() -> None:
    old = replica_set("nginx-1", "2026-01-01T00:00:00Z", image="nginx:1.13")
    assert find_new_replica_set(deployment(), [old]) is None
    assert find_old_replica_sets(deployment(), [old]) == ([old], [old])


def test_a_new_replica_set_is_named_labelled_and_sized_from_the_template_hash() -> None:
    d = deployment(annotations={CHANGE_CAUSE_ANNOTATION: "rollout"})
    d["metadata"].update({"namespace": "shop", "uid": "d-uid"})
    d["spec"]["selector"] = {"matchLabels": {"app": "nginx"}}
    d["spec"]["minReadySeconds"] = 5
    d["status"] = {"collisionCount": 2}
    old = replica_set("nginx-1", "2026-01-01T00:00:00Z", image="nginx:1.13", replicas=10)
    rs = new_replica_set(d, [old], "2")
    hashed = pod_template_hash(TEMPLATE, 2)  # the template before the label is added
    assert rs["metadata"]["name"] == f"nginx-{hashed}"
    assert rs["metadata"]["namespace"] == "shop"
    assert rs["metadata"]["labels"] == {"app": "nginx", "pod-template-hash": hashed}
    assert rs["spec"]["template"]["metadata"]["labels"] == rs["metadata"]["labels"]
    assert rs["spec"]["selector"] == {"matchLabels": {"app": "nginx", "pod-template-hash": hashed}}
    assert rs["spec"]["replicas"] == 3  # 10 old + 25% surge of 10
    assert rs["spec"]["minReadySeconds"] == 5
    (owner,) = rs["metadata"]["ownerReferences"]
    assert owner == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "nginx",
        "uid": "d-uid",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    assert rs["metadata"]["annotations"] == {
        CHANGE_CAUSE_ANNOTATION: "rollout",
        REVISION_ANNOTATION: "2",
        DESIRED_REPLICAS_ANNOTATION: "10",
        MAX_REPLICAS_ANNOTATION: "13",
    }
    # The Deployment's own template is left as it was.
    assert "pod-template-hash" not in d["spec"]["template"]["metadata"]["labels"]
    assert find_new_replica_set(d, [old, rs]) is rs
