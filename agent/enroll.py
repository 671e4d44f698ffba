"""Enrollment: the host's Ed25519 key pair, and registering its public key with a one-time token.

The private key never leaves the host (``host_key.pem``, mode 0600); the
controller's answer gives the name it registered and the keys it signs tasks
with, saved next to it for ``python -m agent run``.
"""

import json
import logging
import os

from . import protocol, signing
from .controller_client import post_json
from .instance_files import ensure_dir
from .settings import CONTROLLER_KEYS_FILE, HOST_KEY_FILE, STATE_FILE

log = logging.getLogger(__name__)


class EnrollmentError(Exception):
    pass


def load_or_create_host_key(data_dir):
    path = ensure_dir(data_dir) / HOST_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            raise EnrollmentError(f"{path} is readable by others; fix its mode (0600)") from None
        return signing.load_private_key_pem(path.read_bytes())
    key = signing.generate_private_key()
    with os.fdopen(fd, "wb") as out:
        out.write(signing.private_key_to_pem(key))
    log.info("created the host key %s (%s)", path, signing.key_fingerprint(key))
    return key


def load_host_key(data_dir):
    path = data_dir / HOST_KEY_FILE
    if not path.exists():
        raise EnrollmentError(f"no host key at {path}: run `python -m agent enroll` first")
    return load_or_create_host_key(data_dir)


def enroll(data_dir, controller_url, token, host=""):
    key = load_or_create_host_key(data_dir)
    request = protocol.EnrollRequest(
        protocol_version=protocol.PROTOCOL_VERSION,
        host=host,
        token=token,
        public_key=signing.public_key_b64(key),
    )
    url = controller_url.rstrip("/") + protocol.ENROLL_PATH
    answer = post_json(url, protocol.canonical_json(request.to_dict()))
    try:
        response = protocol.EnrollResponse.from_dict(answer)
    except protocol.ProtocolError as exc:
        raise EnrollmentError(f"the controller's answer is not an enrollment response: {exc}") from exc
    if host and response.host != host:
        raise EnrollmentError(f"the controller registered this token for {response.host!r}, not {host!r}")
    (data_dir / CONTROLLER_KEYS_FILE).write_text("\n".join(response.controller_public_keys) + "\n")
    state = {"host": response.host, "controller_url": controller_url}
    (data_dir / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")
    return response
