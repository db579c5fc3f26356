"""Encryption at rest: values under chosen key prefixes are stored sealed with AES-GCM.

Kubernetes Secrets are only base64-encoded in their API form; anyone who can read etcd's
files reads them. Like the API server's ``EncryptionConfiguration`` with the ``aesgcm``
provider, the store seals every value whose key starts with a configured prefix (the API
server passes ``/registry/secrets/``) before it reaches the database, history included.

A sealed value is ``k8s:enc:aesgcm:v1:local:`` + 12-byte random nonce + ciphertext, and the
storage key is bound in as associated data, so a sealed value copied under another key does
not decrypt. Values written before encryption was switched on are read as they are, as
upstream reads its ``identity`` provider. The 256-bit key lives in the state directory in a
file of mode 0600; a wrong or missing key is an ``EncryptionError``, never garbage.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

import attrs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from minikube_py.store.errors import EncryptionError

_PREFIX = b"k8s:enc:aesgcm:v1:local:"
_NONCE_BYTES = 12
_KEY_BYTES = 32


@attrs.frozen
class Encryption:
    """Which keys to seal, and with what key."""

    key: bytes = attrs.field(repr=False)
    prefixes: tuple[str, ...] = ("/registry/secrets/",)

    @key.validator
    def _check_key(self, _attribute: object, value: bytes) -> None:
        if len(value) != _KEY_BYTES:
            raise EncryptionError(f"an encryption key has {_KEY_BYTES} bytes, not {len(value)}")


def load_or_create_key(path: Path) -> bytes:
    """Read the base64 key file at ``path``, creating it (mode 0600) on first use."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        key = AESGCM.generate_key(bit_length=_KEY_BYTES * 8)
        with os.fdopen(fd, "wb") as file:
            file.write(base64.b64encode(key) + b"\n")
            file.flush()
            os.fsync(file.fileno())
        return key
    try:
        key = base64.b64decode(path.read_bytes().strip(), validate=True)
    except (OSError, binascii.Error) as error:
        raise EncryptionError(f"cannot read the encryption key {path}: {error}") from error
    if len(key) != _KEY_BYTES:
        raise EncryptionError(f"the encryption key {path} is not a base64 {_KEY_BYTES}-byte key")
    return key


class ValueCodec:
    """Seals values on their way into the database and opens them on the way out."""

    def __init__(self, encryption: Encryption | None) -> None:
        self._prefixes = encryption.prefixes if encryption else ()
        self._aead = AESGCM(encryption.key) if encryption else None

    def seal(self, key: str, value: bytes) -> bytes:
        if self._aead is None or not key.startswith(self._prefixes):
            return value
        nonce = os.urandom(_NONCE_BYTES)
        return _PREFIX + nonce + self._aead.encrypt(nonce, value, key.encode())

    def open(self, key: str, stored: bytes) -> bytes:
        if not stored.startswith(_PREFIX):
            return stored
        if self._aead is None:
            raise EncryptionError(
                f"the value of {key!r} is encrypted and no encryption key is configured"
            )
        body = stored[len(_PREFIX) :]
        try:
            return self._aead.decrypt(body[:_NONCE_BYTES], body[_NONCE_BYTES:], key.encode())
        except InvalidTag:
            raise EncryptionError(
                f"cannot decrypt the value of {key!r}: the encryption key is wrong"
            ) from None

    def open_optional(self, key: str, stored: bytes | None) -> bytes | None:
        return None if stored is None else self.open(key, stored)
