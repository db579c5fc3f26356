"""Moving from client-side to server-side apply: the ``last-applied-configuration`` annotation.

``kubectl apply`` (client-side) keeps what it applied in the annotation
``kubectl.kubernetes.io/last-applied-configuration`` and writes as the manager
``kubectl-client-side-apply``. The first ``kubectl apply --server-side`` of such an object
would conflict with that manager on every field it changes. Upstream's API server smooths the
move for the manager ``kubectl`` only (others opt out by choosing another ``--field-manager``):

- a conflict on a field that the annotation lists is not a conflict: kubectl set it before;
- after a successful apply, an existing annotation is rewritten to the new configuration, so
  a later client-side apply computes its three-way patch from what was really applied.

kubectl itself then moves the old manager's fields to its ``Apply`` entry.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from minikube_py.api import fieldsets
from minikube_py.api.fieldsets import Path, Schema

ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
MANAGER = "kubectl"  # the only applier upstream does this for

Object = dict[str, Any]


def _annotation(obj: Object | None) -> str | None:
    annotations = ((obj or {}).get("metadata") or {}).get("annotations")
    value = annotations.get(ANNOTATION) if isinstance(annotations, dict) else None
    return value if isinstance(value, str) and value else None


def allowed_conflicts(root: Schema, live: Object | None, manager: str) -> set[Path]:
    """The paths ``manager`` may take over because it applied them client-side before."""
    text = _annotation(live) if manager == MANAGER else None
    if text is None:
        return set()
    try:
        applied = json.loads(text)
    except ValueError:
        return set()
    return fieldsets.applied_set(root, applied) if isinstance(applied, dict) else set()


def sync(merged: Object, config: Object, manager: str) -> None:
    """Rewrite an existing annotation of ``merged`` to ``config`` (applies by kubectl only)."""
    if manager != MANAGER or _annotation(merged) is None:
        return
    recorded = copy.deepcopy(config)
    annotations = (recorded.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(ANNOTATION, None)
    # Go's encoder: sorted keys, compact, a final newline
    text = json.dumps(recorded, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    merged["metadata"]["annotations"][ANNOTATION] = text + "\n"
