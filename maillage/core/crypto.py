"""Encryption at rest of free-text fields (notes, diagnosis, contact summaries, bilans).

Keys come from ``MAILLAGE_ENCRYPTION_KEYS`` ("kid:base64key,kid2:base64key"), never from SECRET_KEY. The
first key encrypts; every listed key decrypts, so keys rotate by putting a new one first and running
``manage.py rotate_keys``. A stored value is ``enc:<kid>:<base64(nonce || AES-256-GCM ciphertext)>``.
A missing or wrong key raises ``DecryptionError``: ciphertext is never returned as if it were text.
"""

import base64
import functools
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "enc:"


class DecryptionError(Exception):
    """A stored value could not be decrypted: unknown key id, wrong key or altered ciphertext."""


@functools.cache
def _parse_keys(spec: str) -> tuple[str, dict[str, bytes]]:
    keys: dict[str, bytes] = {}
    current = ""
    for part in [p.strip() for p in spec.split(",") if p.strip()]:
        kid, sep, material = part.partition(":")
        if not sep or not kid or ":" in kid:
            raise ImproperlyConfigured("MAILLAGE_ENCRYPTION_KEYS: each key is written kid:base64key.")
        try:
            key = base64.b64decode(material, validate=True)
        except ValueError as exc:
            raise ImproperlyConfigured(f"MAILLAGE_ENCRYPTION_KEYS: key {kid!r} is not valid base64.") from exc
        if len(key) != 32:
            raise ImproperlyConfigured(f"MAILLAGE_ENCRYPTION_KEYS: key {kid!r} must be 32 bytes (256 bits).")
        keys[kid] = key
        current = current or kid
    if not keys:
        raise ImproperlyConfigured("MAILLAGE_ENCRYPTION_KEYS is empty: no key to encrypt free text with.")
    return current, keys


def keyring() -> tuple[str, dict[str, bytes]]:
    return _parse_keys(settings.MAILLAGE_ENCRYPTION_KEYS)


def current_key_id() -> str:
    return keyring()[0]


def encrypt(plaintext: str) -> str:
    kid, keys = keyring()
    nonce = os.urandom(12)
    ciphertext = AESGCM(keys[kid]).encrypt(nonce, plaintext.encode(), kid.encode())
    return f"{PREFIX}{kid}:{base64.b64encode(nonce + ciphertext).decode()}"


def key_id_of(stored: str) -> str | None:
    if not stored.startswith(PREFIX):
        return None
    return stored[len(PREFIX) :].split(":", 1)[0]


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise DecryptionError("The stored value is not encrypted text.")
    kid, _, payload = stored[len(PREFIX) :].partition(":")
    _current, keys = keyring()
    if kid not in keys:
        raise DecryptionError(f"No key with id {kid!r} in MAILLAGE_ENCRYPTION_KEYS: cannot decrypt.")
    try:
        raw = base64.b64decode(payload, validate=True)
        return AESGCM(keys[kid]).decrypt(raw[:12], raw[12:], kid.encode()).decode()
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError(f"Decryption with key {kid!r} failed: wrong key or altered value.") from exc
