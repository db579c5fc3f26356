"""``configMap``, ``secret`` and ``downwardAPI`` volumes: projected volumes of one source.

Upstream has a volume plugin for each of these, and one for ``projected`` volumes which
gathers several such sources in one directory; all of them compute a *payload* (relative path
→ content and mode) and hand it to the same ``AtomicWriter``. Here the three single-source
kinds are turned into the ``projected`` volume they are equivalent to (``as_projected``), so
``projected.payload`` computes every payload and ``projected.write_atomically`` writes every
one of them:

- ``configMap: {name, items, defaultMode, optional}`` → one ``configMap`` source;
- ``secret: {secretName, items, defaultMode, optional}`` → one ``secret`` source (the
  default mode is 0644, upstream's ``SecretVolumeSourceDefaultMode``, as for ConfigMaps);
- ``downwardAPI: {items, defaultMode}`` → one ``downwardAPI`` source (``fieldRef``:
  the pod's name, namespace, uid, labels, annotations; ``resourceFieldRef``).

These volumes, and projected ones, are always mounted read-only (upstream's plugins say
``ReadOnly`` in their attributes, and the kubelet then mounts them so whatever the
``volumeMount`` says). ``directory_kind`` gives upstream's plugin directory name, under which a
volume lives in the pod's directory when the node has no tmpfs.
"""

from __future__ import annotations

from typing import Any

Object = dict[str, Any]
DEFAULT_MODE = 0o644  # ConfigMap, Secret, DownwardAPI and Projected volumes alike
_PLUGIN_DIRECTORIES = {
    "projected": "kubernetes.io~projected",
    "configMap": "kubernetes.io~configmap",
    "secret": "kubernetes.io~secret",
    "downwardAPI": "kubernetes.io~downward-api",
}
KINDS = tuple(_PLUGIN_DIRECTORIES)


def volume_kind(volume: Object) -> str | None:
    """``projected``, ``configMap``, ``secret`` or ``downwardAPI``: the kind of a volume made
    of API objects; None for any other."""
    return next((kind for kind in KINDS if isinstance(volume.get(kind), dict)), None)


def directory_kind(volume: Object) -> str:
    """Upstream's plugin directory for the volume (``kubernetes.io~configmap`` …)."""
    return _PLUGIN_DIRECTORIES[volume_kind(volume) or "projected"]


def as_projected(volume: Object) -> Object:
    """The ``projected`` volume equivalent to ``volume`` (itself if it is one)."""
    kind = volume_kind(volume)
    if kind is None or kind == "projected":
        return volume
    spec = volume[kind]
    mode = spec.get("defaultMode")
    source: Object
    if kind == "configMap":
        source = {"configMap": _ref(spec, str(spec.get("name") or ""))}
    elif kind == "secret":
        source = {"secret": _ref(spec, str(spec.get("secretName") or ""))}
    else:
        source = {"downwardAPI": {"items": spec.get("items") or []}}
    return {
        "name": volume.get("name"),
        "projected": {
            "defaultMode": DEFAULT_MODE if mode is None else int(mode),
            "sources": [source],
        },
    }


def _ref(spec: Object, name: str) -> Object:
    ref: Object = {"name": name, "optional": bool(spec.get("optional"))}
    if spec.get("items"):
        ref["items"] = spec["items"]
    return ref


def config_volume_names(pod: Object) -> frozenset[str]:
    """Names of the pod's volumes made of API objects: always mounted read-only, and a
    ``subPath`` into one is a copy that does not follow updates (as upstream's bind mount of
    the file the ``..data`` link pointed at when the container started)."""
    return frozenset(
        str(volume.get("name"))
        for volume in (pod.get("spec") or {}).get("volumes") or []
        if isinstance(volume, dict) and volume_kind(volume) is not None
    )


def uses_pod_metadata(pod: Object) -> bool:
    """Whether a volume shows the pod's labels or annotations (rewritten when they change)."""
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        if not isinstance(volume, dict) or volume_kind(volume) is None:
            continue
        for source in as_projected(volume)["projected"].get("sources") or []:
            for item in (source.get("downwardAPI") or {}).get("items") or []:
                path = str((item.get("fieldRef") or {}).get("fieldPath") or "")
                if path.startswith(("metadata.labels", "metadata.annotations")):
                    return True
    return False
