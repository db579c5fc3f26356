"""The remote command channel protocol alone: subprotocols, messages, final statuses."""

from __future__ import annotations

import json

import pytest

from minikube_py.apiserver import remotecommand
from minikube_py.apiserver.remotecommand import PROTOCOLS, Message, ProtocolError

V5 = PROTOCOLS["v5.channel.k8s.io"]
V4 = PROTOCOLS["v4.channel.k8s.io"]
V4_BASE64 = PROTOCOLS["v4.base64.channel.k8s.io"]
V1 = PROTOCOLS["channel.k8s.io"]


def test_the_first_offered_protocol_we_speak_wins() -> None:
    assert remotecommand.negotiate("v5.channel.k8s.io") == V5
    assert remotecommand.negotiate("x.example, v4.channel.k8s.io, v5.channel.k8s.io") == V4
    assert remotecommand.negotiate("base64.channel.k8s.io").base64  # type: ignore[union-attr]
    plain = remotecommand.negotiate("")
    assert plain is not None and (plain.name, plain.version) == ("", 1)
    assert remotecommand.negotiate("v3.channel.k8s.io, SPDY/3.1") is None
    assert remotecommand.unsupported_message("v3.channel.k8s.io, x") == (
        "requested protocol(s) are not supported: [v3.channel.k8s.io x]; supports "
        "[v5.channel.k8s.io v4.channel.k8s.io v4.base64.channel.k8s.io channel.k8s.io "
        "base64.channel.k8s.io]"
    )


def test_binary_and_base64_messages() -> None:
    assert remotecommand.encode(V5, 1, b"hi\n") == b"\x01hi\n"
    assert remotecommand.encode(V4_BASE64, 2, b"hi\n") == "2aGkK"
    assert remotecommand.decode(V4, b"\x00abc") == Message(0, b"abc")
    assert remotecommand.decode(V4, "\x00text from python") == Message(0, b"text from python")
    assert remotecommand.decode(V4_BASE64, "0aGkK") == Message(0, b"hi\n")
    assert remotecommand.decode(V4, b"") is None
    with pytest.raises(ProtocolError):
        remotecommand.decode(V4_BASE64, "0not base64!")


def test_v5_closes_a_stream_and_older_versions_do_not() -> None:
    assert remotecommand.decode(V5, b"\xff\x00") == Message(0, closes=True)
    assert remotecommand.decode(V4, b"\xff\x00") == Message(255, b"\x00")  # just a bad channel
    with pytest.raises(ProtocolError, match="Single channel byte"):
        remotecommand.decode(V5, b"\xff\x00\x01")


def test_output_is_split_into_messages_clients_can_take() -> None:
    pieces = list(remotecommand.chunks(b"x" * 70_000))
    assert [len(piece) for piece in pieces] == [32768, 32768, 4464]


def test_statuses_in_each_versions_words() -> None:
    assert remotecommand.success(V1) is None
    assert json.loads(remotecommand.success(V5) or b"") == {"metadata": {}, "status": "Success"}
    v5 = json.loads(remotecommand.exit_failure(V5, 3, ["sh", "-c", "exit 3"]))
    assert v5 == {
        "metadata": {},
        "status": "Failure",
        "message": "command terminated with non-zero exit code: command terminated with exit "
        "code 3",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
    }
    v4 = json.loads(remotecommand.exit_failure(V4, 3, ["sh", "-c", "exit 3"]))
    assert v4["message"] == (
        "command terminated with non-zero exit code: error executing command [sh -c exit 3], "
        "exit code 3"
    )
    assert remotecommand.exit_failure(V1, 2, ["false"]) == (
        b"command terminated with non-zero exit code: error executing command [false], exit code 2"
    )
    failed = remotecommand.failure(V4, code=404, reason="NotFound", message="gone")
    assert json.loads(failed) == {
        "metadata": {},
        "status": "Failure",
        "message": "gone",
        "reason": "NotFound",
        "code": 404,
    }


def test_terminal_sizes_split_across_and_packed_into_messages() -> None:
    reader = remotecommand.ResizeReader()
    assert reader.feed(b'{"Width":80,') == []
    assert reader.feed(b'"Height":24}\n{"Width":100,"Height":30}\n') == [(80, 24), (100, 30)]
    assert reader.feed(b'{"Width":"wide","Height":1}') == []  # not a size: ignored
    assert reader.feed(b" \n") == []
