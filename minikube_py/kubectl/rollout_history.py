"""``kubectl rollout history``: a workload's old pod templates, numbered.

A Deployment keeps its history in its ReplicaSets: every pod template it ever ran has a
ReplicaSet (selected by the Deployment's selector, controlled by it through an
``ownerReference``) whose ``deployment.kubernetes.io/revision`` annotation numbers it and whose
``kubernetes.io/change-cause`` annotation, if someone set one, says why. A StatefulSet or
DaemonSet keeps ControllerRevisions instead, numbered by their ``revision`` field. ``history``
lists them (``REVISION  CHANGE-CAUSE``) or prints one revision's pod template as ``describe``
does. This module also finds the objects a ``rollout`` command names (``targets``) and the
revisions ``rollout undo`` (``rollout_undo.py``) restores.
"""

from __future__ import annotations

import argparse
import copy
from typing import NoReturn

from minikube_py.client.discovery import Resource
from minikube_py.client.protocol import GVR, Object
from minikube_py.kubectl import naming
from minikube_py.kubectl.describe_pods import pod_template
from minikube_py.kubectl.describe_writer import DescribeWriter
from minikube_py.kubectl.podpick import selector_string
from minikube_py.kubectl.session import KubectlError, Session

REPLICA_SETS = GVR("apps", "v1", "replicasets")
CONTROLLER_REVISIONS = GVR("apps", "v1", "controllerrevisions")
REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"


async def targets(session: Session, words: list[str]) -> list[tuple[Resource, Object]]:
    """The objects ``TYPE/NAME …``, ``TYPE NAME …`` or ``TYPE`` (all of them) name."""
    if not words:
        raise KubectlError("required resource not specified")
    found: list[tuple[Resource, Object]] = []
    if all("/" in word for word in words):
        for word in words:
            kind_word, _, name = word.partition("/")
            resource = await session.resource(kind_word)
            path = resource.gvr.path(session.namespace_of(resource), name)
            found.append((resource, await session.get_json(path)))
        return found
    resource = await session.resource(words[0])
    namespace = session.namespace_of(resource)
    if len(words) == 1:
        listed = await session.get_json(resource.gvr.path(namespace))
        return [(resource, item) for item in listed.get("items") or []]
    for name in words[1:]:
        found.append((resource, await session.get_json(resource.gvr.path(namespace, name))))
    return found


def revision_of(obj: Object) -> int:
    """The revision number an object's annotation carries (0 without one)."""
    annotations = obj["metadata"].get("annotations") or {}
    try:
        return int(annotations.get(REVISION) or 0)
    except ValueError:
        return 0


async def replica_sets(session: Session, deployment: Object) -> list[Object]:
    """The ReplicaSets a Deployment controls (its selector's, owned by its uid)."""
    metadata = deployment["metadata"]
    selector = selector_string((deployment.get("spec") or {}).get("selector"))
    listed = await session.get_json(
        REPLICA_SETS.path(metadata["namespace"]), {"labelSelector": selector}
    )
    return [rs for rs in listed.get("items") or [] if _controlled_by(rs, metadata)]


def template_text(template: Object) -> str:
    """A pod template as kubectl describes it for a revision (tabs left as they are)."""
    writer = _PlainWriter()
    pod_template(writer, template)
    return "".join(writer.text)


class _PlainWriter(DescribeWriter):
    """kubectl prints a revision's template through a prefix writer without a tabwriter, so
    the tabs stay tabs instead of aligning columns."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []

    def write(self, level: int, content: str) -> None:
        self.text.append("  " * level + content)

    def line(self, content: str = "") -> None:
        self.text.append(content + "\n")


def refuse(resource: Resource, viewer: str) -> NoReturn:
    kind = f"{resource.kind}.{resource.gvr.group}" if resource.gvr.group else resource.kind
    raise KubectlError(f'no {viewer} has been implemented for "{kind}"')


Revisions = dict[int, tuple[Object, str]]  # {revision: (pod template, change cause)}


async def _deployment_history(session: Session, deployment: Object) -> Revisions:
    """{revision: pod template}, the change cause copied into the template's annotations
    (so ``--revision N`` shows it, as kubectl does)."""
    history: Revisions = {}
    for rs in await replica_sets(session, deployment):
        number = revision_of(rs)
        if number:
            template = copy.deepcopy((rs.get("spec") or {}).get("template") or {})
            cause = str((rs["metadata"].get("annotations") or {}).get(CHANGE_CAUSE) or "")
            if cause:
                template.setdefault("metadata", {}).setdefault("annotations", {})
                template["metadata"]["annotations"][CHANGE_CAUSE] = cause
            history[number] = (template, cause)
    return history


async def controller_revisions(session: Session, obj: Object) -> list[Object]:
    """The ControllerRevisions a StatefulSet or DaemonSet controls, oldest first."""
    metadata = obj["metadata"]
    selector = selector_string((obj.get("spec") or {}).get("selector"))
    listed = await session.get_json(
        CONTROLLER_REVISIONS.path(metadata["namespace"]), {"labelSelector": selector}
    )
    owned = [item for item in listed.get("items") or [] if _controlled_by(item, metadata)]
    return sorted(owned, key=lambda item: int(item.get("revision") or 0))


def _controlled_by(item: Object, owner: Object) -> bool:
    refs = item["metadata"].get("ownerReferences") or []
    return any(ref.get("controller") and ref.get("uid") == owner.get("uid") for ref in refs)


def revision_template(revision: Object) -> Object:
    """The pod template a ControllerRevision holds (its patch without the directive)."""
    template = ((revision.get("data") or {}).get("spec") or {}).get("template")
    copied: Object = copy.deepcopy(template) if isinstance(template, dict) else {}
    copied.pop("$patch", None)
    return copied


async def _revision_history(session: Session, obj: Object) -> Revisions:
    """The revisions of a StatefulSet or DaemonSet: its ControllerRevisions hold each template
    as a patch replacing ``spec.template``; the change cause is the revision's annotation."""
    history: Revisions = {}
    for revision in await controller_revisions(session, obj):
        template = revision_template(revision)
        cause = str((revision["metadata"].get("annotations") or {}).get(CHANGE_CAUSE) or "")
        history[int(revision.get("revision") or 0)] = (template, cause)
    return history


async def run_history(session: Session, args: argparse.Namespace) -> int:
    if args.revision < 0:
        raise KubectlError(f"revision must be a positive integer: {args.revision}")
    for resource, obj in await targets(session, args.words):
        kind = (resource.gvr.group, resource.kind)
        if kind == ("apps", "Deployment"):
            history = await _deployment_history(session, obj)
        elif kind in (("apps", "StatefulSet"), ("apps", "DaemonSet")):
            history = await _revision_history(session, obj)
        else:
            refuse(resource, "history viewer")
        name = naming.object_name(resource, obj["metadata"]["name"])
        if not history:
            text = "No rollout history found."
        elif args.revision > 0:
            if args.revision not in history:
                raise KubectlError("unable to find the specified revision")
            text = template_text(history[args.revision][0])
        else:
            text = _table(history)
        header = f"{name} with revision #{args.revision}" if args.revision > 0 else f"{name} "
        session.write(f"{header}\n{text}\n")
    return 0


def _table(history: Revisions) -> str:
    rows = [("REVISION", "CHANGE-CAUSE")]
    for number in sorted(history):
        rows.append((str(number), history[number][1] or "<none>"))
    width = max(len(first) for first, _ in rows) + 2
    return "".join(f"{first.ljust(width)}{second}\n" for first, second in rows)
