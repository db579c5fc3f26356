"""Printer columns of RBAC, scheduling, leases, certificates and API-extension kinds.

These are the kinds an administrator lists: role bindings (``ClusterRole/admin`` and, with
``-o wide``, the users, groups and service accounts bound), priority classes, leases and who
holds them, certificate requests (``Approved,Issued``), webhook configurations and admission
policies, API services (``Local`` or ``namespace/service``, ``True``). Kinds upstream has no
printer for — roles, cluster roles, limit ranges, custom resource definitions — get its
default NAME / CREATED AT columns (``printers.DEFAULT_COLUMNS``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from minikube_py.api.printers import (
    AGE,
    NAME,
    Obj,
    condition,
    dig,
    human_duration,
    integer,
    items,
    mapping,
    text,
)
from minikube_py.api.resources import CellFunction, Column


def _subjects(kind: str) -> CellFunction:
    """``rbac.SubjectsStrings``: one kind of subject, service accounts as ``ns/name``."""

    def cell(binding: Obj) -> str:
        found = []
        for subject in items(binding, "subjects"):
            if text(subject, "kind") != kind:
                continue
            if kind == "ServiceAccount":
                found.append(f"{text(subject, 'namespace')}/{text(subject, 'name')}")
            else:
                found.append(text(subject, "name"))
        return ", ".join(found)

    return cell


BINDING_COLUMNS = (
    NAME,
    Column(
        "Role",
        description="RoleRef can reference a Role in the current namespace or a "
        "ClusterRole in the global namespace.",
        cell=lambda b: f"{text(b, 'roleRef', 'kind')}/{text(b, 'roleRef', 'name')}",
    ),
    AGE,
    Column("Users", priority=1, description="Users in the binding", cell=_subjects("User")),
    Column("Groups", priority=1, description="Groups in the binding", cell=_subjects("Group")),
    Column(
        "ServiceAccounts",
        priority=1,
        description="ServiceAccounts in the binding",
        cell=_subjects("ServiceAccount"),
    ),
)
PRIORITYCLASS_COLUMNS = (
    NAME,
    Column(
        "Value",
        type="integer",
        description="value represents the integer value of this priority class.",
        cell=lambda pc: integer(pc, "value"),
    ),
    Column(
        "Global-Default",
        type="boolean",
        description="globalDefault specifies whether this "
        "PriorityClass should be considered as the default priority for pods that do not have "
        "any priority class.",
        cell=lambda pc: dig(pc, "globalDefault") is True,
    ),
    AGE,
    # Not marked wide upstream, and the server prints wide rows, so kubectl always shows it.
    Column(
        "PreemptionPolicy",
        description="preemptionPolicy is the Policy for preempting pods with lower priority.",
        cell=lambda pc: text(pc, "preemptionPolicy"),
    ),
)
LEASE_COLUMNS = (
    NAME,
    Column(
        "Holder",
        description="holderIdentity contains the identity of the holder of a current lease.",
        cell=lambda lease: text(lease, "spec", "holderIdentity"),
    ),
    AGE,
)
RUNTIMECLASS_COLUMNS = (
    NAME,
    Column(
        "Handler",
        description="handler specifies the underlying runtime and configuration "
        "that the CRI implementation will use to handle pods of this class.",
        cell=lambda rc: text(rc, "handler"),
    ),
    AGE,
)


def _csr_condition(csr: Obj) -> str:
    kinds = {text(c, "type") for c in items(csr, "status", "conditions")}
    status = "Denied" if "Denied" in kinds else "Approved" if "Approved" in kinds else "Pending"
    if "Failed" in kinds:
        status += ",Failed"
    if text(csr, "status", "certificate"):
        status += ",Issued"
    return status


def _requested_duration(csr: Obj) -> str:
    seconds = dig(csr, "spec", "expirationSeconds")
    if not isinstance(seconds, int):
        return "<none>"
    return human_duration(timedelta(seconds=seconds))


CSR_COLUMNS = (
    NAME,
    AGE,
    Column(
        "SignerName",
        description="signerName indicates the requested signer.",
        cell=lambda csr: text(csr, "spec", "signerName") or "<none>",
    ),
    Column(
        "Requestor",
        description="username contains the name of the user that created the "
        "CertificateSigningRequest.",
        cell=lambda csr: text(csr, "spec", "username"),
    ),
    Column(
        "RequestedDuration",
        description="expirationSeconds is the requested duration of "
        "validity of the issued certificate.",
        cell=_requested_duration,
    ),
    Column("Condition", description="conditions applied to the request.", cell=_csr_condition),
)
WEBHOOK_COLUMNS = (
    NAME,
    Column(
        "Webhooks",
        type="integer",
        description="Webhooks indicates the number of webhooks registered in this configuration",
        cell=lambda w: len(items(w, "webhooks")),
    ),
    AGE,
)


def _param_kind(policy: Obj) -> str:
    kind = dig(policy, "spec", "paramKind")
    if kind is None:
        return "<unset>"
    return f"{text(kind, 'apiVersion')}/{text(kind, 'kind')}"


def _go_selector(selector: Any) -> str:
    """A LabelSelector as Go's generated ``String()`` renders it (upstream prints just that)."""
    match_labels = mapping(selector, "matchLabels")
    labels = "".join(f"{key}: {match_labels[key]}," for key in sorted(match_labels))
    exprs = "".join(
        f"LabelSelectorRequirement{{Key:{text(e, 'key')},Operator:{text(e, 'operator')},"
        f"Values:[{' '.join(str(v) for v in items(e, 'values'))}],}},"
        for e in items(selector, "matchExpressions")
    )
    return (
        f"&LabelSelector{{MatchLabels:map[string]string{{{labels}}},"
        f"MatchExpressions:[]LabelSelectorRequirement{{{exprs}}},}}"
    )


def _param_ref(binding: Obj) -> str:
    ref = dig(binding, "spec", "paramRef")
    if ref is None:
        return "<unset>"
    if text(ref, "name"):
        # Whether the param is cluster-scoped is unknown here, so no namespace means "*".
        return f"{text(ref, 'namespace') or '*'}/{text(ref, 'name')}"
    if dig(ref, "selector") is not None:
        return _go_selector(dig(ref, "selector"))
    return "<unset>"


POLICY_COLUMNS = (
    NAME,
    Column(
        "Validations",
        type="integer",
        description="Validations indicates the number of "
        "validation rules defined in this configuration",
        cell=lambda p: len(items(p, "spec", "validations")),
    ),
    Column(
        "ParamKind",
        description="ParamKind specifies the kind of resources used to parameterize this policy",
        cell=_param_kind,
    ),
    AGE,
)
POLICY_BINDING_COLUMNS = (
    NAME,
    Column(
        "PolicyName",
        description="PolicyName indicates the policy definition which the policy binding binded to",
        cell=lambda b: text(b, "spec", "policyName"),
    ),
    Column(
        "ParamRef",
        description="ParamRef indicates the param resource which sets the configration param",
        cell=_param_ref,
    ),
    AGE,
)


def _apiservice_available(svc: Obj) -> str:
    cond = condition(svc, "Available")
    if cond is None:
        return "Unknown"
    status, reason = text(cond, "status"), text(cond, "reason")
    return f"{status} ({reason})" if status != "True" and reason else status


APISERVICE_COLUMNS = (
    NAME,
    Column(
        "Service",
        description="The reference to the service that hosts this API endpoint.",
        cell=lambda s: (
            "Local"
            if dig(s, "spec", "service") is None
            else f"{text(s, 'spec', 'service', 'namespace')}/{text(s, 'spec', 'service', 'name')}"
        ),
    ),
    Column(
        "Available", description="Whether this service is available.", cell=_apiservice_available
    ),
    AGE,
)
