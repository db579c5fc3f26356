"""Wrongly typed values, worded as Go's JSON decoder words them (``api/typecheck.py``)."""

from __future__ import annotations

from minikube_py.api.typecheck import type_error


def test_bad_base64_in_byte_fields_is_a_decoding_error() -> None:
    """``[]byte`` fields are decoded while the body is read: the first bad value, no path."""
    secret = {"data": {"ok": "aGk=", "tls.crt": "REPLACE_WITH_BASE64_CERT", "tls.key": "!"}}
    assert type_error("", "v1", "Secret", secret) == "illegal base64 data at input byte 7"
    binary = {"binaryData": {"b": "a"}, "data": {"d": "not base64"}}
    assert type_error("", "v1", "ConfigMap", binary) == "illegal base64 data at input byte 0"
    assert type_error("", "v1", "ConfigMap", {"data": {"d": "not base64"}}) is None
    assert type_error("", "v1", "Secret", {"data": {"a": "aGk=\n"}}) is None
    assert type_error("", "v1", "Secret", {"data": {"n": 5}}) == (
        "json: cannot unmarshal number into Go struct field Secret.data of type []uint8"
    )
