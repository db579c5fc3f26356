"""The root CA publisher: the ``kube-root-ca.crt`` ConfigMap in every namespace.

A program in a pod that calls the API server over TLS must check the server's certificate,
so it needs the cluster's certificate authority. Upstream's ``root-ca-cert-publisher``
(``pkg/controller/certificates/rootcacertpublisher``) keeps a ConfigMap named
``kube-root-ca.crt`` in every namespace, with the CA bundle under the key ``ca.crt``; the
service-account volume the API server's admission adds to pods projects that key into the
container as ``/var/run/secrets/kubernetes.io/serviceaccount/ca.crt``.

The ConfigMap belongs to the controller: one that is deleted is made again, and one whose data
or description annotation someone changed is put back (its other annotations and labels are
left alone). The key is a namespace's name; namespaces being added or changed and that
ConfigMap changing or going queue it.
"""

from __future__ import annotations

from minikube_py.client.protocol import CONFIGMAPS, NAMESPACES, ApiError, Client, Object
from minikube_py.clock import Clock
from minikube_py.controllers.controller import Controller
from minikube_py.controllers.informers import SharedInformers
from minikube_py.controllers.serviceaccounts import is_active

CONFIG_MAP_NAME = "kube-root-ca.crt"
DATA_KEY = "ca.crt"
DESCRIPTION_ANNOTATION = "kubernetes.io/description"
DESCRIPTION = (
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters."
)


class RootCACertPublisher(Controller):
    """Keeps ``kube-root-ca.crt`` (``ca.crt``: ``ca_pem``) in every active namespace."""

    name = "root-ca-cert-publisher"
    workers = 1  # upstream runs one worker

    def __init__(
        self,
        client: Client,
        ca_pem: str,
        *,
        workers: int | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(client, clock=clock, workers=workers)
        self.ca_pem = ca_pem

    def wire(self, informers: SharedInformers) -> None:
        self.namespaces = informers.get(NAMESPACES)
        self.config_maps = informers.get(CONFIGMAPS)
        self.namespaces.on_add(self._namespace_changed)
        self.namespaces.on_update(lambda _old, new: self._namespace_changed(new))
        self.config_maps.on_update(lambda _old, new: self._config_map_changed(new))
        self.config_maps.on_delete(self._config_map_changed)

    def _namespace_changed(self, namespace: Object) -> None:
        self.queue.add(str(namespace["metadata"]["name"]))

    def _config_map_changed(self, config_map: Object) -> None:
        if config_map["metadata"].get("name") == CONFIG_MAP_NAME:
            self.queue.add(str(config_map["metadata"].get("namespace")))

    async def reconcile(self, key: str) -> float | None:
        namespace = self.namespaces.get(key)
        if namespace is None or not is_active(namespace):
            return None
        current = self.config_maps.get(f"{key}/{CONFIG_MAP_NAME}")
        try:
            if current is None:
                await self.client.create(CONFIGMAPS, key, self._desired(key))
                self.log.info("published root CA", key=f"{key}/{CONFIG_MAP_NAME}")
            elif not self._is_current(current):
                await self.client.update(CONFIGMAPS, key, self._restored(current))
                self.log.info("restored root CA", key=f"{key}/{CONFIG_MAP_NAME}")
        except ApiError as error:
            # 409: our cache lagged (the update event requeues us); 403: the namespace is going
            if error.code in (409, 403):
                return None
            raise
        return None

    def _is_current(self, config_map: Object) -> bool:
        annotations = config_map["metadata"].get("annotations") or {}
        return (
            config_map.get("data") == {DATA_KEY: self.ca_pem}
            and not config_map.get("binaryData")
            and annotations.get(DESCRIPTION_ANNOTATION) == DESCRIPTION
        )

    def _desired(self, namespace: str) -> Object:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": CONFIG_MAP_NAME,
                "namespace": namespace,
                "annotations": {DESCRIPTION_ANNOTATION: DESCRIPTION},
            },
            "data": {DATA_KEY: self.ca_pem},
        }

    def _restored(self, config_map: Object) -> Object:
        """The ConfigMap with our data and description, at its resourceVersion (so a write
        that raced us is a 409, not lost); its other metadata as it was."""
        metadata = dict(config_map["metadata"])
        metadata["annotations"] = {
            **(metadata.get("annotations") or {}),
            DESCRIPTION_ANNOTATION: DESCRIPTION,
        }
        restored = {**config_map, "metadata": metadata, "data": {DATA_KEY: self.ca_pem}}
        restored.pop("binaryData", None)
        return restored
