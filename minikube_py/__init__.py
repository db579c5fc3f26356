"""minikube_py: a Kubernetes cluster in one Python process.

The API server speaks the real Kubernetes REST dialect, pods are real processes, services
real loopback listeners, volumes real directories, and etcd is replaced by an SQL store
(SQLite by default, PostgreSQL for bigger set-ups). See docs/ and the README.
"""

__version__ = "0.1.0"
