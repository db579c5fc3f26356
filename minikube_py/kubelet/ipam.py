"""Pod addresses: each pod on a node gets its own address from the node's pod CIDR.

In a real cluster the CNI plugin's IPAM (``host-local``) hands a new pod the next free address
of the node's ``podCIDR``: minikube's first pod is 10.244.0.2, since .0 is the network and .1
the bridge. Here the node's range is a /24 of loopback (127.244.N.0/24, DESIGN.md) and the
kubelet allocates from it the same way: lowest free address from .2 upwards, the last one
(broadcast) never. A pod keeps its address while it runs and gives it back when its sandbox is
torn down; a new pod — even one with the same name — gets whichever address is free then,
which is why Kubernetes says "a new pod gets a new IP". ``hostNetwork`` pods take the node's
own address instead and allocate nothing.
"""

from __future__ import annotations

import ipaddress


class AddressesExhausted(Exception):
    """Every address of the range is in use."""


class PodAddresses:
    """The free and used addresses of one node's pod range."""

    def __init__(self, cidr: str) -> None:
        network = ipaddress.ip_network(cidr)
        self.cidr = cidr
        # .0 is the network, .1 the bridge (gateway); the broadcast address is never a host's.
        self._first = int(network.network_address) + 2
        self._last = int(network.broadcast_address) - 1
        self._by_owner: dict[str, int] = {}
        self._used: set[int] = set()

    def __contains__(self, address: str) -> bool:
        try:
            value = int(ipaddress.ip_address(address))
        except ValueError:
            return False
        return self._first <= value <= self._last

    def allocate(self, owner: str, preferred: str | None = None) -> str:
        """An address for ``owner`` (a pod uid); the same one again if it already has one.
        ``preferred`` (the address a pod's status already shows) is taken if it is free."""
        if owner in self._by_owner:
            return str(ipaddress.ip_address(self._by_owner[owner]))
        if preferred and preferred in self:
            value = int(ipaddress.ip_address(preferred))
            if value not in self._used:
                return self._take(owner, value)
        for value in range(self._first, self._last + 1):
            if value not in self._used:
                return self._take(owner, value)
        first = ipaddress.ip_address(self._first - 1)
        last = ipaddress.ip_address(self._last)
        raise AddressesExhausted(
            "failed to allocate for range 0: no IP addresses available in range set: "
            f"{first}-{last}"
        )

    def _take(self, owner: str, value: int) -> str:
        self._by_owner[owner] = value
        self._used.add(value)
        return str(ipaddress.ip_address(value))

    def release(self, owner: str) -> None:
        """Give ``owner``'s address back (nothing happens if it has none)."""
        value = self._by_owner.pop(owner, None)
        if value is not None:
            self._used.discard(value)

    def owner_address(self, owner: str) -> str | None:
        value = self._by_owner.get(owner)
        return None if value is None else str(ipaddress.ip_address(value))

    def __len__(self) -> int:
        return len(self._used)
