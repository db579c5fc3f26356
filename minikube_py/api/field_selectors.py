"""Field selectors: ``kubectl get --field-selector spec.nodeName=node-1``.

A field selector compares a few *selectable fields* of an object with ``=`` (or ``==``) and
``!=``; terms are joined by commas and all must hold. Inside a value, ``\\,`` ``\\=`` and
``\\\\`` stand for the characters that would otherwise end a term. Which fields a kind offers
is fixed by upstream per kind: every object has ``metadata.name`` and ``metadata.namespace``,
pods add ``spec.nodeName`` and ``status.phase`` and a few more, events their
``involvedObject.*``, and so on (``object_fields``). Asking a kind for any other field is a 400
whose message ``check_field_selector`` returns, worded as the 1.32 API server words it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from minikube_py.api.resources import ResourceType
from minikube_py.api.validation_causes import go_quote


@attrs.frozen
class FieldRequirement:
    """``field = value`` or ``field != value`` (``==`` is read as ``=``, as upstream does)."""

    field: str
    operator: str
    value: str

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")
        return f"{self.field}{self.operator}{escaped}"


def _split_terms(text: str) -> list[str]:
    terms, start, escaped = [], 0, False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            terms.append(text[start:index])
            start = index + 1
    return [*terms, text[start:]] if text else []


def _unescape(value: str) -> str:
    out, escaped = [], False
    for char in value:
        if escaped:
            if char not in "\\,=":
                raise ValueError(f"invalid field selector: invalid escape sequence: \\{char}")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            # Go prints the rune with %v, i.e. as its number.
            raise ValueError(f"invalid field selector: unescaped character in value: {ord(char)}")
        else:
            out.append(char)
    if escaped:
        raise ValueError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


class FieldSelector:
    """A parsed field selector: every requirement must hold."""

    def __init__(self, requirements: Iterable[FieldRequirement] = ()) -> None:
        self.requirements = tuple(requirements)

    @classmethod
    def parse(cls, text: str) -> FieldSelector:
        """Parse ``--field-selector`` syntax; raises ``ValueError`` with upstream's message."""
        requirements = []
        for term in sorted(_split_terms(text)):
            if not term:
                continue
            # The first operator wins; the left side has no escaping, the right side does.
            found = re.search("!=|==|=", term)
            if found is None:
                raise ValueError(f"invalid selector: '{text}'; can't understand '{term}'")
            operator = "!=" if found.group() == "!=" else "="
            value = _unescape(term[found.end() :])
            requirements.append(FieldRequirement(term[: found.start()], operator, value))
        return cls(requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, fields: Mapping[str, str]) -> bool:
        # A field the kind does not have reads as "", as in upstream's fields.Set.
        return all(
            (fields.get(r.field, "") == r.value) == (r.operator == "=") for r in self.requirements
        )

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else "" if value is None else str(value)


def object_fields(kind: str, obj: Any) -> dict[str, str]:
    """The selectable fields of an object of ``kind``, as upstream's ``GetAttrs`` builds them."""
    fields = {
        "metadata.name": _text(_get(obj, "metadata.name")),
        "metadata.namespace": _text(_get(obj, "metadata.namespace")),
    }
    if kind == "Pod":
        ips = _get(obj, "status.podIPs")
        first = ips[0] if isinstance(ips, list) and ips else None
        pod_ip = _get(first, "ip") if isinstance(first, dict) else _get(obj, "status.podIP")
        for path in (
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "status.phase",
            "status.nominatedNodeName",
        ):
            fields[path] = _text(_get(obj, path))
        fields["spec.hostNetwork"] = _text(_get(obj, "spec.hostNetwork") is True)
        fields["status.podIP"] = _text(pod_ip)
        fields["spec.host"] = fields["spec.nodeName"]  # old clients' name for spec.nodeName
    elif kind == "Event":
        for part in (
            "kind",
            "namespace",
            "name",
            "uid",
            "apiVersion",
            "resourceVersion",
            "fieldPath",
        ):
            fields[f"involvedObject.{part}"] = _text(_get(obj, f"involvedObject.{part}"))
        for path in ("reason", "reportingComponent", "type"):
            fields[path] = _text(_get(obj, path))
        fields["source"] = _text(_get(obj, "source.component")) or fields["reportingComponent"]
    elif kind == "Secret":
        fields["type"] = _text(_get(obj, "type"))
    elif kind == "Node":
        fields["spec.unschedulable"] = _text(_get(obj, "spec.unschedulable") is True)
    elif kind == "Namespace":
        fields["status.phase"] = _text(_get(obj, "status.phase"))
    elif kind in ("ReplicaSet", "ReplicationController"):
        fields["status.replicas"] = _text(_get(obj, "status.replicas") or 0)
    elif kind == "Job":
        fields["status.successful"] = _text(_get(obj, "status.succeeded") or 0)
    return fields


_POD_FIELDS = (
    "spec.nodeName spec.restartPolicy spec.schedulerName spec.serviceAccountName "
    "spec.hostNetwork status.phase status.podIP status.nominatedNodeName spec.host"
)
_EVENT_FIELDS = (
    "involvedObject.kind involvedObject.namespace involvedObject.name "
    "involvedObject.uid involvedObject.apiVersion involvedObject.resourceVersion "
    "involvedObject.fieldPath reason reportingComponent source type"
)
# Kinds with their own field-label conversion (upstream's AddFieldLabelConversionFunc); all
# others accept only metadata.name and metadata.namespace.
_CONVERSIONS = {
    ("", "Pod"): f"metadata.name metadata.namespace {_POD_FIELDS}",
    ("", "Event"): f"metadata.name metadata.namespace {_EVENT_FIELDS}",
    ("", "Node"): "metadata.name spec.unschedulable",
    ("", "Namespace"): "metadata.name status.phase",
    ("", "Secret"): "metadata.name metadata.namespace type",
    ("", "ReplicationController"): "metadata.name metadata.namespace status.replicas",
    ("batch", "Job"): "metadata.name metadata.namespace status.successful",
}
_GROUPS = {"Job": "batch", "ReplicaSet": "apps"}


def check_field_selector(
    kind: ResourceType | str, selector: FieldSelector | str, *, group: str | None = None
) -> str | None:
    """Upstream's 400 message for a field selector the kind cannot serve, else None.

    ``kind`` is a ``ResourceType`` or a kind name (then the group of a core kind is assumed,
    or pass ``group``). A selector given as text is parsed first; a parse error is returned.
    """
    if isinstance(kind, ResourceType):
        group = kind.group
        kind = kind.kind
    if isinstance(selector, str):
        try:
            parsed = FieldSelector.parse(selector)
        except ValueError as error:
            return str(error)
    else:
        parsed = selector
    group = _GROUPS.get(kind, "") if group is None else group
    allowed = _CONVERSIONS.get((group, kind))
    for requirement in parsed.requirements:
        label = requirement.field
        if allowed is None and label not in ("metadata.name", "metadata.namespace"):
            return (
                f"{go_quote(label)} is not a known field selector: only "
                '"metadata.name", "metadata.namespace"'
            )
        if allowed is not None and label not in allowed.split():
            if group == "batch":
                return f"field label {go_quote(label)} not supported for batchv1.Job"
            return f"field label not supported: {label}"
    return None
