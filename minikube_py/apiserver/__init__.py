"""The API server: the cluster's only door to its data, speaking Kubernetes' REST dialect.

Every client — the real ``kubectl``, the official ``kubernetes`` Python client, the cluster's
own controllers, scheduler and kubelets — reads and writes objects through it. A request is
authenticated (client certificate or bearer token, ``authn.py``, with the certificates from
``pki.py``), routed, decoded, admitted (defaults, validation) and stored; watches stream the
store's changes back. ``kubeconfig.py`` writes the file that tells ``kubectl`` where the
server is and which credentials to present.
"""
