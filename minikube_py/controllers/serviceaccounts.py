"""The ServiceAccounts controller: a ``default`` ServiceAccount in every namespace.

A pod runs as a service account — an identity for programs, as a user is one for people. When
a pod names none, the API server's admission gives it ``default``, and refuses the pod if that
account does not exist in the pod's namespace. So every namespace needs one from the moment it
is made: this controller (upstream's ``serviceaccount`` controller in kube-controller-manager,
``pkg/controller/serviceaccount``) creates ``default`` in each active namespace, and makes it
again if someone deletes it. Many tools wait for ``default`` to appear before they create pods
in a new namespace, because of exactly that admission rule.

The key is a namespace's name. A namespace being added or changed (it may have become active)
and a ServiceAccount being deleted both queue it; the reconcile creates whatever account of
``names`` the cache does not have. A namespace that is being deleted gets nothing: the API
server would refuse the write anyway.
"""

from __future__ import annotations

from collections.abc import Sequence

from minikube_py.client.protocol import NAMESPACES, SERVICE_ACCOUNTS, ApiError, Client, Object
from minikube_py.clock import Clock
from minikube_py.controllers.controller import Controller
from minikube_py.controllers.informers import SharedInformers

DEFAULT_ACCOUNTS = ("default",)  # upstream's DefaultServiceAccountsControllerOptions


class ServiceAccountsController(Controller):
    """Ensures the ``names`` accounts (``default``) exist in every active namespace."""

    name = "serviceaccount"
    workers = 1  # kube-controller-manager's --concurrent-serviceaccount-syncs default

    def __init__(
        self,
        client: Client,
        *,
        workers: int | None = None,
        clock: Clock | None = None,
        names: Sequence[str] = DEFAULT_ACCOUNTS,
    ) -> None:
        super().__init__(client, clock=clock, workers=workers)
        self.names = tuple(names)

    def wire(self, informers: SharedInformers) -> None:
        self.namespaces = informers.get(NAMESPACES)
        self.accounts = informers.get(SERVICE_ACCOUNTS)
        self.namespaces.on_add(self._namespace_changed)
        self.namespaces.on_update(lambda _old, new: self._namespace_changed(new))
        # only deletions matter: an added or changed account needs nothing made
        self.accounts.on_delete(self._account_deleted)

    def _namespace_changed(self, namespace: Object) -> None:
        self.queue.add(str(namespace["metadata"]["name"]))

    def _account_deleted(self, account: Object) -> None:
        if account["metadata"].get("name") in self.names:
            self.queue.add(str(account["metadata"].get("namespace")))

    async def reconcile(self, key: str) -> float | None:
        namespace = self.namespaces.get(key)
        if namespace is None or not is_active(namespace):
            return None
        for name in self.names:
            if self.accounts.get(f"{key}/{name}") is not None:
                continue
            try:
                await self.client.create(
                    SERVICE_ACCOUNTS,
                    key,
                    {
                        "apiVersion": "v1",
                        "kind": "ServiceAccount",
                        "metadata": {"name": name, "namespace": key},
                    },
                )
            except ApiError as error:
                # made meanwhile (our cache lags), or the namespace started terminating
                if error.code in (409, 403):
                    continue
                raise
            self.log.info("created service account", key=f"{key}/{name}")
        return None


def is_active(namespace: Object) -> bool:
    """Upstream acts only on namespaces whose phase is ``Active`` (not ``Terminating``)."""
    if namespace["metadata"].get("deletionTimestamp"):
        return False
    return bool((namespace.get("status") or {}).get("phase", "Active") == "Active")
