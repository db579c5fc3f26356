"""The package's layers, checked mechanically (DESIGN.md, "Package layout").

``cli → cluster → {apiserver, controllers, scheduler, kubelet, net} → {client, runtime} →
{store, api}``: a package may import its own modules, the shared top-level modules (``logs``,
``config``, ``clock``, ``slots``) and packages of a lower layer — never a higher one or a
peer. On top of that, the rule Kubernetes lives by: only the API server touches the store.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "minikube_py"
SHARED = {"logs", "config", "clock", "slots"}
LAYER = {
    "store": 0,
    "api": 0,
    "client": 1,
    "runtime": 1,
    "apiserver": 2,
    "controllers": 2,
    "scheduler": 2,
    "kubelet": 2,
    "net": 2,
    "cluster": 3,
    "cli": 4,
    "kubectl": 3,  # the built-in kubectl: an HTTPS client of the API, below cli which runs it
    "embedded": 4,  # Cluster / AsyncCluster: running_cluster plus the API server's apply
    "testing": 5,  # the pytest plugin, over the embedded cluster
}
NEVER = {
    part: {"store", "apiserver"}
    for part in ("controllers", "scheduler", "kubelet", "net", "runtime")
}


def imported_parts(source: str, module: str) -> set[str]:
    """The top-level parts of minikube_py that ``source`` (the module ``module``) imports."""
    parts = set()
    package = module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                names = [".".join([*base, node.module or ""]).rstrip(".")]
            else:
                names = [node.module or ""]
        for name in names:
            pieces = name.split(".")
            if pieces[0] == "minikube_py" and len(pieces) > 1:
                parts.add(pieces[1])
    return parts


def violations(part: str, imported: set[str]) -> set[str]:
    wrong = set()
    for other in imported - {part} - SHARED:
        if other in NEVER.get(part, set()) or LAYER.get(other, 99) >= LAYER.get(part, -1):
            wrong.add(other)
    return wrong


def test_every_module_imports_only_downward() -> None:
    problems = []
    checked = 0
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(relative.parts)
        if len(relative.parts) < 3:  # minikube_py/__init__.py, __main__.py, logs.py, cluster.py
            continue
        part = relative.parts[1]
        wrong = violations(part, imported_parts(path.read_text(), module))
        checked += 1
        if wrong:
            problems.append(f"{module} imports {sorted(wrong)}")
    assert checked > 10
    assert problems == []


def test_the_checker_catches_upward_imports_and_store_access() -> None:
    source = "from minikube_py.store import open_store\nfrom ..cluster import Cluster\n"
    imported = imported_parts(source, "minikube_py.controllers.deployment")
    assert imported == {"store", "cluster"}
    assert violations("controllers", imported) == {"store", "cluster"}
    assert violations("apiserver", {"store", "api", "logs"}) == set()
    assert violations("store", {"client"}) == {"client"}
