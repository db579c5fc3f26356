"""``kubectl describe pvc``, ``pv`` and ``storageclass``: claims, the volumes bound to them and
the classes that provision them.

A claim's description says which class and volume it has, its capacity and access modes
(``RWO``, ``ROX``, ``RWX``, ``RWOP``) once bound, and which pods use it. A volume's says which
claim it is bound to, what happens to it when released (its reclaim policy), the nodes it can
be used on and where its data lives (its source: a host path, an NFS export…). A class's says
whether it is the default and which provisioner makes its volumes.
"""

from __future__ import annotations

from typing import Any

from minikube_py.api.printers import format_labels, items, mapping, since, text
from minikube_py.client.discovery import Resource
from minikube_py.client.protocol import PODS, Object
from minikube_py.kubectl.describe_containers import volume_source
from minikube_py.kubectl.describe_writer import (
    DescribeWriter,
    fetch_events,
    go_time,
    go_value,
    new_description,
)
from minikube_py.kubectl.session import Session

MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)
CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"
DEFAULT_CLASS = ("storageclass.kubernetes.io/is-default-class",
                 "storageclass.beta.kubernetes.io/is-default-class")  # fmt: skip


def access_modes(modes: list[Any]) -> str:
    """``RWO,RWX``: the modes present, in kubectl's fixed order."""
    return ",".join(short for mode, short in MODES if mode in modes)


def _storage_class(obj: Object) -> str:
    return text(obj, "metadata", "annotations", CLASS_ANNOTATION) or text(
        obj, "spec", "storageClassName"
    )


def _status(obj: Object) -> str:
    deleted = text(obj, "metadata", "deletionTimestamp")
    if deleted:
        return f"Terminating (lasts {since(deleted)})"
    return text(obj, "status", "phase")


async def describe_claim(
    session: Session, resource: Resource, claim: Object, show_events: bool = True
) -> str:
    meta, spec, status = (mapping(claim, part) for part in ("metadata", "spec", "status"))
    pods = await session.get_json(PODS.path(text(meta, "namespace")), {"limit": "500"})
    events = await fetch_events(session, claim, "PersistentVolumeClaim", wanted=show_events)
    w = new_description(
        meta,
        ("StorageClass", _storage_class(claim)),
        ("Status", _status(claim)),
        ("Volume", text(spec, "volumeName")),
    )
    w.write(0, f"Finalizers:\t{go_value(items(meta, 'finalizers'))}\n")
    bound = bool(text(spec, "volumeName"))
    capacity = text(status, "capacity", "storage") if bound else ""
    w.write(0, f"Capacity:\t{capacity}\n")
    modes = access_modes(items(status, "accessModes")) if bound else ""
    w.write(0, f"Access Modes:\t{modes}\n")
    if text(spec, "volumeMode"):
        w.write(0, f"VolumeMode:\t{text(spec, 'volumeMode')}\n")
    source = mapping(spec, "dataSource")
    if source:
        w.write(0, "DataSource:\n")
        if "apiGroup" in source:
            w.write(1, f"APIGroup:\t{text(source, 'apiGroup')}\n")
        w.write(1, f"Kind:\t{text(source, 'kind')}\nName:\t{text(source, 'name')}\n")
    users = _users(claim, [p for p in pods.get("items") or () if isinstance(p, dict)])
    w.write(0, "Used By:\t")
    if not users:
        w.line("<none>")
    for i, name in enumerate(users):
        w.write(0, f"{chr(9) if i else ''}{name}\n")
    conditions = items(status, "conditions")
    if conditions:
        w.write(0, "Conditions:\n")
        w.write(1, "Type\tStatus\tLastProbeTime\tLastTransitionTime\tReason\tMessage\n")
        w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n")
        for c in conditions:
            probed, changed = go_time(c.get("lastProbeTime")), go_time(c.get("lastTransitionTime"))
            w.write(1, f"{text(c, 'type')} \t{text(c, 'status')} \t{probed} \t{changed} ")
            w.write(0, f"\t{text(c, 'reason')} \t{text(c, 'message')}\n")
    return w.render(events)


def _users(claim: Object, pods: list[Object]) -> list[str]:
    """The pods mounting the claim, and the pods owning it (an ephemeral volume's)."""
    name = text(claim, "metadata", "name")
    users = [
        text(pod, "metadata", "name")
        for pod in pods
        for volume in items(pod, "spec", "volumes")
        if text(volume, "persistentVolumeClaim", "claimName") == name
    ]
    by_uid = {text(pod, "metadata", "uid"): text(pod, "metadata", "name") for pod in pods}
    for ref in items(claim, "metadata", "ownerReferences"):
        owner = by_uid.get(text(ref, "uid"))
        if text(ref, "kind") == "Pod" and owner and owner not in users:
            users.append(owner)
    return sorted(users)


async def describe_volume(
    session: Session, resource: Resource, volume: Object, show_events: bool = True
) -> str:
    meta, spec = mapping(volume, "metadata"), mapping(volume, "spec")
    events = await fetch_events(session, volume, "PersistentVolume", wanted=show_events)
    w = new_description(meta, namespaced=False)
    w.write(0, f"Finalizers:\t{go_value(items(meta, 'finalizers'))}\n")
    w.write(0, f"StorageClass:\t{_storage_class(volume)}\nStatus:\t{_status(volume)}\n")
    claim = mapping(spec, "claimRef")
    w.write(0, f"Claim:\t{text(claim, 'namespace') + '/' + text(claim, 'name') if claim else ''}\n")
    w.write(0, f"Reclaim Policy:\t{text(spec, 'persistentVolumeReclaimPolicy')}\n")
    w.write(0, f"Access Modes:\t{access_modes(items(spec, 'accessModes'))}\n")
    if text(spec, "volumeMode"):
        w.write(0, f"VolumeMode:\t{text(spec, 'volumeMode')}\n")
    w.write(0, f"Capacity:\t{text(spec, 'capacity', 'storage') or '0'}\n")
    _node_affinity(w, mapping(spec, "nodeAffinity", "required"))
    w.write(0, f"Message:\t{text(volume, 'status', 'message')}\nSource:\n")
    volume_source(w, spec)
    return w.render(events)


def _node_affinity(w: DescribeWriter, required: dict[str, Any]) -> None:
    w.write(0, "Node Affinity:\t")
    if not required:
        w.line("<none>")
        return
    w.line("")
    terms = items(required, "nodeSelectorTerms")
    w.write(1, "Required Terms:\t")
    w.line("" if terms else "<none>")
    for i, term in enumerate(terms):
        w.write(2, f"Term {i}:\t")
        expressions = items(term, "matchExpressions")
        if not expressions:
            w.line("<none>")
        for j, expression in enumerate(expressions):
            if j:
                w.write(2, "\t")
            shown = f"{text(expression, 'key')} {text(expression, 'operator').lower()}"
            values = items(expression, "values")
            w.write(0, shown + (f" [{', '.join(map(str, values))}]" if values else "") + "\n")


async def describe_storage_class(
    session: Session, resource: Resource, storage_class: Object, show_events: bool = True
) -> str:
    meta = mapping(storage_class, "metadata")
    annotations = mapping(meta, "annotations")
    events = await fetch_events(session, storage_class, "StorageClass", wanted=show_events)
    w = DescribeWriter()
    w.write(0, f"Name:\t{text(meta, 'name')}\n")
    default = any(annotations.get(key) == "true" for key in DEFAULT_CLASS)
    w.write(0, f"IsDefaultClass:\t{'Yes' if default else 'No'}\n")
    w.write(0, f"Annotations:\t{format_labels(annotations)}\n")
    w.write(0, f"Provisioner:\t{text(storage_class, 'provisioner')}\n")
    w.write(0, f"Parameters:\t{format_labels(storage_class.get('parameters'))}\n")
    expansion = storage_class.get("allowVolumeExpansion")
    shown = "<unset>" if expansion is None else ("True" if expansion else "False")
    w.write(0, f"AllowVolumeExpansion:\t{shown}\n")
    options = items(storage_class, "mountOptions")
    w.write(0, "MountOptions:\n" if options else "MountOptions:\t<none>\n")
    for option in options:
        w.write(1, f"{option}\n")
    for field, label in (("reclaimPolicy", "ReclaimPolicy"),
                         ("volumeBindingMode", "VolumeBindingMode")):  # fmt: skip
        if text(storage_class, field):
            w.write(0, f"{label}:\t{text(storage_class, field)}\n")
    return w.render(events)
