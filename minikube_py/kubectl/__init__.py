"""The built-in kubectl: the everyday subset of kubectl, in Python, for machines without one.

``minikube-py kubectl -- ARGS`` runs the real kubectl when one is on PATH, as ``minikube
kubectl --`` runs the one it downloads; without it, ``main`` here answers instead. It is a
client like any other: it reads the kubeconfig, asks the API server's discovery what a word
such as ``po`` or ``deployments.apps`` means, and sends the same requests kubectl sends — a
``Table`` for ``get``, a patch for ``scale``, a watch for ``-w`` — printing what kubectl prints.

Each command is a module ``cmd_<name>.py`` with ``register(subparsers)``; ``app.py`` parses the
command line and turns errors into kubectl's one-line messages, ``session.py`` holds what every
command needs (the client, the namespace, the output streams).
"""

from __future__ import annotations

from minikube_py.kubectl.app import main

__all__ = ["main"]
