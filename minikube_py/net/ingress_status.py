"""Which Ingresses this controller serves, and what it writes back on them.

Several Ingress controllers may share a cluster; each takes the Ingresses of its *class*. An
IngressClass names its controller in ``spec.controller`` (``k8s.io/ingress-nginx`` here) and
may be the cluster's default (annotation ``ingressclass.kubernetes.io/is-default-class:
"true"``). ingress-nginx, and so this controller, serves an Ingress when

- its legacy annotation ``kubernetes.io/ingress.class`` is ``nginx`` (the annotation, where
  present, decides alone), or
- its ``spec.ingressClassName`` is a class whose controller is ``k8s.io/ingress-nginx``, or
- it names no class at all and one of those classes is the default.

minikube's ingress addon installs the class ``nginx`` as the default; ``nginx_ingress_class``
is that object, which the controller creates at start if it is missing (an existing one is the
user's and is left alone).

On every Ingress it serves the controller writes ``status.loadBalancer.ingress: [{ip:
<node address>}]`` — what ``kubectl get ingress`` shows under ADDRESS — and removes it again
from an Ingress it stops serving.
"""

from __future__ import annotations

from typing import Any

from minikube_py.client.protocol import GVR, INGRESSES, ApiError, Client

Object = dict[str, Any]
INGRESS_CLASSES = GVR("networking.k8s.io", "v1", "ingressclasses")
CONTROLLER = "k8s.io/ingress-nginx"
CLASS_NAME = "nginx"
DEFAULT_CLASS = "ingressclass.kubernetes.io/is-default-class"
LEGACY_CLASS = "kubernetes.io/ingress.class"


def nginx_ingress_class() -> Object:
    """The IngressClass minikube's ingress addon installs."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {
            "name": CLASS_NAME,
            "labels": {
                "app.kubernetes.io/component": "controller",
                "app.kubernetes.io/instance": "ingress-nginx",
                "app.kubernetes.io/name": "ingress-nginx",
            },
            "annotations": {DEFAULT_CLASS: "true"},
        },
        "spec": {"controller": CONTROLLER},
    }


async def ensure_ingress_class(client: Client) -> None:
    """Create the ``nginx`` IngressClass unless it exists."""
    try:
        await client.create(INGRESS_CLASSES, None, nginx_ingress_class())
    except ApiError as error:
        if error.code != 409:
            raise


def served(ingress: Object, classes: list[Object]) -> bool:
    """Whether this controller takes ``ingress``, given the cluster's IngressClasses."""
    annotations = (ingress.get("metadata") or {}).get("annotations") or {}
    if LEGACY_CLASS in annotations:
        return bool(annotations[LEGACY_CLASS] == CLASS_NAME)
    ours = [c for c in classes if (c.get("spec") or {}).get("controller") == CONTROLLER]
    wanted = (ingress.get("spec") or {}).get("ingressClassName")
    if wanted:
        return any(c["metadata"]["name"] == wanted for c in ours)
    return any(
        ((c["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true") for c in ours
    )


def load_balancer(ingress: Object) -> list[Object]:
    return list(((ingress.get("status") or {}).get("loadBalancer") or {}).get("ingress") or [])


async def write_status(client: Client, ingress: Object, address: str | None) -> bool:
    """Make the Ingress's load balancer status show ``address`` (None: nothing), if it does
    not already; whether it wrote."""
    wanted: list[Object] = [{"ip": address}] if address else []
    if load_balancer(ingress) == wanted:
        return False
    meta = ingress["metadata"]
    patch = {"status": {"loadBalancer": {"ingress": wanted or None}}}
    await client.patch(INGRESSES, meta["namespace"], meta["name"], patch, subresource="status")
    return True
