"""Leader election on a Lease: of several controller managers, only one acts at a time.

Two controller managers reconciling the same ReplicaSet would both create its missing pods.
Upstream runs one kube-controller-manager per API server for availability and lets them elect
a leader through a ``coordination.k8s.io/v1`` Lease (``kube-system/kube-controller-manager``),
as client-go's ``leaderelection`` package does:

- **Acquire.** Every ``retry_period`` (2 s) a candidate reads the Lease. If there is none it
  creates one naming itself (``holderIdentity``, ``acquireTime``, ``renewTime``,
  ``leaseDurationSeconds``, ``leaseTransitions`` 0). If another holds it, the candidate waits
  until the Lease has not changed for ``leaseDurationSeconds`` (15 s) *by its own clock* —
  it never compares the holder's timestamps with its own time, so clock skew cannot cause two
  leaders — then takes it over (``leaseTransitions`` + 1). Writes are compare-and-swap on the
  ``resourceVersion``: of two candidates racing, one wins.
- **Renew.** The leader rewrites ``renewTime`` every ``retry_period``. If it cannot for
  ``renew_deadline`` (10 s), it stops its work *before* the others may take over (at 15 s) —
  so the old leader is quiet before a new one starts.

``run(on_started_leading)`` campaigns, runs the leader's work while renewing, and returns
when leadership is lost (upstream's controller manager exits then; a caller here may campaign
again). Today the cluster has one process; this is the seam for several API servers later.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from minikube_py.api.stamps import micro_time
from minikube_py.client.events import EventRecorder
from minikube_py.client.protocol import LEASES, ApiError, Client, Object
from minikube_py.clock import Clock, SystemClock
from minikube_py.logs import get_logger


def default_identity() -> str:
    """``<hostname>_<uuid>``, as kube-controller-manager names itself."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


class LeaderElector:
    """Campaigns for one Lease and runs the leader's work while it holds it."""

    def __init__(
        self,
        client: Client,
        name: str = "kube-controller-manager",
        *,
        namespace: str = "kube-system",
        identity: str | None = None,
        clock: Clock | None = None,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        release_on_cancel: bool = False,
        recorder: EventRecorder | None = None,
    ) -> None:
        self.client = client
        self.name = name
        self.namespace = namespace
        self.identity = identity or default_identity()
        self.clock: Clock = clock or SystemClock()
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.release_on_cancel = release_on_cancel
        self.recorder = recorder
        self.is_leader = False
        self._lease: Object | None = None
        self._observed: dict[str, Any] | None = None  # the Lease spec as last seen changing
        self._observed_at = 0.0  # when, by our clock
        self._log = get_logger("controllers.leader").bind(lease=f"{namespace}/{name}")

    async def run(self, on_started_leading: Callable[[], Awaitable[None]]) -> None:
        """Acquire, run ``on_started_leading()`` while renewing; return once leadership is
        lost (the work is cancelled) or the work ended (its exception is raised)."""
        while not await self.try_acquire_or_renew():
            await self.clock.sleep(self.retry_period)
        self.is_leader = True
        self._log.info("successfully acquired lease", identity=self.identity)
        await self._record("became leader")
        work = asyncio.ensure_future(on_started_leading())
        try:
            await self._renew(work)
        finally:
            self.is_leader = False
            if not work.done():
                work.cancel()
            await asyncio.gather(work, return_exceptions=True)
            if self.release_on_cancel:
                await self.release()
        if not work.cancelled() and (error := work.exception()) is not None:
            raise error

    async def _renew(self, work: asyncio.Future[None]) -> None:
        while await self._pause(work):
            deadline = self.clock.now() + self.renew_deadline
            while not await self.try_acquire_or_renew():
                if not await self._pause(work):
                    return
                if self.clock.now() >= deadline:
                    self._log.warning("failed to renew lease", identity=self.identity)
                    await self._record("stopped leading")
                    return

    async def _pause(self, work: asyncio.Future[None]) -> bool:
        """Sleep ``retry_period``; False if the leader's work ended meanwhile."""
        sleeper = asyncio.ensure_future(self.clock.sleep(self.retry_period))
        try:
            await asyncio.wait({work, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
        return not work.done()

    async def try_acquire_or_renew(self) -> bool:
        """One attempt: create the Lease, renew ours, or take over an expired one. Any error,
        or a call that hangs past the renew deadline (in real time), is a failed attempt."""
        try:
            async with asyncio.timeout(self.renew_deadline):
                return await self._try_acquire_or_renew(self.clock.now())
        except Exception as error:  # e.g. the API server is unreachable: try again later
            self._log.warning("lease attempt failed", identity=self.identity, error=repr(error))
            return False

    async def _try_acquire_or_renew(self, now: float) -> bool:
        try:
            lease = await self.client.get(LEASES, self.namespace, self.name)
        except ApiError as error:
            if error.code != 404:
                self._log.warning("error retrieving lease", error=str(error))
                return False
            return await self._write(None, self._spec(now, acquired=now, transitions=0), now)
        spec = dict(lease.get("spec") or {})
        self._observe(spec, now)
        holder = spec.get("holderIdentity") or ""
        duration = spec.get("leaseDurationSeconds") or self.lease_duration
        if holder and holder != self.identity and self._observed_at + duration > now:
            return False  # held by another, and it changed within its duration
        transitions = int(spec.get("leaseTransitions") or 0)
        if holder == self.identity:
            renewed = self._spec(now, acquired=None, transitions=transitions)
            renewed["acquireTime"] = spec.get("acquireTime") or micro_time(now)
        else:
            renewed = self._spec(now, acquired=now, transitions=transitions + 1)
        return await self._write(lease, {**spec, **renewed}, now)

    def _spec(self, now: float, *, acquired: float | None, transitions: int) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": int(self.lease_duration),
            "renewTime": micro_time(now),
            "leaseTransitions": transitions,
        }
        if acquired is not None:
            spec["acquireTime"] = micro_time(acquired)
        return spec

    async def _write(self, lease: Object | None, spec: dict[str, Any], now: float) -> bool:
        try:
            if lease is None:
                body = {
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": self.namespace},
                    "spec": spec,
                }
                written = await self.client.create(LEASES, self.namespace, body)
            else:
                written = await self.client.update(LEASES, self.namespace, {**lease, "spec": spec})
        except ApiError as error:  # 409: another candidate wrote first
            self._log.info("lease write failed", identity=self.identity, error=str(error))
            return False
        self._lease = written
        self._observe(dict(written.get("spec") or {}), now)
        return True

    def _observe(self, spec: dict[str, Any], now: float) -> None:
        if spec != self._observed:
            self._observed = spec
            self._observed_at = now

    async def release(self) -> None:
        """Give the Lease up (empty holder, 1 s duration) so a successor need not wait."""
        now = self.clock.now()
        try:
            lease = await self.client.get(LEASES, self.namespace, self.name)
            spec = dict(lease.get("spec") or {})
            if spec.get("holderIdentity") != self.identity:
                return
            spec.update(
                holderIdentity="",
                leaseDurationSeconds=1,
                acquireTime=micro_time(now),
                renewTime=micro_time(now),
            )
            await self.client.update(LEASES, self.namespace, {**lease, "spec": spec})
        except ApiError as error:
            self._log.warning("failed to release lease", error=str(error))

    async def _record(self, what: str) -> None:
        if self.recorder is not None and self._lease is not None:
            lease = {**self._lease, "apiVersion": "coordination.k8s.io/v1", "kind": "Lease"}
            await self.recorder.record(
                lease, reason="LeaderElection", message=f"{self.identity} {what}"
            )
