"""The ServiceAccounts controller: ``default`` in every active namespace, made again if deleted."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from minikube_py.client import ApiError, Client
from minikube_py.client.protocol import NAMESPACES, SERVICE_ACCOUNTS
from minikube_py.controllers import ControllerManager
from minikube_py.controllers.serviceaccounts import ServiceAccountsController
from tests.controllers.stepping import SteppingClock, eventually, turns


@contextlib.asynccontextmanager
async def running(client: Client, clock: SteppingClock) -> AsyncIterator[None]:
    controller = ServiceAccountsController(client, clock=clock)
    task = asyncio.ensure_future(ControllerManager(client, [controller]).run())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def account(
    client: Client, namespace: str, name: str = "default"
) -> dict[str, object] | None:
    try:
        return await client.get(SERVICE_ACCOUNTS, namespace, name)
    except ApiError as error:
        assert error.code == 404
        return None


async def test_a_new_namespace_gets_default(client: Client, clock: SteppingClock) -> None:
    async with running(client, clock):
        await client.create(NAMESPACES, None, {"metadata": {"name": "team-a"}})
        made = await eventually(lambda: account(client, "team-a"), "default in team-a")
        assert made["metadata"]["name"] == "default"
        assert (await client.list(SERVICE_ACCOUNTS, "team-a"))["items"] == [made]


async def test_namespaces_that_existed_before_it_started_get_one(
    client: Client, clock: SteppingClock
) -> None:
    await client.create(NAMESPACES, None, {"metadata": {"name": "older"}})
    assert await account(client, "older") is None
    async with running(client, clock):
        await eventually(lambda: account(client, "older"), "default in older")


async def test_a_deleted_default_is_made_again(client: Client, clock: SteppingClock) -> None:
    async with running(client, clock):
        before = await eventually(lambda: account(client, "default"), "default exists")
        await client.delete(SERVICE_ACCOUNTS, "default", "default")

        async def remade() -> object:
            now = await account(client, "default")
            return now and now["metadata"]["uid"] != before["metadata"]["uid"]

        await eventually(remade, "default made again")


async def test_other_accounts_are_left_alone(client: Client, clock: SteppingClock) -> None:
    await client.create(SERVICE_ACCOUNTS, "default", {"metadata": {"name": "robot"}})
    async with running(client, clock):
        await client.delete(SERVICE_ACCOUNTS, "default", "robot")
        await client.create(NAMESPACES, None, {"metadata": {"name": "marker"}})
        await eventually(lambda: account(client, "marker"), "the controller is working")
        await turns()
        assert await account(client, "default", "robot") is None


async def test_a_terminating_namespace_gets_nothing(client: Client, clock: SteppingClock) -> None:
    await client.create(NAMESPACES, None, {"metadata": {"name": "going"}})
    await client.delete(NAMESPACES, None, "going")
    async with running(client, clock):
        await client.create(NAMESPACES, None, {"metadata": {"name": "marker"}})
        await eventually(lambda: account(client, "marker"), "the controller is working")
        await turns()
        assert await account(client, "going") is None
