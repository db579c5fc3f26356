"""kubectl's JSONPath templates (``-o jsonpath=``), on plain data: what each construct yields
and how the values print — the behaviour the real kubectl 1.32 shows for the same templates."""

from __future__ import annotations

from typing import Any

import pytest

from minikube_py.kubectl.jsonpath import JsonPathError, parse, render

POD_LIST: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "List",
    "items": [
        {
            "kind": "Pod",
            "metadata": {"name": "web-1", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": "busybox"}]},
            "status": {"phase": "Running", "podIP": "127.244.0.2", "restarts": 0},
        },
        {
            "kind": "Pod",
            "metadata": {"name": "web-2", "labels": {"app.kubernetes.io/name": "w"}},
            "spec": {"containers": [{"name": "app", "image": "nginx"}, {"image": "side"}]},
            "status": {"phase": "Pending", "restarts": 3},
        },
    ],
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{.kind}", "List"),
        ("{$.kind}", "List"),
        ("{@.kind}", "List"),
        ("kind={.kind}!", "kind=List!"),
        ("{.items[*].metadata.name}", "web-1 web-2"),
        ("{.items[0].metadata.name}", "web-1"),
        ("{.items[-1].metadata.name}", "web-2"),
        ("{.items[0:1].metadata.name}", "web-1"),
        ("{.items[::1].status.phase}", "Running Pending"),
        ("{.items[0,1].status.restarts}", "0 3"),
        ("{.items[0].metadata['name','kind']}", "web-1"),
        ("{.items[0].metadata.labels}", '{"app":"web"}'),
        ("{.items[1].metadata.labels.app\\.kubernetes\\.io/name}", "w"),
        ("{.items[0].spec.containers}", '[{"image":"busybox","name":"app"}]'),
        ("{..image}", "busybox nginx side"),
        ("{.items[0].status.*}", "Running 127.244.0.2 0"),
        ('{.items[?(@.status.phase=="Pending")].metadata.name}', "web-2"),
        ("{.items[?(@.status.phase!='Pending')].metadata.name}", "web-1"),
        ("{.items[?(@.status.restarts>1)].metadata.name}", "web-2"),
        ("{.items[?(@.status.podIP)].metadata.name}", "web-1"),
        ("{.missing}{.items[0].missing.deeper}", ""),
        (
            '{range .items[*]}{.metadata.name}{"\\t"}{.status.phase}{"\\n"}{end}',
            "web-1\tRunning\nweb-2\tPending\n",
        ),
        ("{range .items}[{.metadata.name}]{end}", "[]"),  # once, on the list itself
        (
            "{range .items[*]}{range .spec.containers[*]}{.image},{end};{end}",
            "busybox,;nginx,side,;",
        ),
        ("{true} {1.5}", "true 1.5"),
    ],
)
def test_templates_print_as_kubectl(template: str, expected: str) -> None:
    assert render(template, POD_LIST) == expected


def test_html_characters_in_json_values_are_escaped_as_go_does() -> None:
    assert render("{.a}", {"a": {"b": "<x> & y"}}) == '{"b":"\\u003cx\\u003e \\u0026 y"}'


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{.items[*].metadata.name", "unclosed action"),
        ('{.metadata["name"]}', 'invalid array index "name"'),
        ("{range .items[*]}{.a}", "unclosed range"),
        ("{end}", "not in range, nothing to end"),
        ("{.items[::-1]}", "step must be > 0"),
    ],
)
def test_malformed_templates_are_refused_with_kubectls_reason(template: str, reason: str) -> None:
    with pytest.raises(JsonPathError, match=f"^{reason}$"):
        parse(template)


def test_an_index_past_the_end_is_an_error_not_an_empty_result() -> None:
    with pytest.raises(JsonPathError, match="array index out of bounds: index 5, length 2"):
        render("{.items[5].metadata.name}", POD_LIST)


def test_indexing_something_that_is_not_a_list_is_an_error() -> None:
    with pytest.raises(JsonPathError, match=r"^string is not array or slice$"):
        render("{.kind[0]}", POD_LIST)
    with pytest.raises(JsonPathError, match=r"^map\[string\]interface \{\} is not array"):
        render("{.items[0].metadata[0]}", POD_LIST)
