"""Helpers for users' test suites: the pytest plugin (``pytest_plugin.py``).

Installing minikube_py registers the plugin with pytest (the ``pytest11`` entry point), so a
project's tests can ask for a running cluster by naming a fixture — ``minikube_cluster`` for
the session's cluster, ``k8s_namespace`` for a namespace of the test's own — with no
conftest.py of their own. See docs/embedded.md.
"""
