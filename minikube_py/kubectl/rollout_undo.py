"""``kubectl rollout undo``: put an old revision's pod template back.

kubectl rolls back by itself, with one patch; the server only sees a new template and rolls
forward to it as the next revision. For a Deployment the old templates are its ReplicaSets'
(``rollout_history.replica_sets``): the wanted one's template, without the
``pod-template-hash`` label the ReplicaSet added, replaces ``spec.template`` and its
annotations (but the Deployment's own bookkeeping ones) replace the Deployment's, in one JSON
patch. For a StatefulSet or DaemonSet each ControllerRevision already holds its template as a
strategic merge patch (``{"spec": {"template": {..., "$patch": "replace"}}}``), sent as it is.
Without ``--to-revision`` the target is the revision before the newest; a template already in
place is ``skipped rollback``.
"""

from __future__ import annotations

import argparse
import copy
from typing import Any

from minikube_py.client.discovery import Resource
from minikube_py.client.protocol import GVR, Object
from minikube_py.kubectl import naming, rollout_history
from minikube_py.kubectl.session import KubectlError, Session

DEPLOYMENTS = GVR("apps", "v1", "deployments")
HASH_LABEL = "pod-template-hash"

# the Deployment's own annotations an undo keeps instead of taking the ReplicaSet's
_KEEP = {
    "kubectl.kubernetes.io/last-applied-configuration",
    rollout_history.REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
}


async def run_undo(session: Session, args: argparse.Namespace) -> int:
    if args.dry_run == "unchanged":  # a bare --dry-run
        args.dry_run = "client"
    if args.dry_run not in ("none", "client", "server"):
        raise KubectlError(
            f'Invalid dry-run value ({args.dry_run}). Must be "none", "server", or "client".'
        )
    for resource, obj in await rollout_history.targets(session, args.words):
        kind = (resource.gvr.group, resource.kind)
        if kind == ("apps", "Deployment"):
            outcome = await _deployment(session, obj, args.to_revision, args.dry_run)
        elif kind in (("apps", "StatefulSet"), ("apps", "DaemonSet")):
            outcome = await _revisioned(session, resource, obj, args.to_revision, args.dry_run)
        else:
            rollout_history.refuse(resource, "rollbacker")
        name = naming.object_name(resource, obj["metadata"]["name"])
        suffix = {"client": " (dry run)", "server": " (server dry run)"}.get(args.dry_run, "")
        session.write(f"{name} {outcome}{suffix}\n")
    return 0


def _not_found(revision: int) -> KubectlError:
    return KubectlError(f"unable to find specified revision {revision} in history")


def _skipped(revision: int) -> str:
    return f"skipped rollback (current template already matches revision {revision})"


def _without_hash(template: Any) -> Object:
    """A template without the ``pod-template-hash`` label the ReplicaSet added to it."""
    copied: Object = copy.deepcopy(template) if isinstance(template, dict) else {}
    labels = (copied.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return copied


async def _deployment(session: Session, deployment: Object, to_revision: int, dry_run: str) -> str:
    """Put an old revision's template back; what kubectl says it did."""
    if to_revision < 0:
        raise _not_found(to_revision)
    metadata = deployment["metadata"]
    sets = await rollout_history.replica_sets(session, deployment)
    target = _pick(sets, to_revision, metadata["name"])
    if dry_run == "client":  # the template as stored, hash label and all
        return rollout_history.template_text((target.get("spec") or {}).get("template") or {})
    template = _without_hash((target.get("spec") or {}).get("template"))
    if (deployment.get("spec") or {}).get("paused"):
        raise KubectlError(
            "you cannot rollback a paused deployment; resume it first with "
            "'kubectl rollout resume' and try again"
        )
    if template == _without_hash((deployment.get("spec") or {}).get("template")):
        return _skipped(to_revision)
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k in _KEEP}
    for key, value in (target["metadata"].get("annotations") or {}).items():
        if key not in _KEEP:
            annotations[key] = value
    patch = [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]
    params = {"dryRun": "All"} if dry_run == "server" else None
    await session.client.request(
        "PATCH",
        DEPLOYMENTS.path(metadata["namespace"], metadata["name"]),
        params=params,
        body=patch,
        content_type="application/json-patch+json",
    )
    return "rolled back"


def _pick(sets: list[Object], to_revision: int, name: str) -> Object:
    """The ReplicaSet of ``to_revision``, or (0) of the revision before the newest."""
    numbered = sorted(
        ((rollout_history.revision_of(rs), rs) for rs in sets), key=lambda pair: pair[0]
    )
    numbered = [(number, rs) for number, rs in numbered if number]
    if to_revision > 0:
        for number, rs in numbered:
            if number == to_revision:
                return rs
        raise _not_found(to_revision)
    if len(numbered) < 2:
        raise KubectlError(f'no rollout history found for deployment "{name}"')
    return numbered[-2][1]


def _as_go_encodes(template: Any) -> Object:
    """The template as kubectl encodes it to compare with a revision's bytes: Go writes the
    empty ``creationTimestamp`` of a typed template's metadata as ``null``, so a revision
    stored without it never matches (kubectl then patches, and says "rolled back")."""
    copied: Object = copy.deepcopy(template) if isinstance(template, dict) else {}
    copied.setdefault("metadata", {}).setdefault("creationTimestamp", None)
    return copied


async def _revisioned(
    session: Session, resource: Resource, obj: Object, to_revision: int, dry_run: str
) -> str:
    """Roll a StatefulSet or DaemonSet back to one of its ControllerRevisions."""
    if to_revision < 0:
        raise _not_found(to_revision)
    history = await rollout_history.controller_revisions(session, obj)
    if to_revision == 0 and len(history) <= 1:
        raise KubectlError("no last revision to roll back to")
    if to_revision == 0:
        target = history[-2]
    else:
        matching = [item for item in history if int(item.get("revision") or 0) == to_revision]
        if not matching:
            raise _not_found(to_revision)
        target = matching[0]
    template = rollout_history.revision_template(target)
    if dry_run == "client":
        return "will roll back to " + rollout_history.template_text(template)
    if template == _as_go_encodes((obj.get("spec") or {}).get("template")):
        return _skipped(to_revision)
    metadata = obj["metadata"]
    await session.client.request(
        "PATCH",
        resource.gvr.path(metadata["namespace"], metadata["name"]),
        params={"dryRun": "All"} if dry_run == "server" else None,
        body=target.get("data"),
        content_type="application/strategic-merge-patch+json",
    )
    return "rolled back"
