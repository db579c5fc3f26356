"""Subresources with rules of their own: scale, binding, eviction, and the kubelet's endpoints.

``status`` is served by the ordinary verbs (see ``admission.py``). The others:

- ``scale`` — ``kubectl scale`` reads and writes an ``autoscaling/v1`` ``Scale`` whose
  ``spec.replicas`` is the workload's and whose ``status.selector`` is its selector as a string;
- ``binding`` — the scheduler's "put this pod on that node": sets ``spec.nodeName`` once;
- ``eviction`` — ``kubectl drain``'s polite delete (disruption budgets are checked later);
- ``log``, ``exec``, ``attach``, ``portforward``, ``proxy`` — answered by a pod's kubelet; until
  a pod has a node there is nobody to answer, and upstream says so in these words.
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from minikube_py.api import errors
from minikube_py.apiserver import decoding
from minikube_py.apiserver.objects import Object, apply_patch
from minikube_py.apiserver.routing import Target
from minikube_py.apiserver.storage import Storage

SPECIAL = {"scale", "binding", "eviction", "log", "exec", "attach", "portforward", "proxy"}
_SUCCESS = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}


def selector_string(selector: Any) -> str:
    """A LabelSelector object as the string form clients pass in ``labelSelector``."""
    if not isinstance(selector, dict):
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key", ""), expression.get("operator", "")
        values = ",".join(expression.get("values") or [])
        parts.append(
            {
                "In": f"{key} in ({values})",
                "NotIn": f"{key} notin ({values})",
                "Exists": key,
                "DoesNotExist": f"!{key}",
            }.get(operator, key)
        )
    return ",".join(parts)


def to_scale(obj: Object) -> Object:
    metadata = obj["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: metadata[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in metadata
        },
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": selector_string((obj.get("spec") or {}).get("selector")),
        },
    }


def _apply_scale(obj: Object, scale: Any) -> Object:
    replicas = (scale.get("spec") or {}).get("replicas") if isinstance(scale, dict) else None
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        raise errors.bad_request("spec.replicas of a Scale must be an integer")
    obj = copy.deepcopy(obj)
    obj.setdefault("spec", {})["replicas"] = replicas
    version = (scale.get("metadata") or {}).get("resourceVersion")
    if version:
        obj["metadata"]["resourceVersion"] = version  # a precondition, as on the object
    return obj


async def handle(storage: Storage, request: web.Request, target: Target) -> tuple[Any, int]:
    rt, ns, name, sub = target.rt, target.namespace, target.name, target.subresource
    assert name is not None
    method = request.method
    dry_run = decoding.dry_run(request.query)
    if sub == "scale":
        if method == "GET":
            return to_scale(await storage.get(rt, ns, name)), 200
        if method == "PUT":
            scale = await decoding.read_body(request)
            updated = await storage.patch(
                rt, ns, name, lambda o: _apply_scale(o, scale), dry_run=dry_run
            )
            return to_scale(updated), 200
        if method == "PATCH":
            content_type = request.content_type
            patch = await decoding.read_body(request)
            updated = await storage.patch(
                rt,
                ns,
                name,
                lambda o: _apply_scale(o, apply_patch(content_type, to_scale(o), patch)),
                dry_run=dry_run,
            )
            return to_scale(updated), 200
        raise errors.method_not_allowed()
    if sub == "binding" and method == "POST":
        binding = await decoding.read_body(request)
        node = (
            ((binding or {}).get("target") or {}).get("name") if isinstance(binding, dict) else None
        )
        if not node:
            raise errors.bad_request("a Binding needs target.name, the node")

        def bind(pod: Object) -> Object:
            current = (pod.get("spec") or {}).get("nodeName")
            if current:
                raise errors.conflict(
                    rt, name, f'pod {name} is already assigned to node "{current}"'
                )
            pod.setdefault("spec", {})["nodeName"] = node
            return pod

        await storage.patch(rt, ns, name, bind, dry_run=dry_run, internal=True)
        return _SUCCESS | {"code": 201}, 201
    if sub == "eviction" and method == "POST":
        eviction = await decoding.read_body(request)
        options = (eviction or {}).get("deleteOptions") if isinstance(eviction, dict) else None
        await storage.delete(rt, ns, name, options or {}, dry_run=dry_run)
        return _SUCCESS | {"code": 201}, 201
    if sub in ("log", "exec", "attach", "portforward", "proxy") and method in ("GET", "POST"):
        pod = await storage.get(rt, ns, name)
        node = (pod.get("spec") or {}).get("nodeName")
        if not node:
            raise errors.bad_request(f"pod {name} does not have a host assigned")
        raise errors.ApiError(
            503, "ServiceUnavailable", f'the kubelet of node "{node}" does not answer yet'
        )
    raise errors.method_not_allowed()
