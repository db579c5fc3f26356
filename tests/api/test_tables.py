"""Tables: their shape, the AGE clock, and which Accept headers ask for one."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from minikube_py.api.catalog import builtin_registry
from minikube_py.api.errors import ApiError
from minikube_py.api.resources import ResourceType
from minikube_py.api.tables import human_duration, to_table, wants_table

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)

REGISTRY = builtin_registry()


def ago(**delta: float) -> str:
    return (NOW - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def rt_of(group: str, version: str, plural: str) -> ResourceType:
    rt = REGISTRY.get(group, version, plural)
    assert rt is not None
    return rt


def cells(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """The one row of ``obj``, keyed by column name."""
    table = to_table(rt, [obj], resource_version="7", now=NOW)
    names = [c["name"] for c in table["columnDefinitions"]]
    return dict(zip(names, table["rows"][0]["cells"], strict=True))


MS = timedelta(milliseconds=1)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)

YEAR = 365 * DAY


# Upstream's TestHumanDurationBoundaries, case for case.


@pytest.mark.parametrize(
    ("delta", "want"),
    [
        (timedelta(seconds=-2), "<invalid>"),
        (timedelta(seconds=-2, microseconds=1), "0s"),
        (timedelta(0), "0s"),
        (timedelta(seconds=1) - MS, "0s"),
        (timedelta(minutes=2) - MS, "119s"),
        (timedelta(minutes=2), "2m"),
        (timedelta(minutes=2, seconds=1), "2m1s"),
        (timedelta(minutes=10) - MS, "9m59s"),
        (timedelta(minutes=10), "10m"),
        (timedelta(minutes=10, seconds=1), "10m"),
        (3 * HOUR - MS, "179m"),
        (3 * HOUR, "3h"),
        (timedelta(hours=3, minutes=1), "3h1m"),
        (8 * HOUR - MS, "7h59m"),
        (8 * HOUR, "8h"),
        (timedelta(hours=8, minutes=59), "8h"),
        (2 * DAY - MS, "47h"),
        (2 * DAY, "2d"),
        (2 * DAY + HOUR, "2d1h"),
        (8 * DAY - MS, "7d23h"),
        (8 * DAY, "8d"),
        (8 * DAY + 23 * HOUR, "8d"),
        (2 * YEAR - MS, "729d"),
        (2 * YEAR, "2y"),
        (2 * YEAR + 23 * HOUR + timedelta(minutes=59), "2y"),
        (2 * YEAR + DAY - MS, "2y"),
        (2 * YEAR + DAY, "2y1d"),
        (3 * YEAR, "3y"),
        (8 * YEAR - MS, "7y364d"),
        (8 * YEAR, "8y"),
        (8 * YEAR + 364 * DAY, "8y"),
        (9 * YEAR, "9y"),
        (timedelta(seconds=190), "3m10s"),
        (timedelta(minutes=70), "70m"),
        (49 * HOUR, "2d1h"),
        (367 * DAY, "367d"),
    ],
)
def test_human_duration_matches_upstream(delta: timedelta, want: str) -> None:
    assert human_duration(delta) == want


def test_table_shape() -> None:
    pods = rt_of("", "v1", "pods")
    pod = {
        "metadata": {
            "name": "web",
            "namespace": "default",
            "uid": "u1",
            "creationTimestamp": ago(minutes=5),
        }
    }
    table = to_table(pods, [pod], resource_version="42", continue_token="abc", now=NOW)
    assert table["kind"] == "Table"
    assert table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {"resourceVersion": "42", "continue": "abc"}
    definitions = table["columnDefinitions"]
    assert [d["name"] for d in definitions] == [
        "Name", "Ready", "Status", "Restarts", "Age",
        "IP", "Node", "Nominated Node", "Readiness Gates",
    ]  # fmt: skip
    assert set(definitions[0]) == {"name", "type", "format", "description", "priority"}
    assert definitions[0]["format"] == "name"
    assert [d["priority"] for d in definitions] == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    (row,) = table["rows"]
    assert row["cells"][0] == "web"
    assert row["cells"][4] == "5m"
    assert row["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": pod["metadata"],
    }
    json.dumps(table)  # everything in it is plain JSON


def test_table_options() -> None:
    pods = rt_of("", "v1", "pods")
    pod = {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "c"}]}}
    full = to_table(pods, [pod], resource_version="1", include_object="Object")
    assert full["rows"][0]["object"] is pod
    bare = to_table(pods, [pod], resource_version="1", include_object="None")
    assert "object" not in bare["rows"][0]
    later = to_table(pods, [pod], resource_version="1", with_column_definitions=False)
    assert later["columnDefinitions"] == []
    assert "continue" not in later["metadata"]
    empty = to_table(pods, [], resource_version="9")
    assert empty["rows"] == []
    with pytest.raises(ApiError) as caught:
        to_table(pods, [pod], resource_version="1", include_object="Everything")
    assert caught.value.code == 400


def test_age_without_timestamp_is_unknown() -> None:
    row = cells(rt_of("", "v1", "configmaps"), {"metadata": {"name": "cm"}})
    assert row == {"Name": "cm", "Data": 0, "Age": "<unknown>"}


@pytest.mark.parametrize(
    ("accept", "want"),
    [
        ("application/json;as=Table;v=v1;g=meta.k8s.io", True),
        ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json", True),
        ("application/json;as=Table;v=v1beta1;g=meta.k8s.io, application/json", True),
        ("application/json; as=Table; g=meta.k8s.io; v=v1", True),
        ("application/json;as=Table;v=v2;g=meta.k8s.io", False),
        ("application/json;as=Table;v=v1;g=example.com", False),
        ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", False),
        ("application/json", False),
        ("", False),
    ],
)
def test_wants_table(accept: str, want: bool) -> None:
    assert wants_table(accept) is want


MINIMAL: list[dict[str, Any]] = [
    {},
    {"metadata": {"name": "x"}},
    {"metadata": {"name": "x", "creationTimestamp": None, "labels": None}, "spec": None},
    {"metadata": {"name": "x"}, "spec": [], "status": "odd", "data": "not-a-map"},
    {
        "metadata": {"name": "x"},
        "spec": {"containers": None, "ports": [None, 3]},
        "status": {"conditions": [None, "x"], "containerStatuses": [{"state": None}]},
    },
]


@pytest.mark.parametrize("rt", list(REGISTRY), ids=str)
def test_every_kind_prints_minimal_objects(rt: ResourceType) -> None:
    table = to_table(rt, MINIMAL, resource_version="1", now=NOW)
    assert len(table["rows"]) == len(MINIMAL)
    for row in table["rows"]:
        assert len(row["cells"]) == len(table["columnDefinitions"])
    json.dumps(table)
