"""Seal API-key secrets at rest with AES-256-GCM.

The controller must recover a secret to check a signature (HMAC is symmetric),
so secrets are encrypted rather than hashed. The 256-bit key is derived with
HKDF-SHA256 from CLOUDMGR_API_KEY_ENCRYPTION_KEY, or from SECRET_KEY when that
is unset (then rotating SECRET_KEY makes every API key unusable).

Sealed form: version byte | 8-byte key id | 12-byte nonce | ciphertext and tag.
The access key is the associated data, so a sealed secret copied onto another
key's row does not open. To rotate, set the new passphrase and list the old
ones in CLOUDMGR_API_KEY_ENCRYPTION_OLD_KEYS: secrets open with whichever key
sealed them, and `manage.py resealapikeys` rewrites them with the current one.
"""

import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

_VERSION = b"\x01"
_KEY_ID_BYTES = 8
_NONCE_BYTES = 12
_INFO = b"cloudmgr api-key secrets v1"


class UnsealError(Exception):
    """The sealed secret was made with a key the controller no longer has, or was altered."""


def _derive(passphrase):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(passphrase.encode())


def _key_id(key):
    return hashlib.sha256(b"cloudmgr key id\0" + key).digest()[:_KEY_ID_BYTES]


def _current_key():
    return _derive(settings.CLOUDMGR_API_KEY_ENCRYPTION_KEY or settings.SECRET_KEY)


def _known_keys():
    passphrases = [settings.CLOUDMGR_API_KEY_ENCRYPTION_KEY or settings.SECRET_KEY]
    passphrases += settings.CLOUDMGR_API_KEY_ENCRYPTION_OLD_KEYS
    return {_key_id(key): key for key in map(_derive, passphrases)}


def seal(secret, access_key):
    key = _current_key()
    nonce = os.urandom(_NONCE_BYTES)
    ciphertext = AESGCM(key).encrypt(nonce, secret.encode(), access_key.encode())
    return _VERSION + _key_id(key) + nonce + ciphertext


def sealed_with_current_key(sealed):
    return bytes(sealed[1 : 1 + _KEY_ID_BYTES]) == _key_id(_current_key())


def unseal(sealed, access_key):
    sealed = bytes(sealed)
    if sealed[:1] != _VERSION:
        raise UnsealError("unknown sealed-secret version")
    key = _known_keys().get(sealed[1 : 1 + _KEY_ID_BYTES])
    if key is None:
        raise UnsealError("sealed with a key that is not configured")
    nonce = sealed[1 + _KEY_ID_BYTES : 1 + _KEY_ID_BYTES + _NONCE_BYTES]
    try:
        return (
            AESGCM(key)
            .decrypt(nonce, sealed[1 + _KEY_ID_BYTES + _NONCE_BYTES :], access_key.encode())
            .decode()
        )
    except InvalidTag as exc:
        raise UnsealError("the sealed secret does not open") from exc
