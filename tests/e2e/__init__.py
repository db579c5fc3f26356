"""End-to-end tests: the real ``kubectl`` and the official ``kubernetes`` client against a real
``python -m minikube_py serve`` process."""
