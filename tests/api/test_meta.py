"""Object metadata rules, with the messages apimachinery 1.32 prints."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minikube_py.api.errors import Cause
from minikube_py.api.meta import name_errors, validate_object_meta
from minikube_py.api.resources import ResourceType
from minikube_py.api.stamps import NAME_ALPHABET, generate_name, new_uid, now_rfc3339

SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035 = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
)


def rt(kind: str, *, group: str = "", namespaced: bool = True) -> ResourceType:
    return ResourceType(group, "v1", kind, kind.lower() + "s", kind.lower(), namespaced)


PODS, SERVICES = rt("Pod"), rt("Service")
NAMESPACES = rt("Namespace", namespaced=False)


def messages(causes: list[Cause]) -> list[str]:
    return [f"{cause.field}: {cause.message}" for cause in causes]


def obj(**metadata: Any) -> dict[str, Any]:
    return {"metadata": {"namespace": "default", **metadata}}


def test_a_good_object_passes() -> None:
    good = obj(name="web-1", labels={"app": "web"}, annotations={"example.com/a": "x"})
    assert validate_object_meta(PODS, good, old=None) == []


def test_name_or_generate_name_is_required() -> None:
    causes = validate_object_meta(PODS, obj(), old=None)
    assert messages(causes) == ["metadata.name: Required value: name or generateName is required"]
    assert causes[0].reason == "FieldValueRequired"


@pytest.mark.parametrize(
    ("resource", "name", "expected"),
    [
        (PODS, "Web", f'metadata.name: Invalid value: "Web": {SUBDOMAIN}'),
        (NAMESPACES, "a.b", 'metadata.name: Invalid value: "a.b": must not contain dots'),
        (NAMESPACES, "A", f'metadata.name: Invalid value: "A": {LABEL}'),
        (SERVICES, "1web", f'metadata.name: Invalid value: "1web": {DNS1035}'),
        (rt("StatefulSet", group="apps"), "a.b", 'metadata.name: Invalid value: "a.b": must not '
         "contain dots"),
    ],
)  # fmt: skip
def test_names_follow_each_kinds_rule(resource: ResourceType, name: str, expected: str) -> None:
    metadata = {"name": name, "namespace": "default"} if resource.namespaced else {"name": name}
    assert messages(validate_object_meta(resource, {"metadata": metadata}, old=None)) == [expected]


def test_long_names_and_path_segment_names() -> None:
    long = "a" * 254
    assert name_errors(PODS, long) == ["must be no more than 253 characters"]
    assert name_errors(NAMESPACES, "a" * 64) == ["must be no more than 63 characters"]
    roles = rt("Role", group="rbac.authorization.k8s.io")
    assert name_errors(roles, "system:admin") == []
    assert name_errors(roles, "..") == ["may not be '..'"]
    assert name_errors(roles, "a/b%") == ["may not contain '/'", "may not contain '%'"]
    cronjobs = rt("CronJob", group="batch")
    causes = validate_object_meta(cronjobs, obj(name="c" * 53), old=None)
    assert messages(causes) == [f'metadata.name: Invalid value: "{"c" * 53}": must be no more '
                                "than 52 characters"]  # fmt: skip


def test_generate_name_prefix_may_end_with_a_dash() -> None:
    assert validate_object_meta(PODS, obj(name="web-abcde", generateName="web-"), old=None) == []
    causes = validate_object_meta(PODS, obj(name="x", generateName="Web-"), old=None)
    assert messages(causes) == [f'metadata.generateName: Invalid value: "Web-": {SUBDOMAIN}']


def test_namespace_rules_by_scope() -> None:
    missing = validate_object_meta(PODS, {"metadata": {"name": "a"}}, old=None)
    assert messages(missing) == ["metadata.namespace: Required value"]
    stray = validate_object_meta(NAMESPACES, {"metadata": {"name": "a", "namespace": "b"}})
    assert messages(stray) == ["metadata.namespace: Forbidden: not allowed on this type"]


def test_labels_and_annotations() -> None:
    causes = validate_object_meta(
        PODS, obj(name="a", labels={"app": "web app", "-x": "1"}, annotations={"a b": "1"})
    )
    text = messages(causes)
    assert text[0].startswith('metadata.labels: Invalid value: "web app": a valid label must be')
    assert text[1].startswith('metadata.labels: Invalid value: "-x": name part must consist of')
    assert text[2].startswith('metadata.annotations: Invalid value: "a b": name part must')
    prefix = validate_object_meta(PODS, obj(name="a", labels={"/x": "1", "a/b/c": "1"}))
    assert (
        messages(prefix)[0] == 'metadata.labels: Invalid value: "/x": prefix part must be non-empty'
    )
    assert "a qualified name must consist of" in messages(prefix)[1]
    long_value = validate_object_meta(PODS, obj(name="a", labels={"a": "v" * 64}))
    assert messages(long_value)[0] == (
        f'metadata.labels: Invalid value: "{"v" * 64}": must be no more than 63 characters'
    )


def test_annotations_share_256_kib() -> None:
    big = obj(name="a", annotations={"a": "x" * 200_000, "b": "y" * 70_000})
    assert messages(validate_object_meta(PODS, big)) == [
        "metadata.annotations: Too long: may not be more than 262144 bytes"
    ]


def test_owner_references_and_finalizers() -> None:
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "controller": True}
    owners = [
        {"apiVersion": "", "kind": "", "name": "", "uid": ""},
        {**owner, "name": "a", "uid": "1"},
        {**owner, "name": "b", "uid": "2"},
    ]
    text = messages(validate_object_meta(PODS, obj(name="a", ownerReferences=owners)))
    assert text[:4] == [
        'metadata.ownerReferences.apiVersion: Invalid value: "": version must not be empty',
        'metadata.ownerReferences.kind: Invalid value: "": must not be empty',
        'metadata.ownerReferences.name: Invalid value: "": must not be empty',
        'metadata.ownerReferences.uid: Invalid value: "": must not be empty',
    ]
    assert text[4].endswith(
        'Only one reference can have Controller set to true. Found "true" in references for '
        "ReplicaSet/a and ReplicaSet/b"
    )
    finalizers = ["example.com/cleanup", "kubernetes", "custom", "bad name/x"]
    text = messages(validate_object_meta(PODS, obj(name="a", finalizers=finalizers)))
    assert text[0].startswith('metadata.finalizers: Invalid value: "bad name/x": prefix part a ')
    assert text[-1] == (
        'metadata.finalizers[2]: Invalid value: "custom": name is neither a standard finalizer '
        "name nor is it fully qualified"
    )


def test_identity_is_immutable_on_update() -> None:
    old = obj(name="a", uid="1", creationTimestamp="2024-01-02T03:04:05Z")
    new = obj(name="b", namespace="other", uid="2", creationTimestamp="2024-01-02T03:04:06Z")
    assert messages(validate_object_meta(PODS, new, old=old)) == [
        'metadata.name: Invalid value: "b": field is immutable',
        'metadata.namespace: Invalid value: "other": field is immutable',
        'metadata.uid: Invalid value: "2": field is immutable',
        "metadata.creationTimestamp: Invalid value: 2024-01-02 03:04:06 +0000 UTC: field is "
        "immutable",
    ]
    # Empty server-owned fields mean "keep" (the server carries them over).
    assert validate_object_meta(PODS, obj(name="a"), old=old) == []


def test_no_new_finalizers_while_deleting() -> None:
    old = obj(name="a", deletionTimestamp="2024-01-02T03:04:05Z", finalizers=["example.com/a"])
    new = obj(name="a", finalizers=["example.com/a", "example.com/b"])
    assert messages(validate_object_meta(PODS, new, old=old)) == [
        "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being "
        'deleted, found new finalizers []string{"example.com/b"}'
    ]


def test_generated_names_uids_and_timestamps() -> None:
    name = generate_name("web-")
    assert re.fullmatch(f"web-[{NAME_ALPHABET}]{{5}}", name)
    assert len(generate_name("x" * 100)) == 63
    assert generate_name("x" * 100).startswith("x" * 58)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", new_uid())
    moment = datetime(2024, 1, 2, 3, 4, 5, 678, tzinfo=UTC)
    assert now_rfc3339(moment) == "2024-01-02T03:04:05Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", now_rfc3339())


json_values: Any = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=25,
)
metadata_like: Any = st.fixed_dictionaries(
    {},
    optional={
        key: json_values
        for key in ("name", "generateName", "namespace", "labels", "annotations", "uid",
                    "ownerReferences", "finalizers", "generation", "deletionTimestamp")
    },
)  # fmt: skip


@settings(deadline=None)
@given(st.one_of(json_values, st.builds(lambda m: {"metadata": m}, metadata_like)), json_values)
def test_metadata_validation_never_raises(candidate: Any, old: Any) -> None:
    for resource in (PODS, NAMESPACES, SERVICES):
        for before in (None, old, {"metadata": {"name": "x", "deletionTimestamp": "t"}}):
            causes = validate_object_meta(resource, candidate, old=before)
            assert all(isinstance(cause, Cause) for cause in causes)
