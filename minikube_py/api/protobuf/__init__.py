"""Reading Kubernetes protobuf request bodies as the JSON API would have received them.

kubectl's typed commands (``kubectl create deployment``, ``create secret``, ``create token``,
the evictions of ``kubectl drain`` ...) send their bodies as
``application/vnd.kubernetes.protobuf`` and, unlike reads, do not retry as JSON when a server
refuses that. This package turns such a body into exactly the dict that the same object, sent
as JSON, would have parsed to, so everything after the request parsing stays JSON-only::

    from minikube_py.api.protobuf import decode_request, MEDIA_TYPE

    if request.content_type == MEDIA_TYPE:
        obj = decode_request(await request.read())  # ValueError -> 400 Bad Request

The modules, outside in:

* ``envelope``: the ``k8s\\0`` magic and ``runtime.Unknown`` wrapper that name the kind;
* ``decoder``: one message to a dict, by the schema, with Go's JSON conventions;
* ``wellknown``: the types whose JSON has its own shape (timestamps, quantities, IntOrString);
* ``schema``: field numbers, names and types, read lazily from ``schema.json``;
* ``wire``: the protobuf byte format itself.

``schema.json`` is derived from Kubernetes' ``generated.proto`` files (Apache License 2.0,
see ``LICENSE`` here) by ``tools/protobuf_schema.py``. Encoding responses as protobuf is not
needed: clients ask for JSON as a second choice and get it.
"""

from minikube_py.api.protobuf.envelope import MAGIC, MEDIA_TYPE, decode_request

__all__ = ["MAGIC", "MEDIA_TYPE", "decode_request"]
