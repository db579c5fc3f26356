"""ServiceAccount admission: every new pod runs as an account, and gets its credentials.

Upstream's ``ServiceAccount`` admission plugin (``plugin/pkg/admission/serviceaccount``), on
the creation of a pod:

1. names the pod's account ``default`` when the pod names none;
2. refuses the pod (403) when that account does not exist in the pod's namespace:
   ``pods "web" is forbidden: error looking up service account default/robot: serviceaccount
   "robot" not found``. The ``default`` account is made by a controller just after its
   namespace, so for it the plugin looks a few more times before giving up;
3. unless ``automountServiceAccountToken: false`` on the pod (or else on the account), adds the
   ``kube-api-access-<5 random characters>`` projected volume — a bound token of the account
   (``token``), the cluster's CA (``ca.crt``, from the ``kube-root-ca.crt`` ConfigMap) and the
   pod's namespace (``namespace``) — and mounts it read-only at
   ``/var/run/secrets/kubernetes.io/serviceaccount`` in every init and app container that
   does not already mount something there. The kubelet fills that volume (``kubelet/
   projected.py``), so a client library in the pod finds what its in-cluster config reads;
4. copies the account's ``imagePullSecrets`` to a pod that has none.

Only creations are changed; the API server never makes service accounts itself.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from minikube_py.api import errors, stamps
from minikube_py.api.resources import ResourceType

if TYPE_CHECKING:  # the storage calls this module, so only its type is imported
    from minikube_py.apiserver.storage import Storage

Object = dict[str, Any]
DEFAULT_ACCOUNT = "default"
TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
VOLUME_PREFIX = "kube-api-access-"
TOKEN_EXPIRATION_SECONDS = 3607  # upstream's "warn only" bound-token lifetime
ROOT_CA_CONFIG_MAP = "kube-root-ca.crt"
MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror"
# Upstream looks the default account up ten times, 100-200 ms apart, since a controller makes
# it just after the namespace; any other account once.
DEFAULT_ACCOUNT_ATTEMPTS = 10
RETRY_INTERVAL = 0.15


def applies(rt: ResourceType) -> bool:
    return rt.group == "" and rt.plural == "pods"


async def admit_pod(storage: Storage, body: Any, *, namespace: str | None) -> None:
    """Change a new pod's ``body`` in place as the ServiceAccount plugin does; 403 if its
    account is missing. A body that is no pod is left for the validation to refuse."""
    if not isinstance(body, dict) or not isinstance(body.get("spec"), dict):
        return
    metadata: Object = body["metadata"] if isinstance(body.get("metadata"), dict) else {}
    if MIRROR_POD_ANNOTATION in (metadata.get("annotations") or {}):
        return  # a static pod's mirror is what its kubelet runs: never changed
    namespace = str(namespace or "")
    await storage.namespaces.require_active(namespace)  # upstream's plugin order: 404 first
    spec = body["spec"]
    name = str(spec.get("serviceAccountName") or spec.get("serviceAccount") or DEFAULT_ACCOUNT)
    spec["serviceAccountName"] = name
    spec["serviceAccount"] = name  # the deprecated alias the v1 conversion fills
    account = await _account(storage, namespace, name)
    if account is None:
        pod_name = str(metadata.get("name") or "")
        message = (
            f"error looking up service account {namespace}/{name}: "
            f'serviceaccount "{name}" not found'
        )
        subject = f'pods "{pod_name}"' if pod_name else "pods"
        raise errors.ApiError(
            403,
            "Forbidden",
            f"{subject} is forbidden: {message}",
            details={"name": pod_name, "kind": "pods"} if pod_name else {"kind": "pods"},
        )
    if should_automount(account, spec):
        mount_token(spec)
    if not spec.get("imagePullSecrets") and account.get("imagePullSecrets"):
        spec["imagePullSecrets"] = [dict(s) for s in account["imagePullSecrets"]]


async def _account(storage: Storage, namespace: str, name: str) -> Object | None:
    rt = storage.registry.get("", "v1", "serviceaccounts")
    assert rt is not None
    attempts = DEFAULT_ACCOUNT_ATTEMPTS if name == DEFAULT_ACCOUNT else 1
    for attempt in range(attempts):
        if attempt:
            await asyncio.sleep(RETRY_INTERVAL)
        try:
            return await storage.get(rt, namespace, name)
        except errors.ApiError as error:
            if error.code != 404:
                raise
    return None


def should_automount(account: Object, spec: Object) -> bool:
    """The pod's ``automountServiceAccountToken`` wins, then the account's; default true."""
    for choice in (
        spec.get("automountServiceAccountToken"),
        account.get("automountServiceAccountToken"),
    ):
        if isinstance(choice, bool):
            return choice
    return True


def mount_token(spec: Object) -> None:
    """Mount the API access volume in every container that has nothing at its path; add the
    volume (reusing one the pod already has) if any container got the mount."""
    volumes: list[Any] = spec["volumes"] if isinstance(spec.get("volumes"), list) else []
    existing = next(
        (
            v["name"]
            for v in volumes
            if isinstance(v, dict) and str(v.get("name", "")).startswith(VOLUME_PREFIX)
        ),
        None,
    )
    volume_name = existing or stamps.generate_name(VOLUME_PREFIX)
    needed = False
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or []:
            if not isinstance(container, dict):
                continue
            mounts = container.get("volumeMounts")
            if not isinstance(mounts, list):
                mounts = container["volumeMounts"] = []
            if any(isinstance(m, dict) and m.get("mountPath") == TOKEN_MOUNT_PATH for m in mounts):
                continue  # a mount of the user's own at that path wins
            mounts.append({"name": volume_name, "readOnly": True, "mountPath": TOKEN_MOUNT_PATH})
            needed = True
    if needed and existing is None:
        spec["volumes"] = [*volumes, api_access_volume(volume_name)]


def api_access_volume(name: str) -> Object:
    """Upstream's ``kube-api-access-*`` projected volume."""
    return {
        "name": name,
        "projected": {
            "defaultMode": 0o644,
            "sources": [
                {
                    "serviceAccountToken": {
                        "expirationSeconds": TOKEN_EXPIRATION_SECONDS,
                        "path": "token",
                    }
                },
                {
                    "configMap": {
                        "name": ROOT_CA_CONFIG_MAP,
                        "items": [{"key": "ca.crt", "path": "ca.crt"}],
                    }
                },
                {
                    "downwardAPI": {
                        "items": [
                            {
                                "path": "namespace",
                                "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                            }
                        ]
                    }
                },
            ],
        },
    }
