"""Aggregated discovery: kubectl 1.32 learns every resource from ``/api`` and ``/apis`` alone.

Given a fresh cache, kubectl asks those two paths for an ``APIGroupDiscoveryList`` and, when the
server answers with one, sends no request per group version. The answer must name the same
resources as the classic ``APIResourceList``s that older clients read.
"""

from __future__ import annotations

import json
import re

from tests.e2e.conftest import Kubectl


def _classic_resources(kubectl: Kubectl) -> set[str]:
    """``plural.group`` of every top-level resource in the classic per-version documents."""
    names = set()
    groups = json.loads(kubectl.out("get", "--raw", "/apis"))["groups"]
    paths = ["/api/v1"] + [f"/apis/{g['preferredVersion']['groupVersion']}" for g in groups]
    for path in paths:
        listed = json.loads(kubectl.out("get", "--raw", path))
        group = listed["groupVersion"].rpartition("/")[0]
        for resource in listed["resources"]:
            if "/" not in resource["name"]:
                names.add(f"{resource['name']}.{group}".rstrip("."))
    return names


def test_kubectl_discovers_everything_in_two_requests(kubectl: Kubectl, tmp_path) -> None:
    fresh = tmp_path / "cache"
    done = kubectl.run(f"--cache-dir={fresh}", "get", "nodes", "-v=6")
    requested = re.findall(r"GET https://\S+?(/[^?\s]*)", done.stderr)
    assert requested[:2] == ["/api", "/apis"]
    assert not [path for path in requested if re.fullmatch(r"/apis?/[^/]+(/v[^/]+)?", path)]
    assert "/api/v1/nodes" in requested


def test_aggregated_discovery_names_the_classic_resources(kubectl: Kubectl, tmp_path) -> None:
    fresh = tmp_path / "cache"
    listed = kubectl.out(f"--cache-dir={fresh}", "api-resources", "-o", "name").split()
    assert set(listed) == _classic_resources(kubectl)
    # short names and categories come from the aggregated answer too
    assert kubectl.run(f"--cache-dir={fresh}", "get", "deploy,all").returncode == 0
