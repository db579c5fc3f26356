"""Lifecycle hooks: commands the kubelet runs in a container right after it starts
(``postStart``) and right before it stops (``preStop``).

A hook runs in the container's context through the runtime's exec, bounded by the pod's grace
period. When it fails the kubelet records upstream's message — ``Exec lifecycle hook ([sh -c
exit 1]) for Container "web" in Pod "web_default(uid)" failed - error: …`` — as a
``FailedPostStartHook`` or ``FailedPreStopHook`` event; a failed postStart hook also kills the
container. Only ``exec`` hooks run here yet: ``httpGet`` and ``sleep`` hooks are skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from minikube_py.kubelet.records import ContainerRecord
from minikube_py.runtime.protocol import ContainerError, ContainerRuntime

Object = dict[str, Any]


async def run_hook(
    runtime: ContainerRuntime,
    record: ContainerRecord,
    instance: str,
    hook: Object,
    seconds: float,
    pod_ref: str,
) -> str | None:
    """Run an exec hook; None when it succeeded, else upstream's failure message."""
    command: Sequence[str] = (hook.get("exec") or {}).get("command") or []
    if not command:
        return None  # httpGet / sleep hooks are not run by this kubelet yet
    try:
        session = await runtime.exec(instance, list(command))
        async with asyncio.timeout(seconds):
            code = await session.wait()
        if code == 0:
            return None
        error = f"command '{' '.join(command)}' exited with {code}: "
    except (ContainerError, TimeoutError) as failure:
        error = str(failure) or "timeout"
    return (
        f'Exec lifecycle hook ([{" ".join(command)}]) for Container "{record.name}" in Pod '
        f'"{pod_ref}" failed - error: {error}, message: ""'
    )
