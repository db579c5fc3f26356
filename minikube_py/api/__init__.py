"""The Kubernetes data model, without I/O.

What a kind *is* lives here: the resource registry (group, version, kind, plural, scope, short
names, categories, subresources, printer columns), object metadata rules, labels and selectors,
defaulting, validation, and Table rows. The API server (``minikube_py/apiserver/``) reads all of
it from here, so nothing about a kind is written twice.
"""
