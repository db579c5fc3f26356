"""``kubectl run NAME --image=I``: start one pod, the quickest way to try an image.

The pod is labelled ``run=NAME`` (or ``--labels``), its one container is named ``NAME``;
``--port``, ``--env`` and ``--restart`` (``Always``, ``OnFailure``, ``Never``) fill in the
obvious fields and ``dnsPolicy`` is ``ClusterFirst``, as kubectl sets it; ``--expose`` puts a
Service of the same name on ``--port`` in front of it. Words after the name are the
container's arguments, or with ``--command`` its command: ``kubectl run box --image=busybox
--command -- sleep 3600``.

kubectl takes those words before or after ``--``; argparse would stop at the first word it
cannot place, so this command's parser reads what follows ``--`` itself.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from minikube_py.client.protocol import Object
from minikube_py.kubectl.cmd_apply import add_output_flags
from minikube_py.kubectl.cmd_create import post
from minikube_py.kubectl.session import KubectlError, Session

_RESTARTS = ("Always", "OnFailure", "Never")


class _WordsAfterName(argparse.ArgumentParser):
    """A parser whose extra words (before or after ``--``) become ``args.words``."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        words = list(args or [])
        after: list[str] = []
        if "--" in words:
            cut = words.index("--")
            words, after = words[:cut], words[cut + 1 :]
        parsed, extra = super().parse_known_args(words, namespace)
        flags = [word for word in extra if word.startswith("-")]
        if flags:
            raise KubectlError(f"unknown flag: {flags[0].split('=', 1)[0]}")
        parsed.words = list(getattr(parsed, "words", None) or []) + extra + after
        return parsed, []

    def error(self, message: str) -> None:  # type: ignore[override]
        raise KubectlError(message)


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    usual = commands._parser_class
    commands._parser_class = _WordsAfterName  # only this sub-parser reads words after "--"
    try:
        run_parser = commands.add_parser(
            "run", parents=parents, help="Run a particular image on the cluster"
        )
    finally:
        commands._parser_class = usual
    run_parser.add_argument("name")
    run_parser.add_argument("--image", default="")
    run_parser.add_argument("--port", default="")
    run_parser.add_argument("--env", action="append", default=[])
    run_parser.add_argument("-l", "--labels", default="")
    run_parser.add_argument("--restart", default="Always")
    run_parser.add_argument("--command", action="store_true")
    run_parser.add_argument("--image-pull-policy", default="")
    run_parser.add_argument("--expose", action="store_true")
    add_output_flags(run_parser)
    run_parser.set_defaults(run=run, words=[])


def pod(args: argparse.Namespace) -> Object:
    """The pod kubectl's ``run`` generator builds from the flags."""
    if not args.image:
        raise KubectlError('required flag(s) "image" not set')
    if args.restart not in _RESTARTS:
        raise KubectlError(f"invalid restart policy: {args.restart}")
    labels = _labels(args.labels) if args.labels else {"run": args.name}
    container: dict[str, Any] = {"name": args.name, "image": args.image}
    if args.words:
        container["command" if args.command else "args"] = list(args.words)
    if args.port:
        if not str(args.port).isdigit():
            raise KubectlError(f'strconv.Atoi: parsing "{args.port}": invalid syntax')
        container["ports"] = [{"containerPort": int(args.port)}]
    if args.env:
        container["env"] = [_env(entry) for entry in args.env]
    container["resources"] = {}
    if args.image_pull_policy:
        container["imagePullPolicy"] = args.image_pull_policy
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {"name": args.name, "labels": labels},
        "spec": {
            "containers": [container],
            "restartPolicy": args.restart,
            "dnsPolicy": "ClusterFirst",
        },
    }


def _labels(text: str) -> dict[str, str]:
    labels = {}
    for pair in text.split(","):
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise KubectlError(f"invalid label spec: {pair}")
        labels[key] = value
    return labels


def _env(entry: str) -> dict[str, str]:
    key, equals, value = entry.partition("=")
    if not equals or not key:
        raise KubectlError(f"invalid env: {entry}")
    return {"name": key, "value": value}


def service(args: argparse.Namespace, labels: dict[str, str]) -> Object:
    """``--expose``: a Service in front of the pod, on ``--port``, selecting its labels."""
    port = int(args.port)
    return {
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": {"name": args.name},
        "spec": {
            "ports": [{"protocol": "TCP", "port": port, "targetPort": port}],
            "selector": labels,
        },
    }


async def run(session: Session, args: argparse.Namespace) -> int:
    made = pod(args)
    if args.expose:
        if not args.port:
            raise KubectlError(
                "--port must be set when exposing a service\n"
                "See 'kubectl run -h' for help and examples"
            )
        front = service(args, made["metadata"]["labels"])
        if await post(session, args, "services", front, manager="kubectl-run", failed=None) is None:
            return 1
    created = await post(session, args, "pods", made, manager="kubectl-run", failed=None)
    return 0 if created is not None else 1
