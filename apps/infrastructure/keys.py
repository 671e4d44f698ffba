"""Agents' Ed25519 public keys: parsing what an agent sends, and the one form stored.

Keys are stored as base64 of the 32 raw bytes, the form they travel in on the wire
(agent/protocol.py); PEM is accepted too, for operators pasting a key.
"""

import base64
import binascii

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from apps.core.errors import ValidationFailed

RAW_KEY_BYTES = 32


def parse_public_key(text):
    """An Ed25519 public key from PEM or from base64 of its 32 raw bytes, else ValidationFailed."""
    text = (text or "").strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
        else:
            raw = base64.b64decode(text, validate=True)
            if len(raw) != RAW_KEY_BYTES:
                raise ValueError("wrong length")
            key = Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, binascii.Error, UnsupportedAlgorithm) as exc:
        raise ValidationFailed("The public key is not a valid Ed25519 key.", code="bad_public_key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValidationFailed("The public key must be an Ed25519 key.", code="bad_public_key")
    return key


def stored_form(key):
    return base64.b64encode(
        key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()
