"""``kubectl create``: make new objects, from files (``-f``) or from flags (generators).

``create -f`` posts every object of the manifests as it is (``--save-config`` adds the
last-applied annotation, so a later ``apply`` knows what it owns); an object that exists
already is an ``AlreadyExists`` error, not an update. ``create deployment|namespace|configmap|
secret|serviceaccount|service`` build the object kubectl would (``create_generators``) and
post it. Objects are created with field manager ``kubectl-create`` and strict field
validation, as kubectl sends them. ``--dry-run=client`` sends nothing and prints the object
as kubectl built it (``-o yaml`` is how manifests are often started); ``--dry-run=server``
has the server check it without storing it. ``post`` is shared with ``run`` and ``expose``.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import orjson

from minikube_py.api.errors import ApiError
from minikube_py.client.protocol import Object
from minikube_py.kubectl import create_generators as make
from minikube_py.kubectl import lastapplied, manifests
from minikube_py.kubectl.cmd_apply import add_output_flags, dry_run, show
from minikube_py.kubectl.manifests import Failure, add_file_flags, targets, with_source
from minikube_py.kubectl.session import KubectlError, Session

_PARAMS = {"fieldManager": "kubectl-create", "fieldValidation": "Strict"}


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    outputs = argparse.ArgumentParser(add_help=False)
    add_output_flags(outputs)
    parents = [*parents, outputs]
    create = commands.add_parser(
        "create", parents=parents, help="Create a resource from a file or from stdin"
    )
    add_file_flags(create)
    create.add_argument("--save-config", action="store_true")
    create.set_defaults(run=run_files)
    kinds = create.add_subparsers(dest="create_kind", metavar="KIND")

    deploy = kinds.add_parser("deployment", aliases=["deploy"], parents=parents)
    deploy.add_argument("name")
    deploy.add_argument("--image", action="append", default=[])
    deploy.add_argument("--replicas", type=int, default=1)
    deploy.add_argument("--port", type=int, default=-1)
    deploy.set_defaults(run=run_deployment)

    namespace = kinds.add_parser("namespace", aliases=["ns"], parents=parents)
    namespace.add_argument("name")
    namespace.set_defaults(run=run_namespace)

    configmap = kinds.add_parser("configmap", aliases=["cm"], parents=parents)
    _add_data_flags(configmap)
    configmap.set_defaults(run=run_configmap)

    secret = kinds.add_parser("secret", parents=parents)
    secrets = secret.add_subparsers(dest="secret_kind", metavar="TYPE", required=True)
    generic = secrets.add_parser("generic", parents=parents)
    _add_data_flags(generic)
    generic.add_argument("--type", default="")
    generic.set_defaults(run=run_secret)
    tls = secrets.add_parser("tls", parents=parents)
    tls.add_argument("name")
    tls.add_argument("--cert", default="")
    tls.add_argument("--key", default="")
    tls.set_defaults(run=run_secret)
    registry = secrets.add_parser("docker-registry", parents=parents)
    registry.add_argument("name")
    for flag in ("server", "username", "password", "email"):
        registry.add_argument(f"--docker-{flag}", default="")
    registry.set_defaults(run=run_secret)

    account = kinds.add_parser("serviceaccount", aliases=["sa"], parents=parents)
    account.add_argument("name")
    account.set_defaults(run=run_service_account)

    service = kinds.add_parser("service", aliases=["svc"], parents=parents)
    types = service.add_subparsers(dest="service_kind", metavar="TYPE", required=True)
    for word in ("clusterip", "nodeport", "loadbalancer"):
        parser = types.add_parser(word, parents=parents)
        parser.add_argument("name")
        parser.add_argument("--tcp", action="append", default=[])
        if word == "clusterip":
            parser.add_argument("--clusterip", default=None)
        if word == "nodeport":
            parser.add_argument("--node-port", type=int, default=0)
        parser.set_defaults(run=run_service)


def _add_data_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name")
    parser.add_argument("--from-literal", action="append", default=[])
    parser.add_argument("--from-file", action="append", default=[])
    parser.add_argument("--from-env-file", action="append", default=[])


async def run_files(session: Session, args: argparse.Namespace) -> int:
    """``create -f``: every object posted; failures reported after, as kubectl does."""
    placed, unread = await targets(session, args, "create")
    failures: list[Failure] = []
    mode = dry_run(args)
    params = {**_PARAMS, "dryRun": "All"} if mode == "server" else _PARAMS
    for target in placed:
        body = lastapplied.annotated(target.obj) if args.save_config else target.obj
        if mode == "client":
            show(session, args, target.resource, body, "created")
            continue
        collection = target.resource.gvr.path(target.namespace)
        try:
            raw = await session.client.request("POST", collection, params=params, body=body)
        except ApiError as error:
            failures.append(with_source(error, "creating", target.source))
            continue
        show(session, args, target.resource, orjson.loads(raw), "created")
    return manifests.report(session, failures + unread)


async def post(
    session: Session,
    args: argparse.Namespace,
    word: str,
    obj: Object,
    *,
    manager: str,
    failed: str | None,
    verb: str = "created",
) -> Object | None:
    """Create ``obj`` (a generator's) in the resource ``word`` names, in ``-n``'s namespace,
    and print what kubectl prints. ``failed`` is kubectl's prefix for an error (``failed to
    create deployment: ``); None prints the server's error as kubectl does and returns None
    (the command then fails)."""
    resource = await session.resource(word)
    namespace = session.namespace_of(resource)
    if namespace is not None and session.namespace_flag:
        obj["metadata"]["namespace"] = namespace  # kubectl names it only when -n is given
    mode = dry_run(args)
    if mode == "client":
        shown = make.printable(obj)
        show(session, args, resource, shown, verb, built=True)
        return shown
    params = {**_PARAMS, "fieldManager": manager}
    if mode == "server":
        params["dryRun"] = "All"
    try:
        raw = await session.client.request(
            "POST", resource.gvr.path(namespace), params=params, body=obj
        )
    except ApiError as error:
        if failed is None:
            manifests.report(session, [error])  # an Invalid Status is told from its causes
            return None
        raise KubectlError(f"{failed}{error.message}") from None
    created: Object = orjson.loads(raw)
    show(session, args, resource, created, verb)
    return created


async def run_deployment(session: Session, args: argparse.Namespace) -> int:
    if not args.image:
        raise KubectlError('required flag(s) "image" not set')
    port = args.port if args.port >= 0 else None
    obj = make.deployment(args.name, args.image, args.replicas, port)
    await post(
        session,
        args,
        "deployments",
        obj,
        manager="kubectl-create",
        failed="failed to create deployment: ",
    )
    return 0


async def run_namespace(session: Session, args: argparse.Namespace) -> int:
    created = await post(
        session,
        args,
        "namespaces",
        make.namespace(args.name),
        manager="kubectl-create",
        failed=None,
    )
    return 0 if created is not None else 1


async def run_configmap(session: Session, args: argparse.Namespace) -> int:
    data = await asyncio.to_thread(
        make.key_values,
        "ConfigMap",
        args.name,
        args.from_literal,
        args.from_file,
        args.from_env_file,
    )
    await post(
        session,
        args,
        "configmaps",
        make.configmap(args.name, data),
        manager="kubectl-create",
        failed="failed to create configmap: ",
    )
    return 0


async def run_secret(session: Session, args: argparse.Namespace) -> int:
    if args.secret_kind == "generic":
        data = await asyncio.to_thread(
            make.key_values,
            "Secret",
            args.name,
            args.from_literal,
            args.from_file,
            args.from_env_file,
        )
        obj = make.secret(args.name, data, args.type)
    elif args.secret_kind == "tls":
        obj = await asyncio.to_thread(make.tls_secret, args.name, args.cert, args.key)
    else:
        obj = make.docker_registry_secret(
            args.name,
            args.docker_server,
            args.docker_username,
            args.docker_password,
            args.docker_email,
        )
    # kubectl's own wording, without a colon
    await post(
        session, args, "secrets", obj, manager="kubectl-create", failed="failed to create secret "
    )
    return 0


async def run_service_account(session: Session, args: argparse.Namespace) -> int:
    obj = {"kind": "ServiceAccount", "apiVersion": "v1", "metadata": {"name": args.name}}
    failed = "failed to create serviceaccount: "
    await post(session, args, "serviceaccounts", obj, manager="kubectl-create", failed=failed)
    return 0


_SERVICE_TYPES = {"clusterip": "ClusterIP", "nodeport": "NodePort", "loadbalancer": "LoadBalancer"}


async def run_service(session: Session, args: argparse.Namespace) -> int:
    kind = _SERVICE_TYPES[args.service_kind]
    cluster_ip = getattr(args, "clusterip", None)
    if not args.tcp and cluster_ip != "None":
        raise KubectlError("at least one tcp port specifier must be provided")
    obj = make.service(args.name, kind, args.tcp, getattr(args, "node_port", 0), cluster_ip)
    await post(
        session,
        args,
        "services",
        obj,
        manager="kubectl-create",
        failed=f"failed to create {kind} service: ",
    )
    return 0
