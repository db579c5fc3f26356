"""``kubectl logs POD|TYPE/NAME [-c C] [-f] [--tail N] [--since D] …``: a container's output.

The API server relays what the pod's kubelet kept of a container's stdout and stderr:
``GET /api/v1/namespaces/NS/pods/NAME/log?container=C&tailLines=10&follow=true``. kubectl
first decides which logs: one container of one pod (``-c``, else the default one), every
container (``--all-containers``), the best pod of a workload (``deployment/web``; ``Found 2
pods, using pod/…`` when there were several) or every pod a selector matches (``-l``, which
also limits each to its last 10 lines unless ``--tail`` says otherwise). Each source is then
read in turn — or, with ``-f`` and several sources, all at once, line by line so lines never
mix — with ``--prefix`` putting ``[pod/NAME/CONTAINER]`` before every line.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from datetime import UTC, datetime
from typing import Any

from minikube_py.api.errors import ApiError
from minikube_py.client.protocol import Object
from minikube_py.kubectl import podpick, streams
from minikube_py.kubectl.session import KubectlError, Session

_USAGE = (
    "expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\n"
    "POD or TYPE/NAME is a required argument for the logs command"
)
_HINT = "See 'kubectl logs -h' for help and examples"
SELECTOR_TAIL = 10  # lines per container when logs are chosen by a selector
_DURATION = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class FlagError(ValueError):
    """A flag value cobra refuses before the command runs (``Error: …`` and a usage hint)."""


def go_duration(text: str, flag: str) -> float:
    """Seconds in a Go duration (``5s``, ``2m``, ``1h30m``, ``-1s``), as pflag parses it."""
    body = text[1:] if text[:1] in "+-" else text
    pos, seconds = 0, 0.0
    for match in _DURATION.finditer(body):
        if match.start() != pos:
            break
        seconds += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if body == "0":
        return 0.0
    if not body or pos != len(body):
        raise FlagError(
            f'invalid argument "{text}" for "{flag}" flag: time: invalid duration "{text}"'
        )
    return -seconds if text.startswith("-") else seconds


def register(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "logs", parents=parents, help="Print the logs for a container in a pod"
    )
    parser.add_argument("-c", "--container", default=None)
    parser.add_argument("--all-containers", action="store_true")
    parser.add_argument("--all-pods", action="store_true")
    parser.add_argument("-f", "--follow", action="store_true")
    parser.add_argument("--tail", type=int, default=None)
    parser.add_argument("--since", default="0s")
    parser.add_argument("--since-time", default="")
    parser.add_argument("--timestamps", action="store_true")
    parser.add_argument("-p", "--previous", action="store_true")
    parser.add_argument("-l", "--selector", default="")
    parser.add_argument("--prefix", action="store_true")
    parser.add_argument("--limit-bytes", type=int, default=0)
    parser.add_argument("--max-log-requests", type=int, default=5)
    parser.add_argument("--ignore-errors", action="store_true")
    parser.add_argument("--pod-running-timeout", default="20s")
    parser.add_argument("words", nargs="*")
    parser.set_defaults(run=run)


async def run(session: Session, args: argparse.Namespace) -> int:
    words: list[str] = args.words
    if (not words and not args.selector) or len(words) > 2:
        raise KubectlError(f"{_USAGE}\n{_HINT}")
    if len(words) == 1 and args.selector:
        raise KubectlError(f"only a selector (-l) or a POD name is allowed\n{_HINT}")
    inline_container = words[1] if len(words) == 2 else None
    container = inline_container or args.container or ""
    try:
        since = go_duration(args.since, "--since")
        wait = go_duration(args.pod_running_timeout, "--pod-running-timeout")
    except FlagError as error:
        session.err.write(f"Error: {error}\nSee 'kubectl logs --help' for usage.\n")
        return 1
    if args.since_time:  # checked before the pod is looked up, as kubectl does
        args.since_time = _rfc3339_seconds(args.since_time)
    tail = args.tail
    if tail is None:
        tail = SELECTOR_TAIL if args.selector else -1
    pods = await _chosen_pods(session, args, words[0] if words else "", wait)
    # kubectl checks the flags only once it has the object, so a missing pod is reported first
    if args.since_time and since:
        raise KubectlError("at most one of `sinceTime` or `sinceSeconds` may be specified")
    if args.all_containers and container:
        raise KubectlError(
            f"--all-containers=true should not be specified with container name {container}"
        )
    if args.container is not None and inline_container:
        raise KubectlError("only one of -c or an inline [CONTAINER] arg is allowed")
    if args.limit_bytes < 0:
        raise KubectlError("--limit-bytes must be greater than 0")
    if since < 0:
        raise KubectlError("--since must be greater than 0")
    if tail < -1:
        raise KubectlError("--tail must be greater than or equal to -1")
    params = _query(args, tail, since)
    sources = [
        source
        for pod in pods
        for source in _sources(session, pod, container, all_containers=args.all_containers)
    ]
    if args.follow and len(sources) > 1:
        if len(sources) > args.max_log_requests:
            raise KubectlError(
                f"you are attempting to follow {len(sources)} log streams, but maximum allowed "
                f"concurrency is {args.max_log_requests}, use --max-log-requests to increase "
                "the limit"
            )
        # all at once; the first failure ends the rest (a TaskGroup would wrap it in a group)
        tasks = [
            asyncio.create_task(_copy_or_report(session, pod, name, params, args))
            for pod, name in sources
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
        return 0
    for pod, name in sources:
        await _copy(session, pod, name, params, args.prefix)
    return 0


async def _chosen_pods(
    session: Session, args: argparse.Namespace, word: str, wait: float
) -> list[Object]:
    """The pods whose logs are asked for; errors in kubectl's words for ``logs``."""
    if args.selector:
        listed = await session.get_json(
            podpick.PODS.path(session.namespace), {"labelSelector": args.selector}
        )
        items: list[Object] = listed.get("items") or []
        if not items:
            session.err.write(f"No resources found in {session.namespace} namespace.\n")
        return items
    try:
        if args.all_pods and "/" in word:
            return await _all_pods(session, word, wait)
        chosen = await podpick.resolve_target(
            session, word, podpick.for_logging, announce=True, wait=wait
        )
        return [chosen]
    except ApiError as error:
        if error.reason != "NotFound":
            raise
        # kubectl's resource builder rewords a missing object this way for logs
        raise KubectlError(
            f'error from server (NotFound): {error.message} in namespace "{session.namespace}"'
        ) from None


async def _all_pods(session: Session, word: str, wait: float) -> list[Object]:
    kind_word, _, name = word.rpartition("/")
    resource = await session.resource(kind_word)
    obj = await session.get_json(resource.gvr.path(session.namespace_of(resource), name))
    if resource.kind == "Pod":
        return [obj]
    selector = podpick.workload_selector(obj)
    return await podpick.pods_of(
        session, session.namespace, selector, podpick.for_logging, wait=wait
    )


def _query(args: argparse.Namespace, tail: int, since: float) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = []
    if args.follow:
        params.append(("follow", "true"))
    if args.previous:
        params.append(("previous", "true"))
    if args.timestamps:
        params.append(("timestamps", "true"))
    if args.since_time:
        params.append(("sinceTime", args.since_time))
    if since:
        params.append(("sinceSeconds", str(round(since))))
    if tail != -1:
        params.append(("tailLines", str(tail)))
    if args.limit_bytes:
        params.append(("limitBytes", str(args.limit_bytes)))
    return params


def _rfc3339_seconds(text: str) -> str:
    """``--since-time`` as kubectl sends it: UTC at whole seconds. Go's error for a value that
    is not even a year is kubectl's; a subtler mistake is passed on for the server to refuse."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        if not re.match(r"\d{4}", text):
            raise KubectlError(
                f'parsing time "{text}" as "2006-01-02T15:04:05Z07:00": '
                f'cannot parse "{text}" as "2006"'
            ) from None
        return text
    if moment.tzinfo is None:
        return text
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sources(
    session: Session, pod: Object, container: str, *, all_containers: bool
) -> list[tuple[Object, str]]:
    """(pod, container) pairs to read: every container in spec order, or the one meant."""
    if all_containers:
        fields = ("initContainers", "containers", "ephemeralContainers")
        return [
            (pod, str(c.get("name", "")))
            for field in fields
            for c in podpick.containers(pod, field)
        ]
    name = container or podpick.default_container(session, pod)
    if not podpick.has_container(pod, name):
        raise KubectlError(f"container {name} is not valid for pod {pod['metadata']['name']}")
    return [(pod, name)]


async def _copy_or_report(
    session: Session, pod: Object, container: str, params: list[tuple[str, str]], args: Any
) -> None:
    """One of several followed logs; with ``--ignore-errors`` a failure is a line of output
    (``error: <message>``) and the others go on."""
    try:
        await _copy(session, pod, container, params, args.prefix)
    except ApiError as error:
        if not args.ignore_errors:
            raise
        session.out.write(f"error: {error.message}\n")


async def _copy(
    session: Session, pod: Object, container: str, params: list[tuple[str, str]], prefix: bool
) -> None:
    """One container's log to standard output, a whole line at a time."""
    metadata = pod["metadata"]
    path = podpick.PODS.path(metadata.get("namespace") or session.namespace, metadata["name"])
    lead = f"[pod/{metadata['name']}/{container}] ".encode() if prefix else b""
    sink = streams.TextSink(session.out)
    pending = b""
    async with streams.open_stream(
        session, path + "/log", [("container", container), *params]
    ) as response:
        async for chunk in response.content.iter_any():
            pending += chunk
            end = pending.rfind(b"\n") + 1
            if end:
                lines = pending[:end]
                pending = pending[end:]
                if lead:
                    lines = b"".join(lead + line for line in lines.splitlines(keepends=True))
                sink.write(lines)
    if pending:
        sink.write(lead + pending)
