"""The kubelet's logs / exec / attach answers, over the fake runtime and handmade log files."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from minikube_py.kubelet.streams import KubeletStreams, container_for_logs
from minikube_py.runtime.fake import FakeRuntime
from minikube_py.runtime.protocol import (
    ContainerConfig,
    ContainerError,
    LogOptions,
    NodeStreams,
    SandboxConfig,
)

Object = dict[str, Any]


def write(path: Path, *lines: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as file:
        for line in lines:
            file.write(f"2024-05-01T10:00:00Z stdout F {line}\n".encode())


class Node:
    """A fake runtime with one pod ``x`` whose container ``web`` ran twice (c1, then c2)."""

    def __init__(self, directory: Path) -> None:
        self.runtime = FakeRuntime(directory, images=["nginx"])
        self.pods: dict[tuple[str, str], Object] = {}
        self.streams: NodeStreams = KubeletStreams(
            self.runtime, lambda ns, name: self.pods.get((ns, name)), poll_interval=0.01
        )

    async def start(self, attempt: int) -> str:
        sandbox = await self.runtime.create_sandbox(
            SandboxConfig("uid", "default", "x", "127.244.0.2", "x", self.runtime.directory)  # type: ignore[arg-type]
        )
        config = ContainerConfig(name="web", image="nginx", attempt=attempt)
        container = await self.runtime.create_container(sandbox, config)
        await self.runtime.start_container(container)
        return container

    def set_status(self, **entry: Any) -> None:
        status = {"name": "web", **entry}
        self.pods["default", "x"] = {
            "metadata": {"name": "x", "namespace": "default"},
            "spec": {"containers": [{"name": "web"}, {"name": "side"}]},
            "status": {"containerStatuses": [status]},
        }


@pytest.fixture
async def node(tmp_path: Path) -> Node:
    return Node(tmp_path)


async def collect(node: Node, container: str = "web", **options: Any) -> bytes:
    stream = node.streams.logs("default", "x", container, LogOptions(**options))
    return b"".join([chunk async for chunk in stream])


async def test_logs_of_the_running_and_the_previous_container(node: Node) -> None:
    first, second = await node.start(0), await node.start(1)
    write(node.runtime.log_path(first), "first run")
    write(node.runtime.log_path(second), "second run")
    node.set_status(
        containerID=f"minikube-py://{second}",
        state={"running": {}},
        lastState={"terminated": {"exitCode": 1, "containerID": f"minikube-py://{first}"}},
    )
    assert await collect(node) == b"second run\n"
    assert await collect(node, previous=True) == b"first run\n"
    assert await collect(node, timestamps=True) == b"2024-05-01T10:00:00Z second run\n"


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (
            {"state": {"running": {}}, "containerID": "minikube-py://c"},
            'previous terminated container "web" in pod "x" not found',
        ),
        (
            {"state": {"waiting": {"reason": "ContainerCreating"}}},
            'container "web" in pod "x" is waiting to start: ContainerCreating',
        ),
        (
            {"state": {"waiting": {"reason": "ErrImagePull"}}},
            'container "web" in pod "x" is waiting to start: image can\'t be pulled',
        ),
        (
            {"state": {"waiting": {"reason": "ImagePullBackOff"}}},
            'container "web" in pod "x" is waiting to start: trying and failing to pull image',
        ),
    ],
)
async def test_log_errors_are_worded_as_upstream(node: Node, status: Object, message: str) -> None:
    node.set_status(**status)
    previous = "running" in status["state"]
    with pytest.raises(ContainerError) as raised:
        node.streams.logs("default", "x", "web", LogOptions(previous=previous))
    assert raised.value.reason == "BadRequest" and raised.value.message == message


async def test_unknown_pod_and_container(node: Node) -> None:
    with pytest.raises(ContainerError) as raised:
        node.streams.logs("default", "nope", "web", LogOptions())
    assert raised.value.reason == "NotFound" and raised.value.message == 'pod "nope" does not exist'
    node.set_status(state={"running": {}}, containerID="minikube-py://c")
    with pytest.raises(ContainerError, match="container db is not valid for pod x"):
        node.streams.logs("default", "x", "db", LogOptions())
    # In the spec but without a status yet: nothing has started.
    with pytest.raises(ContainerError, match="is waiting to start: ContainerCreating"):
        node.streams.logs("default", "x", "side", LogOptions())


async def test_a_terminated_container_still_has_its_logs() -> None:
    pod = {
        "metadata": {"name": "x"},
        "status": {
            "containerStatuses": [
                {
                    "name": "web",
                    "containerID": "minikube-py://c9",
                    "state": {"terminated": {"exitCode": 0, "containerID": "minikube-py://c9"}},
                }
            ]
        },
    }
    assert container_for_logs(pod, "web", previous=False) == "c9"


async def test_follow_ends_when_the_container_exits(node: Node) -> None:
    container = await node.start(0)
    path = node.runtime.log_path(container)
    write(path, "hello")
    node.set_status(containerID=f"minikube-py://{container}", state={"running": {}})
    stream = node.streams.logs("default", "x", "web", LogOptions(follow=True))
    assert await asyncio.wait_for(stream.__anext__(), 10) == b"hello\n"
    write(path, "bye")
    node.runtime.exit(container, 0)
    rest = await asyncio.wait_for(_drain(stream), 10)
    assert rest == b"bye\n"


async def _drain(stream: Any) -> bytes:
    return b"".join([chunk async for chunk in stream])


async def test_exec_runs_in_the_running_container(node: Node) -> None:
    container = await node.start(0)
    node.runtime.exec_handler = lambda _id, command: 3 if command[0] == "false" else 0
    node.set_status(containerID=f"minikube-py://{container}", state={"running": {}})
    session = await node.streams.exec("default", "x", "web", ["false"])
    assert await session.wait() == 3
    assert node.runtime.exec_calls == [(container, ("false",))]
    node.set_status(containerID=f"minikube-py://{container}", state={"terminated": {"exitCode": 0}})
    with pytest.raises(ContainerError, match=r'container not found \("web"\)'):
        await node.streams.exec("default", "x", "web", ["true"])


async def test_attach_streams_new_output_until_the_container_ends(node: Node) -> None:
    container = await node.start(0)
    path = node.runtime.log_path(container)
    write(path, "before attach")
    node.set_status(containerID=f"minikube-py://{container}", state={"running": {}})
    with pytest.raises(ContainerError, match="stdin is not supported"):
        await node.streams.attach("default", "x", "web", stdin=True)
    session = await node.streams.attach("default", "x", "web")
    with path.open("ab") as file:
        file.write(b"2024-05-01T10:00:01Z stderr F after attach\n")
    output = session.output()  # from the moment of attaching: the older line does not show
    assert await asyncio.wait_for(output.__anext__(), 10) == (2, b"after attach\n")
    node.runtime.exit(container, 7)
    assert await asyncio.wait_for(session.wait(), 10) == 7
    assert [chunk async for chunk in output] == []


async def test_attach_detaches_on_kill(node: Node) -> None:
    container = await node.start(0)
    write(node.runtime.log_path(container), "x")
    node.set_status(containerID=f"minikube-py://{container}", state={"running": {}})
    session = await node.streams.attach("default", "x", "web")
    await session.kill()
    assert await asyncio.wait_for(session.wait(), 10) == 0
    assert [chunk async for chunk in session.output()] == []


async def test_a_crash_looping_container_shows_its_last_run() -> None:
    pod = {
        "metadata": {"name": "x"},
        "status": {
            "containerStatuses": [
                {
                    "name": "web",
                    "containerID": "minikube-py://c3",
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 1, "containerID": "minikube-py://c3"}},
                }
            ]
        },
    }
    assert container_for_logs(pod, "web", previous=False) == "c3"
    assert container_for_logs(pod, "web", previous=True) == "c3"
