"""The scheduler: assigns each pending pod to a node, as kube-scheduler does.

``framework`` runs one scheduling cycle (filter every node, score the feasible ones, pick the
best) over ``plugins``, one module per upstream plugin; ``resources`` computes what a pod asks
of a node; ``queue`` orders pending pods and backs off the ones that did not fit; ``scheduler``
is the long-lived component that watches pods and nodes and binds pods through the API.
"""
