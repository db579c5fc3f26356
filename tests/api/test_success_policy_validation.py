"""Validation of a Job's successPolicy, with upstream's messages (pkg/apis/batch/validation)."""

from __future__ import annotations

from typing import Any

from minikube_py.api.validation_batch import validate_job


def job(policy: Any, *, mode: str = "Indexed", completions: int = 5) -> dict[str, Any]:
    labels = {"batch.kubernetes.io/controller-uid": "u", "controller-uid": "u"}
    labels |= {"batch.kubernetes.io/job-name": "j", "job-name": "j"}
    return {
        "metadata": {"name": "j", "uid": "u"},
        "spec": {
            "completions": completions,
            "completionMode": mode,
            "successPolicy": policy,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": "c",
                            "image": "busybox",
                            "imagePullPolicy": "Always",
                            "terminationMessagePolicy": "File",
                        }
                    ],
                    "dnsPolicy": "ClusterFirst",
                },
            },
        },
    }


def messages(obj: dict[str, Any]) -> list[str]:
    return [
        f"{c.field}: {c.message}"
        for c in validate_job(obj, None)
        if "successPolicy" in c.field or "completionMode" in c.field
    ]


def test_a_good_policy_passes() -> None:
    assert messages(job({"rules": [{"succeededIndexes": "0,2-3", "succeededCount": 2}]})) == []


def test_a_policy_needs_indexed_mode() -> None:
    found = messages(job({"rules": [{"succeededCount": 1}]}, mode="NonIndexed"))
    assert found == [
        'spec.completionMode: Invalid value: "NonIndexed": requires indexed completion mode'
    ]


def test_rules_and_their_fields_are_required() -> None:
    assert messages(job({"rules": []})) == [
        "spec.successPolicy.rules: Required value: at least one rules must be specified when the "
        "successPolicy is specified"
    ]
    assert messages(job({"rules": [{}]})) == [
        "spec.successPolicy.rules[0]: Required value: at least one of succeededCount or "
        "succeededIndexes must be specified"
    ]


def test_counts_and_indexes_must_be_reachable() -> None:
    found = messages(job({"rules": [{"succeededIndexes": "1-2", "succeededCount": 3}]}))
    assert found == [
        "spec.successPolicy.rules[0].succeededCount: Invalid value: 3: must be less than or "
        "equal to 2 (the number of indexes in the specified succeededIndexes field)"
    ]
    found = messages(job({"rules": [{"succeededIndexes": "3,1"}]}))
    assert len(found) == 1 and "error parsing succeededIndexes" in found[0]
    found = messages(job({"rules": [{"succeededIndexes": "7"}]}))
    assert len(found) == 1 and "too large index: 7" in found[0]
    assert len(messages(job({"rules": [{"succeededCount": 1}] * 21}))) == 1
