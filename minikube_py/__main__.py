"""``python -m minikube_py`` runs the ``minikube-py`` command line."""

from minikube_py.cli import main

main()
