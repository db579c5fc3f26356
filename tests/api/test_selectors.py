"""Label and field selectors parse, match and fail as apimachinery 1.32 does."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikube_py.api.resources import ResourceType
from minikube_py.api.selectors import (
    FieldSelector,
    LabelSelector,
    check_field_selector,
    object_fields,
)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("app=web", "app=web"),
        ("app==web", "app==web"),
        ("tier!=db", "tier!=db"),
        ("env in (prod, staging)", "env in (prod,staging)"),
        ("env notin (dev)", "env notin (dev)"),
        ("release", "release"),
        ("!canary", "!canary"),
        ("b=1,a=2", "a=2,b=1"),  # requirements are sorted by key, as upstream does
        ("x in (in)", "x in (in)"),  # "in" is a word in value position
        ("a=", "a="),
        ("x notin ()", "x notin ()"),
        ("", ""),
        (" app = web ", "app=web"),
        ("example.com/app=web", "example.com/app=web"),
        ("n>3", "n>3"),
    ],
)
def test_parse_round_trips_to_upstreams_string_form(text: str, shown: str) -> None:
    assert str(LabelSelector.parse(text)) == shown


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("a,", "found '', expected: identifier after ','"),
        ("a=(b", "unable to parse requirement: found '(', expected: identifier"),
        ("x in (a", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("x in a", "unable to parse requirement: found 'a' expected: '('"),
        ("!a=b", "found '=', expected: ',' or 'end of string'"),
        ("=a", "found '=', expected: !, identifier, or 'end of string'"),
        (
            "a>b",
            "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', 'Lt' "
            "operators, the value must be an integer",
        ),
        (
            "A@b=c",
            'unable to parse requirement: <nil>: Invalid value: "A@b": name part must consist '
            "of alphanumeric characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used "
            "for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        ),
        (
            "a=b@",
            'unable to parse requirement: values[0][a]: Invalid value: "b@": a valid label must '
            "be an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
            "must start and end with an alphanumeric character (e.g. 'MyValue',  or "
            "'my_value',  or '12345', regex used for validation is "
            "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        ),
    ],
)
def test_parse_errors_are_upstreams(text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        LabelSelector.parse(text)
    assert str(raised.value) == message


def test_matching_every_operator() -> None:
    labels = {"app": "web", "tier": "front", "n": "5"}
    cases = {
        "app=web": True, "app==db": False, "app!=db": True, "tier in (front,back)": True,
        "tier notin (front)": False, "missing notin (x)": True, "app": True, "!app": False,
        "!missing": True, "n>3": True, "n<3": False, "missing>3": False,
        "app=web,tier=back": False, "": True,
    }  # fmt: skip
    for text, expected in cases.items():
        assert LabelSelector.parse(text).matches(labels) is expected, text


def test_from_object_reads_match_labels_and_expressions() -> None:
    selector = LabelSelector.from_object(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["front", "back"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "env", "operator": "Exists"},
                {"key": "zone", "operator": "NotIn", "values": ["a"]},
            ],
        }
    )
    assert selector.matches({"app": "web", "tier": "back", "env": "x"})
    assert not selector.matches({"app": "web", "tier": "back", "env": "x", "canary": "1"})
    assert not selector.matches({"app": "web", "tier": "back", "env": "x", "zone": "a"})
    assert str(selector) == "app=web,!canary,env,tier in (back,front),zone notin (a)"


def test_nil_selects_nothing_and_empty_selects_everything() -> None:
    assert not LabelSelector.from_object(None).matches({})
    assert not LabelSelector.from_object(None).empty
    assert LabelSelector.from_object({}).matches({"any": "thing"})
    assert LabelSelector.from_object({}).empty
    assert LabelSelector.parse("").empty


def test_from_object_refuses_unknown_operators_and_empty_in_lists() -> None:
    with pytest.raises(ValueError, match='"Like" is not a valid label selector operator'):
        LabelSelector.from_object({"matchExpressions": [{"key": "a", "operator": "Like"}]})
    with pytest.raises(ValueError, match="values set can't be empty"):
        LabelSelector.from_object({"matchExpressions": [{"key": "a", "operator": "In"}]})


def test_field_selector_parsing_escaping_and_matching() -> None:
    selector = FieldSelector.parse("spec.nodeName=n1,status.phase!=Failed")
    assert [(r.field, r.operator, r.value) for r in selector.requirements] == [
        ("spec.nodeName", "=", "n1"),
        ("status.phase", "!=", "Failed"),
    ]
    assert selector.matches({"spec.nodeName": "n1", "status.phase": "Running"})
    assert not selector.matches({"spec.nodeName": "n2"})
    escaped = FieldSelector.parse(r"metadata.name==a\,b\=c\\d")
    assert escaped.requirements[0].value == "a,b=c\\d"
    assert str(escaped) == r"metadata.name=a\,b\=c\\d"
    assert FieldSelector.parse("").empty
    assert FieldSelector.parse("a=b,,").requirements[0].field == "a"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name", "invalid selector: 'name'; can't understand 'name'"),
        ("a=b=c", "invalid field selector: unescaped character in value: 61"),
        (r"a=b\x", r"invalid field selector: invalid escape sequence: \x"),
        ("a=b\\", "invalid field selector: invalid escape sequence: \\"),
    ],
)
def test_field_selector_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        FieldSelector.parse(text)
    assert str(raised.value) == message


def test_object_fields_per_kind() -> None:
    pod = {
        "metadata": {"name": "p", "namespace": "ns"},
        "spec": {"nodeName": "n1", "restartPolicy": "Always", "hostNetwork": True},
        "status": {"phase": "Running", "podIPs": [{"ip": "127.244.0.5"}]},
    }
    fields = object_fields("Pod", pod)
    assert fields["metadata.name"] == "p"
    assert fields["metadata.namespace"] == "ns"
    assert fields["spec.nodeName"] == "n1"
    assert fields["spec.hostNetwork"] == "true"
    assert fields["status.podIP"] == "127.244.0.5"
    assert fields["spec.serviceAccountName"] == ""
    event = {"involvedObject": {"kind": "Pod", "name": "p", "uid": "u"}, "reason": "Started",
             "source": {"component": "kubelet"}, "type": "Normal"}  # fmt: skip
    event_fields = object_fields("Event", event)
    assert event_fields["involvedObject.uid"] == "u"
    assert event_fields["source"] == "kubelet"
    assert object_fields("Secret", {"type": "Opaque"})["type"] == "Opaque"
    assert object_fields("Node", {"spec": {}})["spec.unschedulable"] == "false"
    assert object_fields("Namespace", {"status": {"phase": "Active"}})["status.phase"] == "Active"
    assert object_fields("ReplicaSet", {"status": {"replicas": 3}})["status.replicas"] == "3"
    assert object_fields("Job", {"status": {"succeeded": 1}})["status.successful"] == "1"


def test_check_field_selector_words_errors_like_the_api_server() -> None:
    assert check_field_selector("Pod", "spec.nodeName=n1,metadata.name=x") is None
    assert check_field_selector("Pod", "spec.foo=1") == "field label not supported: spec.foo"
    assert check_field_selector("Node", "metadata.namespace=x") == (
        "field label not supported: metadata.namespace"
    )
    assert check_field_selector("Deployment", "spec.foo=1") == (
        '"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"'
    )
    assert check_field_selector("Job", "status.succeeded=1") == (
        'field label "status.succeeded" not supported for batchv1.Job'
    )
    jobs = ResourceType("batch", "v1", "Job", "jobs", "job", True)
    assert check_field_selector(jobs, FieldSelector.parse("status.successful=1")) is None
    # apps/v1 ReplicaSets have status.replicas among their fields but no conversion for it.
    assert check_field_selector("ReplicaSet", "status.replicas=1") is not None
    assert check_field_selector("Pod", "nonsense") == (
        "invalid selector: 'nonsense'; can't understand 'nonsense'"
    )


json_values: Any = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(deadline=None)
@given(st.text())
def test_label_parsing_never_fails_otherwise(text: str) -> None:
    try:
        selector = LabelSelector.parse(text)
    except ValueError:
        return
    selector.matches({"a": "b"})
    LabelSelector.parse(str(selector))  # what we print, we read back


@settings(deadline=None)
@given(st.text())
def test_field_parsing_never_fails_otherwise(text: str) -> None:
    try:
        selector = FieldSelector.parse(text)
    except ValueError:
        return
    again = FieldSelector.parse(str(selector)).requirements
    assert sorted(again, key=str) == sorted(selector.requirements, key=str)


@settings(deadline=None)
@given(json_values, json_values)
def test_selector_objects_and_fields_never_crash(selector: Any, obj: Any) -> None:
    with contextlib.suppress(ValueError):
        LabelSelector.from_object(selector).matches(obj)
    for kind in ("Pod", "Event", "Secret", "Node", "Namespace", "ReplicaSet", "Job", "X"):
        assert all(isinstance(value, str) for value in object_fields(kind, obj).values())
