"""The remote command stream protocol: exec and attach over one WebSocket, in channels.

``kubectl exec`` and the client libraries open a WebSocket on ``pods/NAME/exec`` (or
``attach``) and multiplex the command's streams over it: every message starts with one byte
naming its channel — 0 stdin, 1 stdout, 2 stderr, 3 error (the command's final ``Status``),
4 resize (``{"Width": 80, "Height": 24}`` JSON for a terminal). The subprotocol, offered by
the client in ``Sec-WebSocket-Protocol``, fixes the details:

- ``v5.channel.k8s.io`` (kubectl 1.30+): binary frames; the client may half-close a stream
  with the message ``[255, channel]`` — how ``kubectl exec -i`` and ``kubectl cp`` say
  "stdin is at its end";
- ``v4.channel.k8s.io`` (the Python client): the error channel carries a JSON ``Status``:
  ``Success``, or ``Failure`` with reason ``NonZeroExitCode`` and the exit code as a cause;
- ``channel.k8s.io`` (and no subprotocol at all): the error channel carries plain text, and
  nothing on success;
- ``base64.`` variants (``v4.base64.channel.k8s.io``, ``base64.channel.k8s.io``): text frames,
  the channel as an ASCII digit and the data base64-encoded, for clients that cannot send
  binary.

This module is the protocol alone — choosing a subprotocol, encoding and decoding messages,
the final statuses in each version's words — with no I/O; ``podexec.py`` runs a session.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Sequence
from typing import Any

import attrs

STDIN, STDOUT, STDERR, ERROR, RESIZE = range(5)
STREAM_CLOSE = 255  # v5: a client message [255, channel] closes that stream


class ProtocolError(Exception):
    """A client message that breaks the protocol."""


@attrs.frozen
class Protocol:
    name: str  # "" when the client offered none
    version: int  # 1 (channel.k8s.io), 4 or 5
    base64: bool = False


_KNOWN = (
    Protocol("v5.channel.k8s.io", 5),
    Protocol("v4.channel.k8s.io", 4),
    Protocol("v4.base64.channel.k8s.io", 4, base64=True),
    Protocol("channel.k8s.io", 1),
    Protocol("base64.channel.k8s.io", 1, base64=True),
)
PROTOCOLS = {protocol.name: protocol for protocol in _KNOWN}
SUPPORTED = [protocol.name for protocol in _KNOWN]


def negotiate(offered_header: str) -> Protocol | None:
    """The first of the client's subprotocols that we speak (upstream picks in the client's
    order); the plain binary protocol when it offered none; None when none fits."""
    offered = [name.strip() for name in offered_header.split(",") if name.strip()]
    if not offered:
        return Protocol("", 1)
    for name in offered:
        if name in PROTOCOLS:
            return PROTOCOLS[name]
    return None


def unsupported_message(offered_header: str) -> str:
    offered = [name.strip() for name in offered_header.split(",") if name.strip()]
    return (
        f"requested protocol(s) are not supported: [{' '.join(offered)}]; "
        f"supports [{' '.join(SUPPORTED)}]"
    )


@attrs.frozen
class Message:
    """One client message: data for a channel, or (v5) the end of that channel's stream."""

    channel: int
    data: bytes = b""
    closes: bool = False


def encode(protocol: Protocol, channel: int, data: bytes) -> bytes | str:
    """A server message: bytes for a binary frame, str for a text (base64) frame."""
    if protocol.base64:
        return chr(ord("0") + channel) + base64.b64encode(data).decode("ascii")
    return bytes((channel,)) + data


def decode(protocol: Protocol, payload: bytes | str) -> Message | None:
    """A client message; None for an empty one. Text frames are accepted on the binary
    protocols too: the Python client sends ``chr(0) + "text"`` as a text frame."""
    raw = payload.encode("utf-8") if isinstance(payload, str) else payload
    if not raw:
        return None
    if protocol.version >= 5 and raw[0] == STREAM_CLOSE:
        if len(raw) != 2:
            raise ProtocolError(
                f"Single channel byte should follow stream close signal. Got {len(raw) - 1} bytes"
            )
        return Message(raw[1], closes=True)
    if protocol.base64:
        try:
            return Message(raw[0] - ord("0"), base64.b64decode(raw[1:], validate=True))
        except (binascii.Error, ValueError) as error:
            raise ProtocolError(f"invalid base64 data: {error}") from None
    return Message(raw[0], raw[1:])


def chunks(data: bytes, size: int = 32 * 1024) -> Iterator[bytes]:
    """Output split into messages no bigger than client-go's 32 KiB read buffer."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


# ----------------------------------------------------------------------- the final status


def _status(status: str, **fields: Any) -> dict[str, Any]:
    # the field order of Go's metav1.Status; its empty TypeMeta is left out as Go leaves it
    body: dict[str, Any] = {"metadata": {}, "status": status}
    body.update({key: value for key, value in fields.items() if value})
    return body


def success(protocol: Protocol) -> bytes | None:
    """The error channel's content after a command that succeeded (nothing before v4)."""
    if protocol.version < 4:
        return None
    return json.dumps(_status("Success"), separators=(",", ":")).encode()


def exit_failure(protocol: Protocol, code: int, command: Sequence[str]) -> bytes:
    """The error channel's content after a non-zero exit, in the words of the path upstream
    takes: v5 goes through the API server's stream translator, which rewraps the kubelet's
    error; older protocols get the container runtime's own message."""
    if protocol.version >= 5:
        why = f"command terminated with exit code {code}"
    else:
        why = f"error executing command [{' '.join(command)}], exit code {code}"
    message = f"command terminated with non-zero exit code: {why}"
    if protocol.version < 4:
        return message.encode()
    causes = [{"reason": "ExitCode", "message": str(code)}]
    status = _status(
        "Failure", message=message, reason="NonZeroExitCode", details={"causes": causes}
    )
    return json.dumps(status, separators=(",", ":")).encode()


def failure(
    protocol: Protocol, *, code: int, reason: str, message: str, details: Any = None
) -> bytes:
    """The error channel's content when the session failed as a whole (no exit code)."""
    if protocol.version < 4:
        return message.encode()
    status = _status("Failure", message=message, reason=reason, details=details, code=code)
    return json.dumps(status, separators=(",", ":")).encode()


class ResizeReader:
    """Terminal sizes from the resize channel: JSON objects, possibly split across or packed
    into messages (client-go writes them with a JSON encoder, one after another)."""

    def __init__(self) -> None:
        self._pending = ""
        self._decoder = json.JSONDecoder()

    def feed(self, data: bytes) -> list[tuple[int, int]]:
        self._pending += data.decode("utf-8", "replace")
        sizes: list[tuple[int, int]] = []
        while True:
            text = self._pending.lstrip()
            if not text:
                self._pending = ""
                return sizes
            try:
                value, end = self._decoder.raw_decode(text)
            except ValueError:
                # incomplete: wait for the rest, unless it is garbage that never ends
                self._pending = text if len(text) < 4096 else ""
                return sizes
            self._pending = text[end:]
            if isinstance(value, dict):
                width, height = value.get("Width"), value.get("Height")
                if isinstance(width, int) and isinstance(height, int):
                    sizes.append((width, height))
