"""Workload validation: selectors, templates, strategies and update rules, as upstream says."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from minikube_py.api.defaults import apply_defaults
from minikube_py.api.defaults_workloads import generate_job_selector
from minikube_py.api.errors import invalid
from minikube_py.api.validation import validate
from tests.api.test_validation import pod_template, problems, rt


def deployment(**spec: Any) -> dict[str, Any]:
    base = {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": pod_template()}
    return {"metadata": {"name": "web"}, "spec": {**base, **spec}}


def test_deployment_selector_and_template() -> None:
    assert problems("Deployment", deployment(), "apps") == []
    mismatch = deployment(template=pod_template({"app": "x"}))
    assert problems("Deployment", mismatch, "apps") == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` '
        "does not match template `labels`"
    ]
    no_selector = deployment()
    del no_selector["spec"]["selector"]
    assert problems("Deployment", no_selector, "apps") == [
        "spec.selector: Required value",
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: '
        "`selector` does not match template `labels`",
    ]
    assert problems("Deployment", deployment(selector={}), "apps") == [
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for "
        "deployment"
    ]


def test_deployment_numbers_policies_and_strategy() -> None:
    bad = deployment(
        replicas=-1,
        template=pod_template(restartPolicy="Never"),
        strategy={
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "0%"},
        },
    )
    assert problems("Deployment", bad, "apps") == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, "
        'IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0',
    ]


@pytest.mark.parametrize(
    ("kind", "word"),
    [("Deployment", "deployment"), ("ReplicaSet", "deployment"), ("DaemonSet", "daemonset")],
)
def test_selectors_are_immutable_in_apps_v1(kind: str, word: str) -> None:
    old = deployment()
    apply_defaults(rt(kind, "apps"), old)
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"matchLabels": {"app": "web", "tier": "front"}}
    new["spec"]["template"]["metadata"]["labels"]["tier"] = "front"
    assert problems(kind, new, "apps", old=old)[-1] == (
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", '
        '"tier":"front"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable'
    )
    assert problems(kind, deployment(selector={}), "apps")[-1].endswith(
        f"empty selector is invalid for {word}"
    )


def test_stateful_set_updates_are_limited() -> None:
    selector = {"matchLabels": {"app": "web"}}
    spec = {"selector": selector, "serviceName": "db", "template": pod_template()}
    old = {"metadata": {"name": "db"}, "spec": spec}
    assert problems("StatefulSet", old, "apps") == []  # defaults it, as stored objects are
    scaled = copy.deepcopy(old)
    scaled["spec"]["replicas"] = 5
    assert problems("StatefulSet", scaled, "apps", old=old) == []
    renamed = copy.deepcopy(old)
    renamed["spec"]["serviceName"] = "other"
    assert problems("StatefulSet", renamed, "apps", old=old) == [
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', "
        "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
        "'minReadySeconds' are forbidden"
    ]


def test_daemon_set_rolling_update_budget() -> None:
    rolling = {"maxUnavailable": 1, "maxSurge": 1}
    ds = deployment(updateStrategy={"type": "RollingUpdate", "rollingUpdate": rolling})
    del ds["spec"]["replicas"]
    assert problems("DaemonSet", ds, "apps") == [
        "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:0, "
        'IntVal:1, StrVal:""}: may not be set when maxUnavailable is non-zero'
    ]


def job(restart: str | None = "Never") -> dict[str, Any]:
    template = pod_template(**({"restartPolicy": restart} if restart else {}))
    return {"metadata": {"name": "pi", "uid": "u-1"}, "spec": {"template": template}}


def test_jobs_need_a_restart_policy_and_a_generated_selector() -> None:
    missing = job(restart=None)
    generate_job_selector(missing)
    assert problems("Job", missing, "batch") == [
        'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'
    ]
    wrong = job(restart="Sometimes")
    generate_job_selector(wrong)
    assert problems("Job", wrong, "batch") == [  # the pod spec's rule, then the Job's
        'spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: '
        '"Always", "OnFailure", "Never"',
        'spec.template.spec.restartPolicy: Unsupported value: "Sometimes": supported values: '
        '"OnFailure", "Never"',
    ]
    hand_made = job()
    hand_made["spec"]["selector"] = {"matchLabels": {"app": "web"}}
    generate_job_selector(hand_made)
    assert problems("Job", hand_made, "batch")[-1].endswith("`selector` not auto-generated")


def test_job_template_is_immutable() -> None:
    old = job()
    generate_job_selector(old)
    apply_defaults(rt("Job", "batch"), old)
    new = copy.deepcopy(old)
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "perl:2"
    found = problems("Job", new, "batch", old=old)
    assert len(found) == 1
    assert found[0].startswith("spec.template: Invalid value: ")
    assert found[0].endswith(": field is immutable")
    new = copy.deepcopy(old)
    new["spec"]["completions"] = 3
    assert problems("Job", new, "batch", old=old) == [
        "spec.completions: Invalid value: 3: field is immutable"
    ]


def cron_job(schedule: str, **spec: Any) -> dict[str, Any]:
    template = {"spec": {"template": pod_template(restartPolicy="OnFailure")}}
    return {
        "metadata": {"name": "c"},
        "spec": {"schedule": schedule, "jobTemplate": template, **spec},
    }


@pytest.mark.parametrize(
    ("schedule", "error"),
    [
        ("*/5 * * * *", None),
        ("@hourly", None),
        ("0 0 * jan-mar mon", None),
        ("foo", "expected exactly 5 fields, found 1: [foo]"),
        ("61 * * * *", "end of range (61) above maximum (59): 61"),
        ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
        ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
        ("@often", "unrecognized descriptor: @often"),
    ],
)
def test_cron_schedules(schedule: str, error: str | None) -> None:
    expected = [] if error is None else [f'spec.schedule: Invalid value: "{schedule}": {error}']
    assert problems("CronJob", cron_job(schedule), "batch") == expected


def test_cron_job_policy_and_template_selector() -> None:
    bad = cron_job("@daily", concurrencyPolicy="Sometimes")
    bad["spec"]["jobTemplate"]["spec"]["selector"] = {"matchLabels": {"app": "web"}}
    found = problems("CronJob", bad, "batch")
    assert found[0] == (
        'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", '
        '"Forbid", "Replace"'
    )
    assert found[1].endswith("`selector` will be auto-generated")
    assert problems("CronJob", cron_job("@daily", timeZone="Mars/Base"), "batch") == [
        'spec.timeZone: Invalid value: "Mars/Base": unknown time zone Mars/Base'
    ]


def test_messages_join_into_upstreams_summary() -> None:
    found = validate(rt("Deployment", "apps"), deployment(replicas=-1, template=pod_template()))
    error = invalid(rt("Deployment", "apps"), "web", found)
    assert "spec.replicas: Invalid value: -1: must be greater than or equal to 0" in error.message
