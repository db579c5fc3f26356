"""SPDY/3.1 framing: frames survive a round trip, header blocks share one zlib context per
direction, flags and ids keep their bits, and partial input waits for the rest."""

from __future__ import annotations

import hashlib
import struct
import zlib

import pytest

from minikube_py.apiserver import spdy


def test_the_dictionary_is_the_specifications() -> None:
    # 1423 bytes; the digest pins every byte, since a wrong dictionary only fails against peers
    assert len(spdy.DICTIONARY) == 1423
    assert spdy.DICTIONARY.startswith(b"\x00\x00\x00\x07options\x00\x00\x00\x04head")
    assert spdy.DICTIONARY.endswith(b"charset=iso-8859-1,utf-,*,enq=0.")
    digest = hashlib.sha256(spdy.DICTIONARY).hexdigest()
    assert digest == "51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02"


FRAMES: list[spdy.Frame] = [
    spdy.Data(1, b"hello", spdy.FLAG_FIN),
    spdy.Data(3, b""),
    spdy.SynStream(5, {"streamtype": "data", "port": "80", "requestid": "0"}, spdy.FLAG_FIN, 0, 3),
    spdy.SynReply(5, {}),
    spdy.SynReply(7, {"status": "200", "multi": "a\0b"}, spdy.FLAG_FIN),
    spdy.HeadersFrame(7, {"x-extra": "yes"}),
    spdy.RstStream(9, spdy.CANCEL),
    spdy.Settings(((0, 7, 65536), (1, 4, 100)), 1),
    spdy.Ping(0xFFFFFFFF),
    spdy.GoAway(11, 2),
    spdy.WindowUpdate(13, 0x7FFFFFFF),
]


def test_every_frame_round_trips_through_a_connection() -> None:
    sender, receiver = spdy.Codec(), spdy.Codec()
    wire = spdy.encode_all(sender, FRAMES)
    assert receiver.feed(wire) == FRAMES


def test_bytes_split_anywhere_give_the_same_frames() -> None:
    sender, receiver = spdy.Codec(), spdy.Codec()
    wire = spdy.encode_all(sender, FRAMES)
    received: list[spdy.Frame] = []
    for index in range(len(wire)):  # one byte at a time: a frame appears only when whole
        received += receiver.feed(wire[index : index + 1])
    assert received == FRAMES


def test_header_blocks_share_one_compression_context() -> None:
    sender = spdy.Codec()
    headers = {"streamtype": "error", "port": "8080", "requestid": "12"}
    first = sender.encode(spdy.SynStream(1, headers))
    second = sender.encode(spdy.SynStream(3, headers))
    # the second block refers back to the first: shorter, and only decodable after it
    assert len(second) < len(first)
    fresh = spdy.Codec()
    with pytest.raises(spdy.SpdyError):
        fresh.feed(second)
    receiver = spdy.Codec()
    assert receiver.feed(first + second) == [spdy.SynStream(1, headers), spdy.SynStream(3, headers)]


def test_header_blocks_are_zlib_with_the_dictionary_and_sync_flushed() -> None:
    block = spdy.Codec().encode(spdy.SynReply(1, {"port": "80"}))[12:]
    # what a peer does: inflate with the dictionary; a sync flush ends the block on 00 00 ff ff
    inflater = zlib.decompressobj(zdict=spdy.DICTIONARY)
    raw = inflater.decompress(block)
    assert raw == struct.pack("!I", 1) + b"\x00\x00\x00\x04port\x00\x00\x00\x0280"
    assert block.endswith(b"\x00\x00\xff\xff")


def test_control_frame_header_bits() -> None:
    wire = spdy.Codec().encode(spdy.Ping(7))
    assert wire == bytes([0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 7])
    data = spdy.Codec().encode(spdy.Data(0x7FFFFFFF, b"ab", spdy.FLAG_FIN))
    assert data == bytes([0x7F, 0xFF, 0xFF, 0xFF, 0x01, 0x00, 0x00, 0x02]) + b"ab"


def test_header_names_are_lowercased_and_repeats_join_with_nul() -> None:
    block = struct.pack("!I", 2)
    for name, value in ((b"Port", b"80"), (b"port", b"81")):
        block += struct.pack("!I", len(name)) + name + struct.pack("!I", len(value)) + value
    assert spdy.unpack_headers(block) == {"port": "80\x0081"}
    assert spdy.unpack_headers(spdy.pack_headers({"StreamType": "data"})) == {"streamtype": "data"}


def test_broken_input_is_refused() -> None:
    with pytest.raises(spdy.SpdyError, match="version"):
        spdy.Codec().feed(bytes([0x80, 0x02, 0x00, 0x06, 0, 0, 0, 4, 0, 0, 0, 1]))
    with pytest.raises(spdy.SpdyError, match="truncated"):
        spdy.Codec().feed(bytes([0x80, 0x03, 0x00, 0x03, 0, 0, 0, 2, 0, 1]))
    with pytest.raises(spdy.SpdyError, match="truncated header block"):
        spdy.unpack_headers(struct.pack("!II", 1, 10) + b"abc")


def test_unknown_control_frames_are_skipped() -> None:
    noop = bytes([0x80, 0x03, 0x00, 0x05, 0, 0, 0, 0])  # SPDY/2's NOOP, gone in SPDY/3
    ping = spdy.Codec().encode(spdy.Ping(2))
    assert spdy.Codec().feed(noop + ping) == [spdy.Ping(2)]
