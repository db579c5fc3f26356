"""Label and field selectors: how a list, a watch or a controller says which objects it means.

A *label selector* is a conjunction of requirements on an object's labels: ``app=web``,
``tier!=db``, ``env in (prod,staging)``, ``env notin (dev)``, ``release`` (the key exists),
``!canary`` (it does not). ``kubectl get -l`` sends it as text, which ``LabelSelector.parse``
reads with upstream's own grammar and error messages; Deployments and Services carry it as an
object (``matchLabels`` / ``matchExpressions``), which ``LabelSelector.from_object`` reads.
The single terms and their checks live in ``label_requirements.py``, the text grammar in
``label_parser.py``; this module is the selector as a whole: build it, ask whether it is
empty, match labels against it, print it back.

Field selectors (``--field-selector``) live in ``field_selectors.py``; their public names are
re-exported here so that ``selectors`` is the one import for both.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# Re-exported: the field selector names belong to this module's public interface.
from minikube_py.api.field_selectors import FieldRequirement as FieldRequirement
from minikube_py.api.field_selectors import FieldSelector as FieldSelector
from minikube_py.api.field_selectors import check_field_selector as check_field_selector
from minikube_py.api.field_selectors import object_fields as object_fields
from minikube_py.api.label_parser import parse_requirements
from minikube_py.api.label_requirements import Requirement, new_requirement
from minikube_py.api.validation_causes import go_quote


class LabelSelector:
    """A parsed label selector; ``LabelSelector.nothing()`` is the one that matches nothing."""

    def __init__(self, requirements: Iterable[Requirement] = (), *, nothing: bool = False) -> None:
        self.requirements = tuple(sorted(requirements, key=lambda r: r.key))
        self._nothing = nothing

    @classmethod
    def parse(cls, text: str) -> LabelSelector:
        """Parse ``kubectl -l`` syntax; raises ``ValueError`` with upstream's message."""
        return cls(parse_requirements(text))

    @classmethod
    def nothing(cls) -> LabelSelector:
        return cls(nothing=True)

    @classmethod
    def from_object(cls, selector: Any) -> LabelSelector:
        """``metav1.LabelSelectorAsSelector``: None selects nothing, ``{}`` everything."""
        if selector is None:
            return cls.nothing()
        if not isinstance(selector, dict):
            raise ValueError("invalid label selector")
        labels, expressions = selector.get("matchLabels") or {}, selector.get("matchExpressions")
        if not isinstance(labels, dict) or not isinstance(expressions or [], list):
            raise ValueError("invalid label selector")
        requirements = []
        for key, value in labels.items():
            if not isinstance(value, str):
                raise ValueError(f"values[0][{key}]: Invalid value: {value!r}: must be a string")
            requirements.append(new_requirement(key, "=", [value]))
        for expr in expressions or []:
            expr = expr if isinstance(expr, dict) else {}
            operator = _EXPRESSION_OPERATORS.get(str(expr.get("operator")))
            if operator is None:
                raise ValueError(
                    f"{go_quote(str(expr.get('operator', '')))} is not a valid "
                    "label selector operator"
                )
            values = expr.get("values") or []
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ValueError("invalid label selector")
            requirements.append(new_requirement(str(expr.get("key", "")), operator, values))
        return cls(requirements)

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything (``Everything``)."""
        return not self._nothing and not self.requirements

    def matches(self, labels: Any) -> bool:
        labels = labels if isinstance(labels, dict) else {}
        return not self._nothing and all(r.matches(labels) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)


_EXPRESSION_OPERATORS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
