"""What a command's ``TYPE NAME`` arguments ask for, read as kubectl's resource builder reads
them.

``get``, ``describe``, ``delete``, ``scale`` and ``expose`` all take their objects the same
way: ``TYPE[,TYPE...] [NAME...]`` (every name of every type; a type alone means all of its
objects) or ``TYPE/NAME...``, one object a word — but not both forms at once. A type is a
resource's plural, singular, kind or short name (``deploy``) as discovery tells them; failing
those, a *category* (``all``) stands for every resource that lists it, in discovery's order.
"""

from __future__ import annotations

from dataclasses import dataclass

from minikube_py.client.discovery import Resource, UnknownResource, resources_of
from minikube_py.kubectl.session import KubectlError, Session

SLASH_AND_TYPE = (
    "there is no need to specify a resource type as a separate argument when passing "
    "arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of "
    "'kubectl get resource resource/<resource_name>'"
)


@dataclass(frozen=True)
class Wanted:
    """One thing the arguments ask for: a whole collection (``name`` None) or one object."""

    resource: Resource
    name: str | None = None


async def wanted_of(session: Session, words: list[str]) -> list[Wanted]:
    """Parse ``TYPE[,TYPE] [NAME...]`` or ``TYPE/NAME...`` as kubectl's resource builder does."""
    if any("/" in word for word in words):
        if not all("/" in word for word in words):
            raise KubectlError(SLASH_AND_TYPE)
        pairs = [word.split("/", 1) for word in words]
        return [Wanted(await session.resource(kind), name) for kind, name in pairs]
    resources = [
        r for kind in words[0].split(",") if kind for r in await resources_named(session, kind)
    ]
    if len(words) == 1:
        return [Wanted(resource) for resource in resources]
    return [Wanted(resource, name) for resource in resources for name in words[1:]]


async def resources_named(session: Session, word: str) -> list[Resource]:
    """The resource a word names or, failing that, every resource of the category it names
    (``all``: pods, services, deployments, ...), in discovery's order; the resource's
    ``UnknownResource`` when it is neither."""
    try:
        return [await session.resource(word)]
    except UnknownResource:
        lists = await session.client.server_preferred_resources()
        in_category = [
            {
                **listed,
                "resources": [
                    entry
                    for entry in listed.get("resources") or []
                    if word in (entry.get("categories") or ())
                ],
            }
            for listed in lists
        ]
        found = list(resources_of(in_category))
        if not found:
            raise
        return found
