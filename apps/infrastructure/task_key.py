"""The controller's Ed25519 key that signs every task it sends to an agent.

The private key comes from CLOUDMGR_TASK_SIGNING_KEY (PEM text) or the file
named by CLOUDMGR_TASK_SIGNING_KEY_FILE (written by `manage.py createsigningkey`,
mode 0600). Agents learn the public keys at enrollment: the current one plus
CLOUDMGR_TASK_SIGNING_PREVIOUS_PUBLIC_KEYS, so a rotated key can be phased in
while enrolled agents still accept tasks signed with the old one.
"""

import os
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from agent import signing


def signing_key():
    pem = settings.CLOUDMGR_TASK_SIGNING_KEY
    if not pem:
        path = Path(settings.CLOUDMGR_TASK_SIGNING_KEY_FILE)
        if not path.exists():
            raise ImproperlyConfigured(f"no task signing key at {path}: run `manage.py createsigningkey`")
        pem = path.read_text()
    return signing.load_private_key_pem(pem.encode())


def controller_public_keys():
    current = signing.public_key_b64(signing_key())
    return [current, *(k for k in settings.CLOUDMGR_TASK_SIGNING_PREVIOUS_PUBLIC_KEYS if k != current)]


def create_key_file(path, *, replace=False):
    """Write a new private key to `path` (0600); returns its public key. Refuses to overwrite unless asked."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
    key = signing.generate_private_key()
    descriptor = os.open(path, flags, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(signing.private_key_to_pem(key))
    os.chmod(path, 0o600)
    return signing.public_key_b64(key)
