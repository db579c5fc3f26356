"""Subresources with rules of their own: scale, binding, eviction, and the kubelet's endpoints.

``status`` is served by the ordinary verbs (see ``admission.py``). The others:

- ``scale`` — ``kubectl scale`` reads and writes an ``autoscaling/v1`` ``Scale`` whose
  ``spec.replicas`` is the workload's and whose ``status.selector`` is its selector as a string;
- ``binding`` — the scheduler's "put this pod on that node": sets ``spec.nodeName`` once;
- ``eviction`` — ``kubectl drain``'s polite delete (disruption budgets are checked later);
- ``finalize`` — a namespace's ``spec.finalizers``, written (PUT only) by whoever emptied it;
  the namespace controller removes ``kubernetes`` there and the server then removes the
  namespace if it is being deleted;
- ``log``, ``exec``, ``attach``, ``portforward``, ``proxy`` — answered by a pod's kubelet; until
  a pod has a node there is nobody to answer, and upstream says so in these words.
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from minikube_py.api import errors
from minikube_py.api.customresources import CustomResourceType, custom_scale, set_custom_replicas
from minikube_py.api.printers import selector_string
from minikube_py.api.resources import ResourceType
from minikube_py.api.stamps import now_rfc3339
from minikube_py.apiserver import decoding, managedfields
from minikube_py.apiserver.objects import Object, apply_patch
from minikube_py.apiserver.routing import Target
from minikube_py.apiserver.storage import Storage
from minikube_py.apiserver.tokens import token_request_response

_KUBELET = {"log", "exec", "attach", "portforward", "proxy"}
SPECIAL = {"scale", "binding", "eviction", "token", "finalize"} | _KUBELET
_SUCCESS = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}


def to_scale(obj: Object, rt: ResourceType | None = None) -> Object:
    metadata = obj["metadata"]
    if isinstance(rt, CustomResourceType) and rt.scale is not None:
        # a custom resource: replicas and selector live where its CRD's scale paths say
        replicas, current, selector = custom_scale(rt, obj)
        shown = {"spec": {"replicas": replicas}, "status": {"replicas": current}}
        return _scale(metadata, shown, selector)
    return _scale(metadata, obj, selector_string((obj.get("spec") or {}).get("selector")))


def _scale(metadata: dict[str, Any], obj: Object, selector: str) -> Object:
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
            "selector": selector,
        },
    }


def _apply_scale(obj: Object, scale: Any, rt: ResourceType | None = None) -> Object:
    replicas = (scale.get("spec") or {}).get("replicas") if isinstance(scale, dict) else None
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        raise errors.bad_request("spec.replicas of a Scale must be an integer")
    obj = copy.deepcopy(obj)
    if isinstance(rt, CustomResourceType) and rt.scale is not None:
        set_custom_replicas(rt, obj, replicas)
    else:
        obj.setdefault("spec", {})["replicas"] = replicas
    version = (scale.get("metadata") or {}).get("resourceVersion")
    if version:
        obj["metadata"]["resourceVersion"] = version  # a precondition, as on the object
    return obj


async def get_scale(storage: Storage, rt: ResourceType, ns: str | None, name: str) -> Object:
    return to_scale(await storage.get(rt, ns, name), rt)


async def update_scale(
    storage: Storage,
    rt: ResourceType,
    ns: str | None,
    name: str,
    scale: Any,
    *,
    dry_run: bool,
    manager: str = managedfields.DEFAULT_MANAGER,
) -> Object:
    updated = await storage.patch(
        rt,
        ns,
        name,
        lambda o: _apply_scale(o, scale, rt),
        dry_run=dry_run,
        subresource="scale",  # recorded in managedFields as upstream does
        manager=manager,
    )
    return to_scale(updated, rt)


async def patch_scale(
    storage: Storage,
    rt: ResourceType,
    ns: str | None,
    name: str,
    patch: Any,
    *,
    content_type: str,
    dry_run: bool,
    manager: str = managedfields.DEFAULT_MANAGER,
) -> Object:
    def change(obj: Object) -> Object:
        return _apply_scale(obj, apply_patch(content_type, to_scale(obj, rt), patch), rt)

    patched = await storage.patch(
        rt, ns, name, change, dry_run=dry_run, subresource="scale", manager=manager
    )
    return to_scale(patched, rt)


async def bind(
    storage: Storage, rt: ResourceType, ns: str | None, name: str, binding: Any, *, dry_run: bool
) -> Object:
    """pods/binding: the scheduler's decision, written once into ``spec.nodeName``."""
    target = binding.get("target") if isinstance(binding, dict) else None
    node = target.get("name") if isinstance(target, dict) else None
    if not node:
        raise errors.bad_request("a Binding needs target.name, the node")

    def assign(pod: Object) -> Object:
        current = (pod.get("spec") or {}).get("nodeName")
        if current:
            raise errors.conflict(rt, name, f'pod {name} is already assigned to node "{current}"')
        pod.setdefault("spec", {})["nodeName"] = node
        _set_scheduled(pod)
        return pod

    # As upstream's BindingREST writes the pod directly: no managedFields entry for it.
    await storage.patch(
        rt, ns, name, assign, dry_run=dry_run, internal=True, subresource="binding", manager=None
    )
    return _SUCCESS | {"code": 201}


def _set_scheduled(pod: Object) -> None:
    """PodScheduled=True in the binding's own write, as upstream's BindingREST: it replaces the
    scheduler's earlier False (reason and message go), its transition time now."""
    conditions = pod.setdefault("status", {}).setdefault("conditions", [])
    scheduled = {"type": "PodScheduled", "status": "True", "lastProbeTime": None}
    for index, old in enumerate(conditions):
        if old.get("type") == "PodScheduled":
            kept = old.get("lastTransitionTime") if old.get("status") == "True" else None
            scheduled["lastTransitionTime"] = kept or now_rfc3339()
            conditions[index] = scheduled
            return
    scheduled["lastTransitionTime"] = now_rfc3339()
    conditions.append(scheduled)


async def evict(
    storage: Storage, rt: ResourceType, ns: str | None, name: str, eviction: Any, *, dry_run: bool
) -> Object:
    """pods/eviction: a polite delete (disruption budgets are checked once they are enforced)."""
    options = eviction.get("deleteOptions") if isinstance(eviction, dict) else None
    await storage.delete(rt, ns, name, options or {}, dry_run=dry_run)
    return _SUCCESS | {"code": 201}


async def finalize(
    storage: Storage, rt: ResourceType, name: str, namespace: Any, *, dry_run: bool
) -> Object:
    """namespaces/finalize: as upstream's finalize strategy, only ``spec.finalizers`` is taken
    from the body (a ``resourceVersion`` in it is a precondition); the rest stays as stored."""
    if not isinstance(namespace, dict):
        raise errors.bad_request(f"the body of the request was not a {rt.kind} object")
    body_name = (namespace.get("metadata") or {}).get("name")
    if body_name != name:
        raise errors.bad_request(
            f"the name of the object ({body_name}) does not match the name on the URL ({name})"
        )
    finalizers = (namespace.get("spec") or {}).get("finalizers")
    version = (namespace.get("metadata") or {}).get("resourceVersion")

    def change(old: Object) -> Object:
        new = copy.deepcopy(old)
        # an empty list, not none: defaulting would put ``kubernetes`` back in an absent one
        new.setdefault("spec", {})["finalizers"] = list(finalizers or [])
        if version:
            new["metadata"]["resourceVersion"] = version
        return new

    return await storage.patch(rt, None, name, change, subresource="finalize", dry_run=dry_run)


async def create_token(
    storage: Storage, rt: ResourceType, ns: str | None, name: str, request_body: Any
) -> Object:
    """serviceaccounts/token: a signed token naming the (existing) service account."""
    account = await storage.get(rt, ns, name)
    spec = (request_body.get("spec") if isinstance(request_body, dict) else None) or {}
    seconds = spec.get("expirationSeconds")
    if seconds is not None and (not isinstance(seconds, int) or seconds < 600):
        raise errors.invalid(
            rt,
            name,
            [
                errors.Cause(
                    "FieldValueInvalid",
                    "may not specify a duration less than 10 minutes",
                    "spec.expirationSeconds",
                )
            ],
        )
    token, expires = storage.tokens.issue(
        namespace=str(ns),
        name=name,
        uid=account["metadata"].get("uid", ""),
        seconds=seconds,
        audiences=list(spec.get("audiences") or []),
    )
    return token_request_response(request_body, token, expires)


async def handle(storage: Storage, request: web.Request, target: Target) -> tuple[Any, int]:
    """Serve an HTTP request for one of the ``SPECIAL`` subresources."""
    rt, ns, name, sub = target.rt, target.namespace, target.name, target.subresource
    assert name is not None
    method = request.method
    dry_run = decoding.dry_run(request.query)
    if sub == "scale" and method == "GET":
        return await get_scale(storage, rt, ns, name), 200
    if sub == "scale" and method == "PUT":
        scale = await decoding.read_body(request)
        manager = managedfields.request_manager(
            request.query, request.headers.get("User-Agent", ""), "UpdateOptions"
        )
        updated = await update_scale(storage, rt, ns, name, scale, dry_run=dry_run, manager=manager)
        return updated, 200
    if sub == "scale" and method == "PATCH":
        patch = await decoding.read_body(request)
        patched = await patch_scale(
            storage,
            rt,
            ns,
            name,
            patch,
            content_type=request.content_type,
            dry_run=dry_run,
            manager=managedfields.request_manager(
                request.query, request.headers.get("User-Agent", ""), "PatchOptions"
            ),
        )
        return patched, 200
    if sub == "binding" and method == "POST":
        binding = await decoding.read_body(request)
        return await bind(storage, rt, ns, name, binding, dry_run=dry_run), 201
    if sub == "token" and method == "POST":
        body = await decoding.read_body(request)
        return await create_token(storage, rt, ns, name, body), 201
    if sub == "finalize" and method == "PUT":
        body = await decoding.read_body(request)
        return await finalize(storage, rt, name, body, dry_run=dry_run), 200
    if sub == "eviction" and method == "POST":
        eviction = await decoding.read_body(request)
        return await evict(storage, rt, ns, name, eviction, dry_run=dry_run), 201
    if sub in _KUBELET and method in ("GET", "POST"):
        pod = await storage.get(rt, ns, name)
        node = (pod.get("spec") or {}).get("nodeName")
        if not node:
            raise errors.bad_request(f"pod {name} does not have a host assigned")
        raise errors.ApiError(
            503, "ServiceUnavailable", f'the kubelet of node "{node}" does not answer yet'
        )
    raise errors.method_not_allowed()
