"""SSH keypairs of a project: import a public key, or generate a pair and hand the private key out once."""

import base64
import hashlib

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from apps.audit.recorder import audited
from apps.core.errors import ValidationFailed
from apps.identity.services.common import require, save_unique

from ..models import Keypair

ED25519, RSA = "ed25519", "rsa"
RSA_BITS = 3072
MIN_RSA_BITS = 2048


def fingerprint(openssh_line):
    """OpenSSH's SHA256 fingerprint (what `ssh-keygen -l` prints)."""
    blob = base64.b64decode(openssh_line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _parse(public_key):
    try:
        key = serialization.load_ssh_public_key(public_key.strip().encode())
    except (ValueError, UnsupportedAlgorithm, IndexError) as exc:
        raise ValidationFailed("This is not an OpenSSH public key.", code="bad_public_key") from exc
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise ValidationFailed(f"RSA keys need at least {MIN_RSA_BITS} bits.", code="weak_public_key")
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise ValidationFailed("Use an Ed25519, RSA or ECDSA key.", code="bad_public_key")
    return key


def _openssh(public_key):
    return public_key.public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()


def _new_private_key(key_type):
    if key_type == ED25519:
        return ed25519.Ed25519PrivateKey.generate()
    if key_type == RSA:
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    raise ValidationFailed("The key type is ed25519 or rsa.", code="bad_key_type")


def create_keypair(actor, project, *, name, public_key=None, key_type=ED25519):
    """Import `public_key`, or generate one. Returns (keypair, private key in OpenSSH PEM or None)."""
    action = "compute.keypair.create"
    with audited(actor, action, target=project.target()) as op:
        require(actor, action, project.target(), "You may not add keypairs to this project.")
        private_pem = None
        if public_key:
            key = _parse(public_key)
        else:
            private = _new_private_key(key_type)
            key = private.public_key()
            private_pem = private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
            ).decode()
        line = _openssh(key)
        keypair = Keypair(
            project=project,
            name=name,
            key_type=line.split()[0],
            public_key=line,
            fingerprint=fingerprint(line),
            created_by_id=actor.user.pk if actor.user is not None else None,
        )
        op.object = keypair
        op.details = {"generated": private_pem is not None, "fingerprint": keypair.fingerprint}
        save_unique(keypair, f"A keypair named '{name}' already exists in this project.")
    return keypair, private_pem


def delete_keypair(actor, keypair):
    """Instances keep the public key they were created with."""
    action = "compute.keypair.delete"
    with audited(actor, action, target=keypair.target(), obj=keypair):
        require(actor, action, keypair.target(), "You may not delete this keypair.")
        keypair.delete()
