"""SPDY/3 header blocks: name/value pairs, compressed with a dictionary from the specification.

A ``SYN_STREAM``, ``SYN_REPLY`` or ``HEADERS`` frame carries a header block: ``count``, then
length-prefixed names and values, all 32-bit big-endian (a value holding several values
separates them with NUL). The block is zlib-compressed, and the two directions of a connection
each keep ONE compression context for their whole life, primed with the fixed dictionary
below: so the codec for a connection is stateful (``spdy.Codec`` owns the contexts). This
module is the uncompressed block format and that dictionary.
"""

from __future__ import annotations

import struct

from minikube_py.apiserver.spdy_frames import Headers, SpdyError


def _words(text: str) -> list[str]:
    return [text] if text == "200 OK" else text.split(" ")


def _dictionary() -> bytes:
    """The SPDY/3 header compression dictionary, as the draft-3 specification (section 2.6.10.1)
    lists it: length-prefixed header names and common values, then a run of raw text
    (status codes, dates, content types). 1423 bytes; data from the specification."""
    # the header names and values of the dictionary's first part, space-separated
    names = (
        "options head post put delete trace accept accept-charset accept-encoding "
        "accept-language accept-ranges age allow authorization cache-control connection "
        "content-base content-encoding content-language content-length content-location "
        "content-md5 content-range content-type date etag expect expires from host if-match "
        "if-modified-since if-none-match if-range if-unmodified-since last-modified location "
        "max-forwards pragma proxy-authenticate proxy-authorization range referer retry-after "
        "server te trailer transfer-encoding upgrade user-agent vary via warning "
        "www-authenticate method get status|200 OK|version HTTP/1.1 url public set-cookie "
        "keep-alive origin"
    )
    words = [word for part in names.split("|") for word in _words(part)]
    tail = (
        "100101201202205206300302303304305306307402405406407408409410411412413414415416417"
        "502504505203 Non-Authoritative Information204 No Content301 Moved Permanently"
        "400 Bad Request401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error"
        "501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct "
        "Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,"
        "image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
        "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8"
        "charset=iso-8859-1,utf-,*,enq=0."
    )
    prefixed = b"".join(struct.pack("!I", len(word)) + word.encode() for word in words)
    return prefixed + tail.encode()


DICTIONARY = _dictionary()


def pack_headers(headers: Headers) -> bytes:
    """An uncompressed name/value block."""
    parts = [struct.pack("!I", len(headers))]
    for name, value in headers.items():
        raw_name, raw_value = name.lower().encode(), value.encode()
        parts += [struct.pack("!I", len(raw_name)), raw_name]
        parts += [struct.pack("!I", len(raw_value)), raw_value]
    return b"".join(parts)


def unpack_headers(block: bytes) -> dict[str, str]:
    """An uncompressed name/value block; a repeated name gets its values NUL-joined."""
    try:
        (count,), offset = struct.unpack_from("!I", block), 4
        headers: dict[str, str] = {}
        for _ in range(count):
            fields = []
            for _ in range(2):
                (length,) = struct.unpack_from("!I", block, offset)
                offset += 4
                if offset + length > len(block):
                    raise SpdyError("truncated header block")
                fields.append(block[offset : offset + length].decode("utf-8", "replace"))
                offset += length
            name = fields[0].lower()
            if not name:
                raise SpdyError("empty header name")
            headers[name] = f"{headers[name]}\0{fields[1]}" if name in headers else fields[1]
    except struct.error:
        raise SpdyError("truncated header block") from None
    return headers
