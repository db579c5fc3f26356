"""The store: the cluster's memory, in the role etcd plays for Kubernetes.

It keeps every Kubernetes object as JSON under a key shaped like upstream's
(``/registry/<group>/<resource>/<namespace>/<name>``), stamps every write with a new global
revision (the ``resourceVersion`` clients see), offers compare-and-swap updates, consistent
paged lists and watches that replay history then stream live changes, and forgets old history
by compaction. It is SQL underneath: an SQLite file by default, PostgreSQL by URL.

Start with ``backend.py`` (the contract), then ``sql.py`` (how the parts fit together).
"""

from minikube_py.store.backend import Store, Watch
from minikube_py.store.compaction import Retention
from minikube_py.store.encryption import Encryption, load_or_create_key
from minikube_py.store.errors import (
    AlreadyExists,
    Conflict,
    EncryptionError,
    Expired,
    InvalidContinueToken,
    NotFound,
    RevisionNotYet,
    SchemaError,
    StoreClosed,
    StoreError,
    WatchOverflow,
)
from minikube_py.store.records import EventType, KeyValue, ListResult, WatchEvent
from minikube_py.store.sql import SqlStore, open_store

__all__ = [
    "AlreadyExists",
    "Conflict",
    "Encryption",
    "EncryptionError",
    "EventType",
    "Expired",
    "InvalidContinueToken",
    "KeyValue",
    "ListResult",
    "NotFound",
    "Retention",
    "RevisionNotYet",
    "SchemaError",
    "SqlStore",
    "Store",
    "StoreClosed",
    "StoreError",
    "Watch",
    "WatchEvent",
    "WatchOverflow",
    "load_or_create_key",
    "open_store",
]
