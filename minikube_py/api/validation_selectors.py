"""The parts of workload validation that every controller kind shares.

A controller finds its pods by a label *selector* and makes them from a pod *template*; these
helpers check the selector as upstream's ``metav1`` validation does, turn it into a
``LabelSelector``, check that the template's labels match it and that the template's pods
restart ``Always``, and check rolling-update budgets, which are integers or percentages
(``25%``). They are used by ``validation_workloads.py`` and ``validation_strategies.py``
(apps) and ``validation_batch.py``.
"""

from __future__ import annotations

import re
from typing import Any

from minikube_py.api.errors import Cause
from minikube_py.api.meta import validate_labels
from minikube_py.api.selectors import LabelSelector
from minikube_py.api.validation_causes import (
    IMMUTABLE,
    Rendered,
    as_dict,
    forbidden,
    go_label_selector,
    go_quote,
    go_string_map,
    invalid,
    is_int,
    items,
    mapping,
    nonnegative,
    not_supported,
    required,
    same,
    text,
)
from minikube_py.api.validation_formats import is_label_value, is_percent, is_qualified_name


def validate_label_selector(selector: Any, path: str) -> list[Cause]:
    """``ValidateLabelSelector`` of ``metav1``: keys, operators and values."""
    causes = validate_labels(as_dict(selector).get("matchLabels"), f"{path}.matchLabels")
    for index, expr in enumerate(items(selector, "matchExpressions")):
        at, operator, values = (
            f"{path}.matchExpressions[{index}]",
            text(expr, "operator"),
            items(expr, "values"),
        )
        if operator in ("In", "NotIn") and not values:
            causes.append(
                required(f"{at}.values", "must be specified when `operator` is 'In' or 'NotIn'")
            )
        elif operator in ("Exists", "DoesNotExist") and values:
            causes.append(
                forbidden(
                    f"{at}.values",
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                )
            )
        elif operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            causes.append(invalid(f"{at}.operator", operator, "not a valid selector operator"))
        key = text(expr, "key")
        causes += [invalid(f"{at}.key", key, msg) for msg in is_qualified_name(key)]
        for value_index, value in enumerate(values):
            shown = value if isinstance(value, str) else str(value)
            causes += [
                invalid(f"{at}.values[{value_index}]", value, msg) for msg in is_label_value(shown)
            ]
    return causes


def as_selector(selector: Any) -> LabelSelector | None:
    """``LabelSelectorAsSelector``; None when it fails (the caller reports that)."""
    try:
        return LabelSelector.from_object(selector)
    except ValueError:
        return None


def required_selector(spec: dict[str, Any], path: str, kind: str) -> list[Cause]:
    selector = spec.get("selector")
    if selector is None:
        return [required(f"{path}.selector")]
    causes = validate_label_selector(selector, f"{path}.selector")
    if not mapping(selector, "matchLabels") and not items(selector, "matchExpressions"):
        causes.append(
            invalid(
                f"{path}.selector",
                go_label_selector(selector),
                f"empty selector is invalid for {kind}",
            )
        )
    return causes


def template_matches(selector: LabelSelector, template: Any, path: str) -> list[Cause]:
    labels = mapping(template, "metadata").get("labels")
    if selector.empty or selector.matches(labels):
        return []
    return [
        invalid(
            f"{path}.metadata.labels",
            go_string_map(labels),
            "`selector` does not match template `labels`",
        )
    ]


def always_restarts(template: Any, path: str, kind: str) -> list[Cause]:
    spec = mapping(template, "spec")
    causes: list[Cause] = []
    if text(spec, "restartPolicy") != "Always":
        causes.append(
            not_supported(f"{path}.spec.restartPolicy", text(spec, "restartPolicy"), ["Always"])
        )
    if spec.get("activeDeadlineSeconds") is not None:
        causes.append(
            forbidden(
                f"{path}.spec.activeDeadlineSeconds",
                f"activeDeadlineSeconds in {kind} is not Supported",
            )
        )
    return causes


def int_or_string(value: Any) -> Rendered:
    if isinstance(value, str):
        return Rendered(f"intstr.IntOrString{{Type:1, IntVal:0, StrVal:{go_quote(value)}}}")
    number = value if is_int(value) else 0
    return Rendered(f'intstr.IntOrString{{Type:0, IntVal:{number}, StrVal:""}}')


def amount(value: Any) -> int:
    """``getIntOrPercentValue``: the number of a percentage or an integer, else 0."""
    if isinstance(value, str):
        digits = value[:-1] if re.fullmatch("[0-9]+%", value) else value
        return int(digits) if re.fullmatch("[0-9]+", digits) else 0
    return value if is_int(value) else 0


def int_or_percent(value: Any, path: str) -> list[Cause]:
    if isinstance(value, str):
        causes = [invalid(path, int_or_string(value), msg) for msg in is_percent(value)]
        if not causes and amount(value) > 100:
            causes.append(invalid(path, int_or_string(value), "must not be greater than 100%"))
        return causes
    return nonnegative(path, value)


def immutable_selector(spec: dict[str, Any], old: Any) -> list[Cause]:
    """apps/v1 refuses selector changes (the registry's check, not the type's)."""
    if old is None or same(spec.get("selector"), mapping(old, "spec").get("selector")):
        return []
    return [invalid("spec.selector", go_label_selector(spec.get("selector")), IMMUTABLE)]
