"""The real ``kubectl`` reading the server's OpenAPI v3 documents: ``explain`` prints the 1.32
field documentation, and ``apply``, ``diff``, ``edit``, ``replace`` and ``create -f`` work with
the full schemas (client-side apply computes its strategic merge patch from them) while
default strict validation still refuses unknown fields on the server.
"""

from __future__ import annotations

import stat
from typing import Any

import yaml

from tests.e2e.conftest import Kubectl


def deployment(name: str, strategy: dict[str, Any], *, foo: bool = False) -> str:
    labels = {"app": name}
    spec: dict[str, Any] = {
        "replicas": 1,
        "selector": {"matchLabels": labels},
        "strategy": strategy,
        "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]},
        },
    }
    if foo:
        spec["foo"] = "bar"
    manifest = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}}
    return yaml.safe_dump({**manifest, "spec": spec})


# ------------------------------------------------------------------------------------ explain


def test_explain_a_field_prints_its_documentation(kubectl: Kubectl) -> None:
    out = kubectl.out("explain", "deployment.spec.strategy")
    assert "GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n" in out
    assert "FIELD: strategy <DeploymentStrategy>" in out
    assert "The deployment strategy to use to replace existing pods with new ones." in out
    assert "rollingUpdate\t<RollingUpdateDeployment>" in out
    # the description of rollingUpdate, from the 1.32 definitions (wrapped by kubectl)
    assert "Rolling update config params. Present only if DeploymentStrategyType =" in out
    assert "type\t<string>" in out


def test_explain_names_int_or_string_and_quantity_types(kubectl: Kubectl) -> None:
    surge = kubectl.out("explain", "deploy.spec.strategy.rollingUpdate.maxSurge")
    assert "FIELD: maxSurge <IntOrString>" in surge
    resources = kubectl.out("explain", "pod.spec.containers.resources")
    assert "limits\t<map[string]Quantity>" in resources


def test_explain_recursive(kubectl: Kubectl) -> None:
    out = kubectl.out("explain", "pods", "--recursive")
    assert "KIND:       Pod\nVERSION:    v1\n" in out
    lines = out.splitlines()
    assert "    containers\t<[]Container> -required-" in lines
    assert "      livenessProbe\t<Probe>" in lines
    assert "  status\t<PodStatus>" in lines
    assert len(lines) > 500  # every nested field of a pod


def test_explain_service_ports(kubectl: Kubectl) -> None:
    out = kubectl.out("explain", "svc.spec.ports")
    assert "FIELD: ports <[]ServicePort>" in out
    assert "ServicePort contains information on service's port." in out
    assert "port\t<integer> -required-" in out
    assert "targetPort\t<IntOrString>" in out


def test_explain_with_api_version(kubectl: Kubectl) -> None:
    v2 = kubectl.out("explain", "hpa.spec", "--api-version=autoscaling/v2")
    assert "GROUP:      autoscaling\nKIND:       HorizontalPodAutoscaler\nVERSION:    v2" in v2
    assert "metrics\t<[]MetricSpec>" in v2
    v1 = kubectl.out("explain", "hpa.spec", "--api-version=autoscaling/v1")
    assert "VERSION:    v1" in v1
    assert "targetCPUUtilizationPercentage\t<integer>" in v1
    assert "metrics\t" not in v1


def test_explain_from_openapi_v2(kubectl: Kubectl) -> None:
    """The older output reads ``/openapi/v2``, which kubectl asks for in protobuf only."""
    out = kubectl.out("explain", "deployment.spec.strategy", "--output=plaintext-openapiv2")
    assert "KIND:     Deployment\nVERSION:  apps/v1\n" in out
    assert "RESOURCE: strategy <Object>" in out
    assert "Rolling update config params. Present only if DeploymentStrategyType =" in out
    recursive = kubectl.out("explain", "pods", "--recursive", "--output=plaintext-openapiv2")
    lines = recursive.splitlines()
    assert "      containers\t<[]Object>" in lines
    assert "         livenessProbe\t<Object>" in lines


def test_explain_an_unknown_field(kubectl: Kubectl) -> None:
    err = kubectl.fails("explain", "deployment.spec.nothing")
    assert 'field "nothing" does not exist' in err


# --------------------------------------------------------------- writes with the full schemas


def test_apply_uses_the_v3_documents_only(kubectl: Kubectl, unique: Any) -> None:
    """apply fetches the index and the group version's document by its hashed address, and
    never falls back to /openapi/v2."""
    name = unique("v3only")
    path = kubectl.write(f"{name}.yaml", deployment(name, {"type": "Recreate"}))
    try:
        done = kubectl.run("apply", "-f", str(path), "-v=6")
        assert done.stdout.strip() == f"deployment.apps/{name} created"
        assert "/openapi/v3/apis/apps/v1?hash=" in done.stderr
        assert "/openapi/v2" not in done.stderr
    finally:
        kubectl.run("delete", "deploy", name, "--ignore-not-found", check=False)


def test_apply_keeps_only_the_chosen_strategy(kubectl: Kubectl, unique: Any) -> None:
    """``strategy`` is ``retainKeys`` in the schema: kubectl sends ``$retainKeys`` and the
    server drops what the manifest left out, then defaults it again."""
    name = unique("retain")
    path = kubectl.write(
        f"{name}.yaml",
        deployment(name, {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2}}),
    )
    try:
        assert kubectl.out("apply", "-f", str(path)).strip().endswith("created")
        path.write_text(deployment(name, {"type": "Recreate"}))
        diff = kubectl.run("diff", "-f", str(path), check=False)
        assert diff.returncode == 1, diff.stderr  # 1: differences found
        assert "-    type: RollingUpdate" in diff.stdout and "+    type: Recreate" in diff.stdout
        assert kubectl.out("apply", "-f", str(path)).strip().endswith("configured")
        strategy = kubectl.json("get", "deploy", name)["spec"]["strategy"]
        assert strategy == {"type": "Recreate"}
        assert kubectl.out("apply", "-f", str(path)).strip().endswith("unchanged")
        assert kubectl.run("diff", "-f", str(path)).returncode == 0
    finally:
        kubectl.run("delete", "deploy", name, "--ignore-not-found", check=False)


def test_edit_replace_and_create_validate_strictly(kubectl: Kubectl, unique: Any) -> None:
    name = unique("strictdeploy")
    strategy = {"type": "Recreate"}
    bad = kubectl.write(f"{name}-bad.yaml", deployment(name, strategy, foo=True))
    good = kubectl.write(f"{name}.yaml", deployment(name, strategy))
    editor = kubectl.write(
        f"{name}-editor.sh", "#!/bin/sh\nsed -i 's/replicas: 1/replicas: 3/' \"$1\"\n"
    )
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    try:
        for verb in ("create", "apply"):
            err = kubectl.fails(verb, "-f", str(bad))
            assert 'strict decoding error: unknown field "spec.foo"' in err, err
        assert kubectl.out("create", "-f", str(good)).strip() == f"deployment.apps/{name} created"
        err = kubectl.fails("replace", "-f", str(bad))
        assert 'strict decoding error: unknown field "spec.foo"' in err, err
        # kubectl replace reads the live resourceVersion, then PUTs: the deployment controller
        # may write the status in between (a 409, upstream as here), and a user tries again
        for _ in range(5):
            done = kubectl.run("replace", "-f", str(good), check=False)
            if "Conflict" not in done.stderr:
                break
        assert (done.returncode, done.stdout.strip()) == (0, f"deployment.apps/{name} replaced")
        env = {**kubectl.env, "KUBE_EDITOR": str(editor), "EDITOR": str(editor)}
        edited = Kubectl(kubectl.binary, env, kubectl.cache_dir, kubectl.workdir)
        assert edited.out("edit", "deploy", name).strip() == f"deployment.apps/{name} edited"
        assert kubectl.json("get", "deploy", name)["spec"]["replicas"] == 3
    finally:
        kubectl.run("delete", "deploy", name, "--ignore-not-found", check=False)
