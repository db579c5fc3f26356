"""Discovery: kinds spelled the way kubectl accepts them — ``pods``, ``pod``, ``po``, ``Pod``,
``deploy``, ``deployments.apps``, ``deployments.v1.apps``.

kubectl never hard-codes what a word means: it asks the API server's *discovery* (one
``APIResourceList`` per group, at the group's preferred version) and matches the word against
every resource's plural name, singular name, kind and short names. A word with dots names the
group (``ingresses.networking.k8s.io``) or the version and the group (``deployments.v1.apps``).
Where two groups serve the same word, the one discovery lists first wins — the core group,
then the groups in the server's order — as kubectl's priority mapper decides. Custom resources
take part as soon as their CRD is served, because discovery lists them.

``Resolver`` keeps one discovery answer and asks again when a word is not in it, so a CRD
created a moment ago is found without restarting anything. The embedded cluster and the
built-in kubectl both resolve words here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import attrs

from minikube_py.client.protocol import GVR, Object


class UnknownResource(LookupError):
    """No served resource answers to a word; the message is kubectl's."""


@attrs.frozen
class Resource:
    """One served resource: where its collection is, what its objects are called."""

    gvr: GVR
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return self.gvr.api_version


def resources_of(lists: list[Object]) -> Iterator[Resource]:
    """Every resource (no subresources) in discovery's ``APIResourceList``s, in their order."""
    for listed in lists:
        group, _, version = str(listed.get("groupVersion", "")).rpartition("/")
        for entry in listed.get("resources") or ():
            name = str(entry.get("name", ""))
            if not name or "/" in name:
                continue
            yield Resource(
                GVR(group, version, name),
                str(entry.get("kind", "")),
                bool(entry.get("namespaced")),
                str(entry.get("singularName") or ""),
                tuple(str(short) for short in entry.get("shortNames") or ()),
            )


def _matches(resource: Resource, word: str) -> list[bool]:
    """How ``word`` names ``resource``, strongest first: plural, singular or kind, short name."""
    return [
        resource.gvr.resource == word,
        word in (resource.singular, resource.kind.lower()),
        word in resource.short_names,
    ]


def _candidates(word: str) -> Iterator[tuple[str, str | None, str | None]]:
    """The readings of ``word`` as (resource, version, group): ``a.b.c`` may be resource ``a``
    of version ``b`` in group ``c``, or resource ``a`` of group ``b.c`` (kubectl tries both)."""
    resource, dot, rest = word.partition(".")
    if not dot:
        yield resource, None, None
        return
    version, dot, group = rest.partition(".")
    if dot and version.startswith("v") and version[1:2].isdigit():
        yield resource, version, group
    yield resource, None, rest


def find(word: str, resources: list[Resource]) -> Resource | None:
    """The resource ``word`` names among ``resources``, or None."""
    lowered = word.strip().lower()
    for name, version, group in _candidates(lowered):
        chosen = [
            r
            for r in resources
            if (group is None or r.gvr.group == group)
            and (version is None or r.gvr.version == version)
        ]
        for strength in range(3):
            for resource in chosen:
                if _matches(resource, name)[strength]:
                    return resource
    return None


def find_kind(api_version: str, kind: str, resources: list[Resource]) -> Resource | None:
    """The resource holding objects of ``kind`` in ``api_version`` (a manifest's header)."""
    for resource in resources:
        if resource.api_version == api_version and resource.kind == kind:
            return resource
    return None


class Resolver:
    """Discovery, asked once and again whenever a word is not found in the last answer."""

    def __init__(self, discover: Callable[[], Awaitable[list[Object]]]) -> None:
        self._discover = discover
        self._resources: list[Resource] | None = None

    async def _lookup(self, pick: Callable[[list[Resource]], Resource | None]) -> Resource | None:
        if self._resources is not None:
            found = pick(self._resources)
            if found is not None:
                return found
        self._resources = list(resources_of(await self._discover()))
        return pick(self._resources)

    async def resource(self, word: str) -> Resource:
        """The resource a kubectl-style word names; ``UnknownResource`` as kubectl's message."""
        found = await self._lookup(lambda resources: find(word, resources))
        if found is None:
            raise UnknownResource(f'the server doesn\'t have a resource type "{word}"')
        return found

    async def kind(self, api_version: str, kind: str) -> Resource | None:
        return await self._lookup(lambda resources: find_kind(api_version, kind, resources))
