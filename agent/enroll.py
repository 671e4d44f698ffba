"""Enrollment: the host's Ed25519 key pair, and registering its public key with a one-time token.

The private key never leaves the host (``host_key.pem``, mode 0600); the
controller's answer gives the name it registered and the keys it signs tasks
with, saved next to it for ``python -m agent run``.

Enrolling again rotates the key: a new key pair is made, and the request is
signed with the old key (the controller wants that proof from a host that has a
key, unless an admin declared the old key lost); the new key replaces the old
only once the controller accepted it. Each enrollment also asks the controller's
CA for a TLS certificate of a new TLS key (agent.pki), used in moves between hosts.
"""

import json
import logging
import os
from urllib.parse import urlsplit

from . import pki, protocol, signing
from .controller_client import post_json
from .instance_files import ensure_dir
from .settings import CONTROLLER_KEYS_FILE, HOST_KEY_FILE, STATE_FILE

log = logging.getLogger(__name__)


class EnrollmentError(Exception):
    pass


def _existing_key(path):
    if path.stat().st_mode & 0o077:
        raise EnrollmentError(f"{path} is readable by others; fix its mode (0600)")
    return signing.load_private_key_pem(path.read_bytes())


def load_host_key(data_dir):
    path = data_dir / HOST_KEY_FILE
    if not path.exists():
        raise EnrollmentError(f"no host key at {path}: run `python -m agent enroll` first")
    return _existing_key(path)


def _write_private(path, data):
    temp = path.with_name(f".tmp-{path.name}")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
    os.chmod(temp, 0o600)
    os.replace(temp, path)


def _enrolled_name(data_dir):
    try:
        return json.loads((data_dir / STATE_FILE).read_text()).get("host", "")
    except (OSError, ValueError):
        return ""


def enroll(data_dir, controller_url, token, host=""):
    ensure_dir(data_dir)
    key_path = data_dir / HOST_KEY_FILE
    old_key = _existing_key(key_path) if key_path.exists() else None
    enrolled_as = _enrolled_name(data_dir)
    new_key = signing.generate_private_key()
    request = protocol.EnrollRequest(
        protocol_version=protocol.PROTOCOL_VERSION,
        host=host,
        token=token,
        public_key=signing.public_key_b64(new_key),
        tls_csr=pki.new_request(data_dir, host or enrolled_as),
    )
    body = protocol.canonical_json(request.to_dict())
    headers = {}
    if old_key is not None and enrolled_as:
        path = urlsplit(controller_url.rstrip("/")).path + protocol.ENROLL_PATH
        headers = signing.sign_request(old_key, host=enrolled_as, method="POST", path=path, body=body)
    answer = post_json(controller_url.rstrip("/") + protocol.ENROLL_PATH, body, headers)
    try:
        response = protocol.EnrollResponse.from_dict(answer)
    except protocol.ProtocolError as exc:
        raise EnrollmentError(f"the controller's answer is not an enrollment response: {exc}") from exc
    if host and response.host != host:
        raise EnrollmentError(f"the controller registered this token for {response.host!r}, not {host!r}")
    _write_private(key_path, signing.private_key_to_pem(new_key))
    log.info("host key %s (%s)", key_path, signing.key_fingerprint(new_key))
    if response.tls_certificate:
        pki.install(data_dir, response.tls_certificate, response.tls_ca_certificate)
    (data_dir / CONTROLLER_KEYS_FILE).write_text("\n".join(response.controller_public_keys) + "\n")
    state = {"host": response.host, "controller_url": controller_url}
    (data_dir / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")
    return response
