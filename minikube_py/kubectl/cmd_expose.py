"""``kubectl expose TYPE NAME``: a Service in front of a deployment, replica set, pod or service.

The new Service selects what the exposed object selects — a Deployment's or ReplicaSet's
``matchLabels`` (a selector with ``matchExpressions`` cannot be a Service's), a Pod's labels,
a Service's selector — and carries the object's own labels. Its ports are ``--port`` (the
target port ``--target-port``, else the same number), or, without ``--port``, every port the
object declares (its containers' ports, or a Service's ports), named ``port-1``, ``port-2``…
when there are several, each with its declared protocol.
"""

from __future__ import annotations

import argparse
from typing import Any

from minikube_py.client.protocol import Object
from minikube_py.kubectl.cmd_apply import add_output_flags
from minikube_py.kubectl.cmd_create import post
from minikube_py.kubectl.session import KubectlError, Session
from minikube_py.kubectl.targets import wanted_of

_EXPOSABLE = ("Deployment", "ReplicaSet", "ReplicationController", "Pod", "Service")


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    expose = commands.add_parser(
        "expose", parents=parents, help="Take a replicated application and expose it as a Service"
    )
    expose.add_argument("what", nargs="+", metavar="TYPE NAME")
    expose.add_argument("--port", default="")
    expose.add_argument("--target-port", default="")
    expose.add_argument("--protocol", default="")
    expose.add_argument("--type", default="")
    expose.add_argument("--name", default="")
    expose.add_argument("-l", "--labels", default="")
    expose.add_argument("--selector", default="")
    expose.add_argument("--cluster-ip", default="")
    expose.add_argument("--external-ip", default="")
    expose.add_argument("--session-affinity", default="")
    add_output_flags(expose)
    expose.set_defaults(run=run)


def _pairs(text: str) -> dict[str, str]:
    pairs = {}
    for item in text.split(","):
        key, equals, value = item.partition("=")
        if not equals:
            raise KubectlError(f"invalid label spec: {item}")
        pairs[key] = value
    return pairs


def selector_of(obj: Object) -> dict[str, str]:
    """What the Service must select to reach the pods ``obj`` stands for."""
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    if kind == "Pod":
        return dict((obj.get("metadata") or {}).get("labels") or {})
    if kind in ("Service", "ReplicationController"):
        return dict(spec.get("selector") or {})
    selector = spec.get("selector") or {}
    if selector.get("matchExpressions"):
        raise KubectlError('couldn\'t convert expressions - "[]" to map-based selector format')
    return dict(selector.get("matchLabels") or {})


def ports_of(obj: Object) -> list[tuple[int, str]]:
    """The (port, protocol) pairs ``obj`` declares, in order."""
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Service":
        return [(int(p["port"]), str(p.get("protocol") or "TCP")) for p in spec.get("ports") or []]
    if obj.get("kind") != "Pod":
        spec = ((spec.get("template") or {}).get("spec")) or {}
    return [
        (int(port["containerPort"]), str(port.get("protocol") or "TCP"))
        for container in spec.get("containers") or []
        for port in container.get("ports") or []
    ]


def service_for(obj: Object, args: argparse.Namespace) -> Object:
    """The Service kubectl's expose generator builds for ``obj``."""
    metadata = obj.get("metadata") or {}
    declared = ports_of(obj)
    if args.port:
        numbers = [_number(text) for text in str(args.port).split(",")]
    else:
        numbers = [port for port, _ in declared]
    if not numbers:
        raise KubectlError("couldn't find port via --port flag or introspection")
    protocols = dict(reversed(declared))
    ports: list[dict[str, Any]] = []
    for index, number in enumerate(numbers, 1):
        entry: dict[str, Any] = {"name": f"port-{index}"} if len(numbers) > 1 else {}
        entry["protocol"] = args.protocol or protocols.get(number, "TCP")
        entry["port"] = number
        target: Any = number
        if args.target_port:
            text = str(args.target_port)
            target = int(text) if text.isdigit() else text
        entry["targetPort"] = target
        ports.append(entry)
    labels = _pairs(args.labels) if args.labels else dict(metadata.get("labels") or {})
    spec: dict[str, Any] = {"ports": ports}
    spec["selector"] = _pairs(args.selector) if args.selector else selector_of(obj)
    if args.cluster_ip:
        spec["clusterIP"] = args.cluster_ip
    if args.type:
        spec["type"] = args.type
    if args.external_ip:
        spec["externalIPs"] = [args.external_ip]
    if args.session_affinity:
        spec["sessionAffinity"] = args.session_affinity
    service_meta: dict[str, Any] = {"name": args.name or metadata.get("name", "")}
    if labels:
        service_meta["labels"] = labels
    return {"kind": "Service", "apiVersion": "v1", "metadata": service_meta, "spec": spec}


def _number(text: str) -> int:
    if not text.strip().isdigit():
        raise KubectlError(f'strconv.Atoi: parsing "{text}": invalid syntax')
    return int(text)


async def run(session: Session, args: argparse.Namespace) -> int:
    wanted = await wanted_of(session, list(args.what))
    if any(one.name is None for one in wanted):
        raise KubectlError("resource(s) were provided, but no name was specified")
    if len(wanted) != 1:
        raise KubectlError("You must provide the resource type and name to expose")
    resource, name = wanted[0].resource, str(wanted[0].name)
    if resource.kind not in _EXPOSABLE:
        raise KubectlError(f"cannot expose a {resource.kind}")
    obj = await session.get_json(resource.gvr.path(session.namespace_of(resource), name))
    obj.setdefault("kind", resource.kind)
    service = service_for(obj, args)
    created = await post(
        session, args, "services", service, manager="kubectl-expose", failed=None, verb="exposed"
    )
    return 0 if created is not None else 1
