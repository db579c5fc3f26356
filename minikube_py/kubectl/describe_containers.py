"""The container and volume sections of a description, shared by pods and pod templates.

kubectl describes a container by merging its spec with its status (when there is one — a pod
template has none): image, ports, command, current and last state, readiness, restarts,
resources, probes, environment and mounts. Environment values that come from the pod itself
(``fieldRef``) are resolved against the pod, those from a ConfigMap or Secret are named, not
read. Volumes are printed by source kind with kubectl's one-line explanation of the kind.
"""

from __future__ import annotations

import math
from typing import Any

from minikube_py.api.printers import dig, items, mapping, text
from minikube_py.api.quantities import QuantityError, parse_quantity
from minikube_py.client.protocol import Object
from minikube_py.kubectl.describe_writer import DescribeWriter, go_time, go_value, or_none


def containers(
    w: DescribeWriter,
    label: str,
    specs: list[Any],
    statuses: list[Any],
    space: str,
    pod: Object | None,
) -> None:
    """The ``Containers:`` section: each container's spec merged with its status."""
    by_name = {text(s, "name"): s for s in statuses if isinstance(s, dict)}
    w.write(0, f"{space}{label}:{'' if specs else ' <none>'}\n")
    for container in specs:
        status = by_name.get(text(container, "name"))
        w.write(1, f"{' ' if space else ''}{text(container, 'name')}:\n")
        if status is not None:
            w.write(2, f"Container ID:\t{text(status, 'containerID')}\n")
        w.write(2, f"Image:\t{text(container, 'image')}\n")
        if status is not None:
            w.write(2, f"Image ID:\t{text(status, 'imageID')}\n")
        ports = items(container, "ports")
        for title, field in (("Port", "containerPort"), ("Host Port", "hostPort")):
            shown = ", ".join(f"{dig(p, field, default=0)}/{text(p, 'protocol')}" for p in ports)
            plural = "s" if "," in shown else ""
            w.write(2, f"{title.replace('Port', 'Port' + plural)}:\t{or_none(shown)}\n")
        for field in ("command", "args"):
            if items(container, field):
                w.write(2, f"{field.title()}:\n")
                for part in items(container, field):
                    for piece in str(part).split("\n"):
                        w.write(3, f"{piece}\n")
        if status is not None:
            _state(w, "State", mapping(status, "state"))
            if isinstance(dig(status, "lastState", "terminated"), dict):
                _state(w, "Last State", mapping(status, "lastState"))
            w.write(2, f"Ready:\t{'True' if status.get('ready') else 'False'}\n")
            w.write(2, f"Restart Count:\t{dig(status, 'restartCount', default=0)}\n")
        resources(w, mapping(container, "resources"), 2)
        for field, title in (
            ("livenessProbe", "Liveness"),
            ("readinessProbe", "Readiness"),
            ("startupProbe", "Startup"),
        ):
            if isinstance(container.get(field), dict):
                w.write(2, f"{title}:\t{_probe(container[field])}\n")
        _environment(w, container, pod)
        mounts = sorted(items(container, "volumeMounts"), key=lambda m: text(m, "mountPath"))
        w.write(2, f"Mounts:{'' if mounts else chr(9) + '<none>'}\n")
        for mount in mounts:
            flags = ["ro" if mount.get("readOnly") else "rw"]
            if text(mount, "subPath"):
                flags.append(f'path="{text(mount, "subPath")}"')
            w.write(
                3, f"{text(mount, 'mountPath')} from {text(mount, 'name')} ({','.join(flags)})\n"
            )


def _state(w: DescribeWriter, title: str, state: dict[str, Any]) -> None:
    if isinstance(state.get("running"), dict):
        w.write(2, f"{title}:\tRunning\n")
        w.write(3, f"Started:\t{go_time(state['running'].get('startedAt'))}\n")
    elif isinstance(state.get("terminated"), dict):
        done = state["terminated"]
        w.write(2, f"{title}:\tTerminated\n")
        for field in ("reason", "message"):
            if text(done, field):
                w.write(3, f"{field.title()}:\t{text(done, field)}\n")
        w.write(3, f"Exit Code:\t{dig(done, 'exitCode', default=0)}\n")
        if dig(done, "signal", default=0) > 0:
            w.write(3, f"Signal:\t{done['signal']}\n")
        w.write(3, f"Started:\t{go_time(done.get('startedAt'))}\n")
        w.write(3, f"Finished:\t{go_time(done.get('finishedAt'))}\n")
    else:
        w.write(2, f"{title}:\tWaiting\n")
        if text(state, "waiting", "reason"):
            w.write(3, f"Reason:\t{text(state, 'waiting', 'reason')}\n")


def resources(w: DescribeWriter, resources: dict[str, Any], level: int) -> None:
    for field in ("limits", "requests"):
        values = mapping(resources, field)
        if values:
            w.write(level, f"{field.title()}:\n")
        for name in sorted(values):
            w.write(level + 1, f"{name}:\t{values[name]}\n")


def _probe(probe: dict[str, Any]) -> str:
    attrs = (
        f"delay={dig(probe, 'initialDelaySeconds', default=0)}s "
        f"timeout={dig(probe, 'timeoutSeconds', default=0)}s "
        f"period={dig(probe, 'periodSeconds', default=0)}s "
        f"#success={dig(probe, 'successThreshold', default=0)} "
        f"#failure={dig(probe, 'failureThreshold', default=0)}"
    )
    if isinstance(probe.get("exec"), dict):
        return f"exec {go_value(items(probe, 'exec', 'command'))} {attrs}"
    if isinstance(probe.get("httpGet"), dict):
        get = probe["httpGet"]
        host, port = text(get, "host"), text(get, "port")
        where = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
        return f"http-get {text(get, 'scheme').lower()}://{where}{text(get, 'path')} {attrs}"
    if isinstance(probe.get("tcpSocket"), dict):
        sock = probe["tcpSocket"]
        return f"tcp-socket {text(sock, 'host')}:{text(sock, 'port')} {attrs}"
    if isinstance(probe.get("grpc"), dict):
        grpc = probe["grpc"]
        return f"grpc <pod>:{text(grpc, 'port')} {text(grpc, 'service')} {attrs}"
    return f"unknown {attrs}"


def _environment(w: DescribeWriter, container: dict[str, Any], pod: Object | None) -> None:
    sources = items(container, "envFrom")
    if sources:
        w.write(2, "Environment Variables from:\n")
        for source in sources:
            kind = "ConfigMap" if isinstance(source.get("configMapRef"), dict) else "Secret"
            ref = mapping(source, "configMapRef" if kind == "ConfigMap" else "secretRef")
            prefix = f" with prefix '{text(source, 'prefix')}'" if text(source, "prefix") else ""
            optional = "true" if ref.get("optional") else "false"
            w.write(3, f"{text(ref, 'name')}\t{kind}{prefix}\tOptional: {optional}\n")
    env = items(container, "env")
    w.write(2, f"Environment:{'' if env else chr(9) + '<none>'}\n")
    for var in env:
        name, source = text(var, "name"), mapping(var, "valueFrom")
        if not source:
            for i, part in enumerate(text(var, "value").split("\n")):
                w.write(3, f"{name}:\t{part}\n" if i == 0 else f"\t{part}\n")
        elif "fieldRef" in source:
            path, version = (
                text(source, "fieldRef", "fieldPath"),
                text(source, "fieldRef", "apiVersion"),
            )
            value = _field_value(pod, path) if pod is not None else ""
            w.write(3, f"{name}:\t{value} ({version}:{path})\n")
        elif "resourceFieldRef" in source:
            ref = mapping(source, "resourceFieldRef")
            value = _resource_value(container, ref)
            what = text(ref, "resource")
            if value == "0" and what in ("limits.cpu", "limits.memory"):
                value = "node allocatable"
            w.write(3, f"{name}:\t{value} ({what})\n")
        elif "secretKeyRef" in source or "configMapKeyRef" in source:
            secret = "secretKeyRef" in source
            ref = mapping(source, "secretKeyRef" if secret else "configMapKeyRef")
            where = (
                f"in secret '{text(ref, 'name')}'"
                if secret
                else f"of config map '{text(ref, 'name')}'"
            )
            optional = "true" if ref.get("optional") else "false"
            w.write(
                3, f"{name}:\t<set to the key '{text(ref, 'key')}' {where}>\tOptional: {optional}\n"
            )


def _field_value(pod: Object, path: str) -> str:
    """The value kubectl shows for a ``fieldRef``: it can convert only ``metadata.name`` and
    ``metadata.namespace`` without the API server's conversions, so anything else is empty."""
    if path in ("metadata.name", "metadata.namespace"):
        return text(pod, *path.split("."))
    return ""


def _resource_value(container: dict[str, Any], ref: dict[str, Any]) -> str:
    """``limits.cpu`` and the like of ``container`` in units of the divisor, rounded up."""
    kind, _, name = text(ref, "resource").partition(".")
    try:
        amount = parse_quantity(dig(container, "resources", kind, name, default="0"))
        divisor = parse_quantity(text(ref, "divisor") or "1")
        return str(math.ceil(amount / divisor))
    except (QuantityError, ZeroDivisionError):
        return ""


# Each volume source kubectl explains, with the fields it prints for it.
_SOURCES: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "hostPath": ("HostPath (bare host directory volume)", (("Path", "path"),)),
    "emptyDir": ("EmptyDir (a temporary directory that shares a pod's lifetime)", ()),
    "secret": ("Secret (a volume populated by a Secret)", (("SecretName", "secretName"),)),
    "configMap": ("ConfigMap (a volume populated by a ConfigMap)", (("Name", "name"),)),
    "persistentVolumeClaim": (
        "PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)",
        (("ClaimName", "claimName"), ("ReadOnly", "readOnly")),
    ),
    "local": (
        "LocalVolume (a persistent volume backed by local storage on a node)",
        (("Path", "path"),),
    ),
    "nfs": (
        "NFS (an NFS mount that lasts the lifetime of a pod)",
        (("Server", "server"), ("Path", "path"), ("ReadOnly", "readOnly")),
    ),
}


def volumes(w: DescribeWriter, specs: list[Any], space: str) -> None:
    """The ``Volumes:`` section, ``<none>`` without volumes."""
    if not specs:
        w.write(0, f"{space}Volumes:\t<none>\n")
        return
    w.write(0, f"{space}Volumes:\n")
    for volume in specs:
        w.write(1, f"{' ' if space else ''}{text(volume, 'name')}:\n")
        volume_source(w, volume)


def volume_source(w: DescribeWriter, volume: dict[str, Any]) -> None:
    """The lines describing where a volume's data comes from (a pod volume or a PV spec)."""
    for key, (title, fields) in _SOURCES.items():
        source = volume.get(key)
        if not isinstance(source, dict):
            continue
        w.write(2, f"Type:\t{title}\n")
        for label, field in fields:
            w.write(
                2,
                f"{label}:\t{go_value(source.get(field, False if label == 'ReadOnly' else ''))}\n",
            )
        if key == "hostPath":
            kind = text(source, "type") if "type" in source else "<none>"  # a *string
            w.write(2, f"HostPathType:\t{kind}\n")
        elif key == "emptyDir":
            w.write(2, f"Medium:\t{text(source, 'medium')}\n")
            w.write(2, f"SizeLimit:\t{text(source, 'sizeLimit') or '<unset>'}\n")
        elif key in ("secret", "configMap"):
            w.write(2, f"Optional:\t{go_value(bool(source.get('optional')))}\n")
        return
    if isinstance(volume.get("projected"), dict):
        w.write(
            2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n"
        )
        for source in items(volume, "projected", "sources"):
            # kubectl prints the *bool itself: <nil> when unset (an address when set).
            if isinstance(source.get("secret"), dict):
                secret = source["secret"]
                w.write(2, f"SecretName:\t{text(secret, 'name')}\n")
                w.write(2, f"SecretOptionalName:\t{go_value(secret.get('optional'))}\n")
            elif isinstance(source.get("downwardAPI"), dict):
                w.write(2, "DownwardAPI:\ttrue\n")
            elif isinstance(source.get("configMap"), dict):
                config = source["configMap"]
                w.write(2, f"ConfigMapName:\t{text(config, 'name')}\n")
                w.write(2, f"ConfigMapOptional:\t{go_value(config.get('optional'))}\n")
            elif isinstance(source.get("serviceAccountToken"), dict):
                seconds = dig(source, "serviceAccountToken", "expirationSeconds", default=0)
                w.write(2, f"TokenExpirationSeconds:\t{seconds}\n")
    elif isinstance(volume.get("downwardAPI"), dict):
        w.write(2, "Type:\tDownwardAPI (a volume populated by information about the pod)\n")
        w.write(2, "Items:\n")
        for entry in items(volume, "downwardAPI", "items"):
            if isinstance(entry.get("fieldRef"), dict):
                w.write(3, f"{text(entry, 'fieldRef', 'fieldPath')} -> {text(entry, 'path')}\n")
            if isinstance(entry.get("resourceFieldRef"), dict):
                w.write(
                    3, f"{text(entry, 'resourceFieldRef', 'resource')} -> {text(entry, 'path')}\n"
                )
    else:
        w.write(1, "<unknown>\n")
