"""The resource registry: every served resource, looked up the ways clients address them.

Routing asks "what is ``/apis/apps/v1/.../deployments``?" (group, version, plural); decoding a
body asks "what is ``kind: Deployment`` in ``apps/v1``?"; discovery asks "which groups and
versions are there, and what do they hold?". One ``Registry`` answers all three from the same
``ResourceType`` records, so adding a kind is one entry in ``catalog.py``. Custom resources
come and go while the server runs (``apiserver/crds.py`` adds and removes them).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from minikube_py.api.resources import ResourceType


class Registry:
    """An ordered set of resource types with indexes by GVR and by kind."""

    def __init__(self, types: Iterable[ResourceType]) -> None:
        self._types: list[ResourceType] = []
        self._by_gvr: dict[tuple[str, str, str], ResourceType] = {}
        self._by_kind: dict[tuple[str, str, str], ResourceType] = {}
        for rt in types:
            self.add(rt)

    def add(self, rt: ResourceType) -> None:
        key = (rt.group, rt.version, rt.plural)
        if key in self._by_gvr:
            raise ValueError(f"resource {rt} is registered twice")
        self._types.append(rt)
        self._by_gvr[key] = rt
        self._by_kind.setdefault((rt.group, rt.version, rt.kind), rt)

    def remove(self, rt: ResourceType) -> None:
        """Stop serving ``rt`` (a custom resource whose CRD went away); absent: nothing."""
        key = (rt.group, rt.version, rt.plural)
        current = self._by_gvr.pop(key, None)
        if current is None:
            return
        self._types.remove(current)
        kind = (rt.group, rt.version, rt.kind)
        if self._by_kind.get(kind) is current:
            del self._by_kind[kind]
            for other in self._types:  # another resource of that kind takes its place
                if (other.group, other.version, other.kind) == kind:
                    self._by_kind[kind] = other
                    break

    def __iter__(self) -> Iterator[ResourceType]:
        # a snapshot: custom resources may come and go while a caller awaits between items
        return iter(tuple(self._types))

    def __len__(self) -> int:
        return len(self._types)

    def get(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self._by_gvr.get((group, version, plural))

    def by_kind(self, group: str, version: str, kind: str) -> ResourceType | None:
        return self._by_kind.get((group, version, kind))

    def by_api_version(self, api_version: str, kind: str) -> ResourceType | None:
        group, _, version = api_version.rpartition("/")
        return self.by_kind(group, version, kind)

    def groups(self) -> dict[str, list[str]]:
        """Each named group and its versions, in registration order (core group left out)."""
        groups: dict[str, list[str]] = {}
        for rt in self._types:
            if rt.group:
                versions = groups.setdefault(rt.group, [])
                if rt.version not in versions:
                    versions.append(rt.version)
        return groups

    def in_group_version(self, group: str, version: str) -> list[ResourceType]:
        return [rt for rt in self._types if rt.group == group and rt.version == version]
