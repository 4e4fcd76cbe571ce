"""Provenance keys: a secret the user keeps, and the 48-bit payload a keyed hash derives from it.

The key itself is never written anywhere by gankit (not in config.json, not in image metadata):
only the payload, ``HMAC-SHA256(key, PAYLOAD_CONTEXT)`` cut to 48 bits, is embedded in images. A
payload does not reveal the key, and without the key nobody can say which payload to look for.

Example:
    >>> bits = payload("a key of at least sixteen bytes")
    >>> bits.shape, bits.dtype
    (torch.Size([48]), torch.uint8)
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

import torch

from gankit.errors import GankitError
from gankit.io import atomic_write_bytes

PAYLOAD_BITS = 48
# Bytes of secret a key must hold: shorter keys can be guessed by trying them all.
MIN_KEY_BYTES = 16
# What the keyed hash is computed over: a fixed context, so one key can serve other purposes
# (another context) without its provenance payload being derivable from them.
PAYLOAD_CONTEXT = b"gankit provenance payload v1"


def key_bytes(key: str | bytes) -> bytes:
    """The key as bytes (a str is UTF-8), refusing one too short to be secret."""
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, bytes):
        raise GankitError(f"a provenance key is a str or bytes, got {type(key).__name__}")
    if len(key) < MIN_KEY_BYTES:
        raise GankitError(
            f"the provenance key has {len(key)} bytes; use at least {MIN_KEY_BYTES} (make one with "
            "`gankit provenance keygen -o KEYFILE`)"
        )
    return key


def payload(key: str | bytes) -> torch.Tensor:
    """The 48 bits (uint8 0/1, shape ``(48,)``) that images marked with ``key`` carry."""
    digest = hmac.new(key_bytes(key), PAYLOAD_CONTEXT, hashlib.sha256).digest()
    value = int.from_bytes(digest[: PAYLOAD_BITS // 8], "big")
    bits = [(value >> (PAYLOAD_BITS - 1 - i)) & 1 for i in range(PAYLOAD_BITS)]
    return torch.tensor(bits, dtype=torch.uint8)


def read_key(path: str | os.PathLike) -> bytes:
    """The key in file ``path`` (surrounding whitespace dropped); a missing, empty or short file
    is an error that says how to make one."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise GankitError(
            f"key file {file} not found; make one with `gankit provenance keygen -o {file}`"
        )
    key = file.read_bytes().strip()
    if not key:
        raise GankitError(f"key file {file} is empty; make one with `gankit provenance keygen`")
    try:
        return key_bytes(key)
    except GankitError as err:
        raise GankitError(f"key file {file}: {err}") from None


def write_new_key(path: str | os.PathLike) -> None:
    """Write a fresh random key (32 bytes as 64 hex digits) to ``path``, readable by its owner
    only; an existing file is never overwritten (it may be the only copy of a key in use)."""
    file = Path(path).expanduser()
    if file.exists():
        raise GankitError(f"{file} exists; a key file is never overwritten, choose another path")
    atomic_write_bytes(file, secrets.token_hex(32).encode() + b"\n")
    file.chmod(0o600)
