"""Pulling a container's image, with the events and the back-off the kubelet uses.

Before creating a container the kubelet makes sure its image is on the node, as
``imagePullPolicy`` says: ``Always`` (the default for ``:latest`` or no tag) pulls every time,
``IfNotPresent`` (the default otherwise) only if this node has not got it yet — then the
event is ``Container image "x" already present on machine`` — and ``Never`` never does. Each
pull is a ``Pulling`` event, then ``Pulled`` (``Successfully pulled image "x" in 8ms (8ms
including waiting). Image size: 0 bytes.``) or a ``Failed`` one. A failed pull leaves the
container waiting with ``ErrImagePull``; further tries within the image back-off (10 s,
doubling) do not pull but say ``ImagePullBackOff``, as upstream's image manager.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Protocol

from minikube_py.kubelet.backoff import go_duration
from minikube_py.kubelet.context import NodeContext
from minikube_py.kubelet.records import ContainerRecord
from minikube_py.runtime.images.references import DEFAULT_TAG, parse
from minikube_py.runtime.protocol import ContainerError


class Recorder(Protocol):
    def __call__(
        self,
        reason: str,
        message: str,
        *,
        warning: bool = False,
        record: ContainerRecord | None = None,
    ) -> Awaitable[None]: ...


def default_pull_policy(image: str) -> str:
    """``Always`` for ``:latest`` or no tag, else ``IfNotPresent`` (the API's default)."""
    try:
        reference = parse(image)
    except ValueError:
        return "IfNotPresent"
    return "Always" if reference.tag == DEFAULT_TAG and not reference.digest else "IfNotPresent"


def image_key(uid: str, record: ContainerRecord) -> str:
    """The image back-off's key: per pod and image, as upstream's."""
    return f"{uid}_{record.spec.get('image', '')}"


async def pull_image(
    ctx: NodeContext, uid: str, record: ContainerRecord, event: Recorder
) -> str | None:
    """The image's id, or None with ``record.waiting`` saying why it cannot be had now."""
    image = str(record.spec.get("image", ""))
    policy = record.spec.get("imagePullPolicy") or default_pull_policy(image)
    present = ctx.present_images
    if policy != "Always":
        # built or loaded into the node's store (`image build`; a rebuild's new id), or
        # pulled here before
        image_id = await ctx.runtime.image_status(image) or present.get(image)
        if image_id is not None:
            message = f'Container image "{image}" already present on machine'
            await event("Pulled", message, record=record)
            present[image] = image_id
            return image_id
    if policy == "Never":
        message = f'Container image "{image}" is not present with pull policy of Never'
        record.waiting = ("ErrImageNeverPull", message)
        await event("ErrImageNeverPull", message, warning=True, record=record)
        return None
    key = image_key(uid, record)
    if ctx.image_backoff.remaining_since_update(key) > 0:
        message = f'Back-off pulling image "{image}"'
        previous = record.waiting[1] if record.waiting else ""
        if record.waiting and record.waiting[0] == "ImagePullBackOff":
            previous = previous.split(": ErrImagePull: ", 1)[-1]
        record.waiting = ("ImagePullBackOff", f"{message}: ErrImagePull: {previous}")
        await event("BackOff", message, record=record)
        await event("Failed", "Error: ImagePullBackOff", warning=True, record=record)
        return None
    await event("Pulling", f'Pulling image "{image}"', record=record)
    began = time.monotonic()
    try:
        image_id = await ctx.runtime.pull_image(image)
    except ContainerError as error:
        failure = f'Failed to pull image "{image}": {error.message}'
        await event("Failed", failure, warning=True, record=record)
        ctx.image_backoff.next(key, ctx.clock.now())
        await event("Failed", "Error: ErrImagePull", warning=True, record=record)
        record.waiting = ("ErrImagePull", error.message)
        return None
    took = go_duration(time.monotonic() - began)
    message = (
        f'Successfully pulled image "{image}" in {took} ({took} including waiting). '
        "Image size: 0 bytes."
    )
    await event("Pulled", message, record=record)
    present[image] = image_id
    return image_id
