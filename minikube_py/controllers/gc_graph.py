"""The garbage collector's graph: who owns whom, kept from the informers' events.

Every object may name its owners in ``metadata.ownerReferences`` (kind, name and — what
counts — ``uid``). The garbage collector keeps the reverse as a graph, one ``Node`` per uid,
each knowing its owners (the references, as written) and its dependents (the nodes that name
it), like upstream's ``GraphBuilder``:

- An object seen for the first time becomes a node and joins its owners' dependents. An owner
  not seen (yet) gets a **virtual** node — only the reference's coordinates — which is checked
  against the API: gone means its dependents are orphans to collect.
- A change of ``ownerReferences`` moves the node between owners' dependents.
- A node whose object is deleted leaves the graph; its dependents are checked, and so is each
  of its owners that waits in foreground deletion for its dependents to go.
- Two transitions matter: an object being deleted with the ``orphan`` finalizer (its
  dependents must be freed) and with ``foregroundDeletion`` (its dependents must go first;
  the node is then *deleting dependents*).

The graph does not call the API; each change answers which keys the collector must look at
(``delete/<uid>``: attempt to delete or free that node, ``orphan/<uid>``: orphan its
dependents).
"""

from __future__ import annotations

from typing import Any

import attrs

Object = dict[str, Any]
ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"


def delete_key(uid: str) -> str:
    return f"delete/{uid}"


def orphan_key(uid: str) -> str:
    return f"orphan/{uid}"


@attrs.define(eq=False)
class Node:
    """One object (or, ``virtual``, one owner known only from references to it)."""

    uid: str
    api_version: str
    kind: str
    name: str
    namespace: str | None
    owners: list[Object] = attrs.field(factory=list)
    dependents: set[Node] = attrs.field(factory=set)
    virtual: bool = False
    being_deleted: bool = False
    deleting_dependents: bool = False

    def blocking_dependents(self) -> list[Node]:
        """Dependents whose reference to this node has ``blockOwnerDeletion``."""
        return [
            dependent
            for dependent in self.dependents
            if any(
                ref.get("uid") == self.uid and ref.get("blockOwnerDeletion")
                for ref in dependent.owners
            )
        ]

    def describe(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.api_version}/{self.kind} {where}{self.name} ({self.uid})"


class Graph:
    """Nodes by uid; ``observe`` and ``forget`` apply informer events."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}

    def get(self, uid: str) -> Node | None:
        return self.nodes.get(uid)

    def observe(self, obj: Object, api_version: str, kind: str) -> list[str]:
        """An object added or changed; the keys to look at."""
        metadata = obj.get("metadata") or {}
        uid = str(metadata.get("uid") or "")
        if not uid:
            return []
        owners = [dict(ref) for ref in metadata.get("ownerReferences") or [] if ref.get("uid")]
        keys: list[str] = []
        node = self.nodes.get(uid)
        if node is None:
            node = Node(uid, api_version, kind, metadata.get("name", ""), metadata.get("namespace"))
            self.nodes[uid] = node
            keys += self._add_to_owners(node, owners)
            node.owners = owners
        else:
            if node.virtual:  # the owner we only knew by name is real: its true coordinates
                node.virtual = False
                node.api_version, node.kind = api_version, kind
                node.name, node.namespace = metadata.get("name", ""), metadata.get("namespace")
            keys += self._owners_changed(node, owners)
        keys += self._transitions(node, metadata)
        return keys

    def forget(self, obj: Object) -> list[str]:
        """An object deleted (or found gone); the keys to look at."""
        uid = str((obj.get("metadata") or {}).get("uid") or "")
        node = self.nodes.get(uid)
        return [] if node is None else self.remove(node)

    def remove(self, node: Node) -> list[str]:
        """Take ``node`` out: its dependents may now be orphans, and its foreground-deleting
        owners may now have no dependent left to wait for."""
        if self.nodes.get(node.uid) is not node:
            return []
        del self.nodes[node.uid]
        keys = [delete_key(dependent.uid) for dependent in node.dependents]
        for ref in node.owners:
            owner = self.nodes.get(str(ref["uid"]))
            if owner is not None:
                owner.dependents.discard(node)
                if owner.deleting_dependents:
                    keys.append(delete_key(owner.uid))
        return keys

    def _add_to_owners(self, node: Node, owners: list[Object]) -> list[str]:
        keys: list[str] = []
        for ref in owners:
            owner = self.nodes.get(str(ref["uid"]))
            if owner is None:
                # never seen: remember it by the reference, and check whether it exists
                owner = Node(
                    str(ref["uid"]),
                    str(ref.get("apiVersion") or ""),
                    str(ref.get("kind") or ""),
                    str(ref.get("name") or ""),
                    node.namespace,
                    virtual=True,
                )
                self.nodes[owner.uid] = owner
                keys.append(delete_key(owner.uid))
            owner.dependents.add(node)
        return keys

    def _owners_changed(self, node: Node, owners: list[Object]) -> list[str]:
        old = {str(ref["uid"]): ref for ref in node.owners}
        new = {str(ref["uid"]): ref for ref in owners}
        keys = self._add_to_owners(node, [ref for uid, ref in new.items() if uid not in old])
        for uid, ref in old.items():
            owner = self.nodes.get(uid)
            if owner is None:
                continue
            if uid not in new:
                owner.dependents.discard(node)
            elif not (ref.get("blockOwnerDeletion") and not new[uid].get("blockOwnerDeletion")):
                continue
            # a dependent left or stopped blocking: a foreground owner may be done waiting
            if owner.deleting_dependents:
                keys.append(delete_key(owner.uid))
        node.owners = owners
        return keys

    def _transitions(self, node: Node, metadata: Object) -> list[str]:
        deleting = bool(metadata.get("deletionTimestamp"))
        finalizers = metadata.get("finalizers") or []
        node.being_deleted = deleting
        keys: list[str] = []
        if deleting and ORPHAN in finalizers:
            keys.append(orphan_key(node.uid))
        foreground = deleting and FOREGROUND in finalizers
        if foreground and not node.deleting_dependents:
            keys += [delete_key(dependent.uid) for dependent in node.dependents]
            keys.append(delete_key(node.uid))
        node.deleting_dependents = foreground
        return keys
