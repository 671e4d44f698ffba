"""Ed25519 signing of both directions of the agent wire, and the keys it uses.

Controller -> agent: Celery tasks sent to the queue ``host.<name>``
(``agent.protocol.queue_for_host``). Each task has exactly one positional argument, the
signed *task envelope* made by :func:`sign_task`::

    {"v": 1, "task": "cloudmgr.agent.spawn_instance", "task_id": "<uuid>",
     "host": "<host name>", "issued_at": <unix s>, "expires_at": <unix s>,
     "payload": {...}, "signature": "<base64 Ed25519 signature>"}

The signature covers ``TASK_SIGNATURE_CONTEXT`` + the canonical JSON of every
field but ``signature``. The agent (:func:`verify_task`) refuses a task whose
signature does not verify with the controller's key, whose ``host`` is not its
own, whose ``task`` differs from the Celery task name it arrived under, which has
expired or whose payload does not match the schema. ``expires_at`` is the job's
deadline: the agent does not start a task after it and abandons (reporting
``timeout``) one still running at it.

Agent -> controller: HTTP requests to the controller's internal agent endpoint
(paths below), signed by the host's own key (:func:`sign_request`, checked with
:func:`verify_request`). The canonical request is::

    "\\n".join(["CLOUDMGR-AGENT-REQUEST-V1", METHOD, path?query, host, timestamp, nonce,
               sha256 hex of the body])

Keys travel and are stored as base64 of the raw 32-byte public key; a private
key is kept as PKCS#8 PEM. Like agent.protocol, no Django, Celery or libvirt here.
"""

import base64
import hashlib
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .protocol import (
    PROTOCOL_VERSION,
    SUPPORTED_PROTOCOL_VERSIONS,
    TASK_PAYLOADS,
    Message,
    ProtocolError,
    RequestRefused,
    SignedTicket,
    TaskRefused,
    canonical_json,
    is_host_name,
    is_nonce,
    is_sha256,
    is_uuid,
)


def generate_private_key():
    return Ed25519PrivateKey.generate()


def private_key_to_pem(private_key):
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key_pem(data):
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ProtocolError("not an Ed25519 private key")
    return key


def public_key_b64(key):
    """base64 of the raw 32-byte public key of a private or public key: how keys travel and are stored."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def load_public_key(value):
    if isinstance(value, Ed25519PublicKey):
        return value
    try:
        raw = base64.b64decode(value, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError) as exc:
        raise ProtocolError("not a base64 raw Ed25519 public key") from exc


def key_fingerprint(key):
    """Short, loggable identity of a key: SHA256 of the raw public key."""
    raw = base64.b64decode(public_key_b64(key))
    return "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode("ascii").rstrip("=")


# --- Controller -> agent: signed tasks ---------------------------------------------------------

TASK_SIGNATURE_CONTEXT = b"CLOUDMGR-TASK-V1\n"
_ENVELOPE_FIELDS = ("v", "task", "task_id", "host", "issued_at", "expires_at", "payload")


@dataclass(frozen=True)
class VerifiedTask:
    task: str
    task_id: str
    host: str
    issued_at: int
    expires_at: int
    payload: Message


def _task_signing_bytes(envelope):
    return TASK_SIGNATURE_CONTEXT + canonical_json({name: envelope[name] for name in _ENVELOPE_FIELDS})


def sign_task(
    private_key, *, task, task_id, host, payload, expires_at, issued_at=None, version=PROTOCOL_VERSION
):
    """The envelope the controller sends as the task's only argument.

    ``payload`` is the task's Message (or its dict, validated here); ``task_id`` is
    the job's UUID; ``expires_at`` (Unix seconds) is the job's deadline; ``version``
    the protocol version the host speaks (an agent one version behind refuses newer).
    """
    if version not in SUPPORTED_PROTOCOL_VERSIONS:
        raise ProtocolError(f"protocol version {version!r} is not supported")
    if task not in TASK_PAYLOADS:
        raise ProtocolError(f"unknown task {task!r}")
    payload_dict = payload.to_dict() if isinstance(payload, Message) else payload
    TASK_PAYLOADS[task].from_dict(payload_dict)
    if not is_uuid(str(task_id)):
        raise ProtocolError("task_id must be a UUID")
    if not is_host_name(host):
        raise ProtocolError("host is not a valid host name")
    envelope = {
        "v": version,
        "task": task,
        "task_id": str(task_id),
        "host": host,
        "issued_at": int(time.time() if issued_at is None else issued_at),
        "expires_at": int(expires_at),
        "payload": payload_dict,
    }
    signature = private_key.sign(_task_signing_bytes(envelope))
    envelope["signature"] = base64.b64encode(signature).decode("ascii")
    return envelope


def verify_task(envelope, *, public_keys, host, task=None, now=None, max_clock_skew=60):
    """Check a task envelope for this host; return a VerifiedTask or raise TaskRefused.

    The signature is checked first, so nothing unsigned is trusted, not even the
    task id. ``task`` is the Celery task name the envelope arrived under.
    """
    if not isinstance(envelope, dict) or set(envelope) != {*_ENVELOPE_FIELDS, "signature"}:
        raise TaskRefused("the task is not a cloudmgr task envelope", "malformed")
    try:
        signature = base64.b64decode(envelope["signature"], validate=True)
        signed = _task_signing_bytes(envelope)
    except (TypeError, ValueError) as exc:
        raise TaskRefused("the task envelope cannot be read", "malformed") from exc
    if not _verify_with_any(public_keys, signature, signed):
        raise TaskRefused("the task's signature does not verify with the controller's key", "bad_signature")
    if not is_uuid(envelope["task_id"]):
        raise TaskRefused("task_id must be a UUID", "malformed")
    if envelope["v"] not in SUPPORTED_PROTOCOL_VERSIONS:
        raise TaskRefused(f"protocol version {envelope['v']!r} is not supported", "unsupported_version")
    if envelope["host"] != host:
        raise TaskRefused(f"the task is meant for host {envelope['host']!r}, not {host!r}", "wrong_host")
    if task is not None and envelope["task"] != task:
        raise TaskRefused(f"the task was signed as {envelope['task']!r}, not {task!r}", "wrong_task")
    now = time.time() if now is None else now
    expires_at, issued_at = envelope["expires_at"], envelope["issued_at"]
    if not isinstance(expires_at, int) or not isinstance(issued_at, int):
        raise TaskRefused("issued_at and expires_at must be integers", "malformed")
    if now >= expires_at:
        raise TaskRefused(f"the task expired {int(now - expires_at)} s ago", "expired")
    if issued_at > now + max_clock_skew:
        raise TaskRefused("the task is issued in the future (clock skew?)", "not_yet_valid")
    payload_class = TASK_PAYLOADS.get(envelope["task"])
    if payload_class is None:
        raise TaskRefused(f"unknown task {envelope['task']!r}", "unknown_task")
    try:
        payload = payload_class.from_dict(envelope["payload"])
    except ProtocolError as exc:
        raise TaskRefused(f"invalid payload: {exc}", "malformed") from exc
    return VerifiedTask(envelope["task"], envelope["task_id"], host, issued_at, expires_at, payload)


# --- Controller -> agents: signed transfer tickets (agent.moves_protocol) --------------------------

TRANSFER_SIGNATURE_CONTEXT = b"CLOUDMGR-TRANSFER-V1\n"


def _ticket_signing_bytes(ticket):
    """What the controller signs: its own context, so no task signature can pass for a ticket."""
    return TRANSFER_SIGNATURE_CONTEXT + canonical_json(ticket.to_dict())


def sign_ticket(private_key, ticket):
    """A TransferTicket signed by the controller's task key, as a SignedTicket."""
    signature = private_key.sign(_ticket_signing_bytes(ticket))
    return SignedTicket(ticket=ticket, signature=base64.b64encode(signature).decode("ascii"))


def verify_ticket(signed, *, public_keys, source, destination, now=None):
    """The ticket of a SignedTicket meant for this `source` and the peer `destination`, or TaskRefused."""
    try:
        signature = base64.b64decode(signed.signature, validate=True)
    except (TypeError, ValueError) as exc:
        raise TaskRefused("the ticket's signature cannot be read", "malformed") from exc
    ticket = signed.ticket
    if not _verify_with_any(public_keys, signature, _ticket_signing_bytes(ticket)):
        raise TaskRefused("the ticket's signature does not verify with the controller's key", "bad_signature")
    if ticket.source != source:
        raise TaskRefused(f"the ticket is for source {ticket.source!r}, not {source!r}", "wrong_host")
    if ticket.destination != destination:
        raise TaskRefused(f"the ticket is for {ticket.destination!r}, not {destination!r}", "wrong_peer")
    if (time.time() if now is None else now) >= ticket.expires_at:
        raise TaskRefused("the ticket has expired", "expired")
    return ticket


def _verify_with_any(public_keys, signature, data):
    for key in public_keys:
        try:
            load_public_key(key).verify(signature, data)
            return True
        except InvalidSignature:
            continue
    return False


# --- Agent -> controller: signed HTTP requests -------------------------------------------------

REQUEST_SIGNATURE_CONTEXT = "CLOUDMGR-AGENT-REQUEST-V1"
HEADER_HOST = "X-Cloudmgr-Host"
HEADER_TIMESTAMP = "X-Cloudmgr-Timestamp"
HEADER_NONCE = "X-Cloudmgr-Nonce"
HEADER_CONTENT_SHA256 = "X-Cloudmgr-Content-Sha256"
HEADER_SIGNATURE = "X-Cloudmgr-Signature"
REQUEST_MAX_SKEW_SECONDS = 300
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()


def canonical_request(method, path, host, timestamp, nonce, body_sha256):
    return "\n".join(
        [REQUEST_SIGNATURE_CONTEXT, method.upper(), path, host, str(timestamp), nonce, body_sha256]
    ).encode("utf-8")


def sign_request(private_key, *, host, method, path, body=b"", body_sha256=None, timestamp=None, nonce=None):
    """Headers that authenticate one agent request. ``path`` includes the query string, if any.

    Pass ``body_sha256`` instead of ``body`` for a streamed upload whose hash is known.
    """
    digest = body_sha256 or hashlib.sha256(body).hexdigest()
    timestamp = int(time.time() if timestamp is None else timestamp)
    nonce = nonce or secrets.token_urlsafe(18)
    signature = private_key.sign(canonical_request(method, path, host, timestamp, nonce, digest))
    return {
        HEADER_HOST: host,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_NONCE: nonce,
        HEADER_CONTENT_SHA256: digest,
        HEADER_SIGNATURE: base64.b64encode(signature).decode("ascii"),
    }


@dataclass(frozen=True)
class VerifiedRequest:
    host: str
    timestamp: int
    nonce: str
    content_sha256: str  # the signed body hash: compare with the body actually received


def verify_request(
    headers: Mapping[str, str],
    *,
    method: str,
    path: str,
    public_key_for_host: Callable[[str], object],
    now: float | None = None,
    max_skew: int = REQUEST_MAX_SKEW_SECONDS,
    remember_nonce: Callable[[str, str, int], bool] | None = None,
    body_sha256: str | None = None,
):
    """Check an agent request's signature headers; return VerifiedRequest or raise RequestRefused.

    ``public_key_for_host(host)`` returns the enrolled key (base64 or key object)
    or None. ``remember_nonce(host, nonce, ttl_seconds)`` returns False when the
    nonce was already seen (a replay): keep nonces for ``2 * max_skew`` seconds.
    Give ``body_sha256`` when the body is already read; for a streamed body,
    compare the returned ``content_sha256`` with the hash once the body is read.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        host = lowered[HEADER_HOST.lower()]
        timestamp_text = lowered[HEADER_TIMESTAMP.lower()]
        nonce = lowered[HEADER_NONCE.lower()]
        digest = lowered[HEADER_CONTENT_SHA256.lower()]
        signature = base64.b64decode(lowered[HEADER_SIGNATURE.lower()], validate=True)
        timestamp = int(timestamp_text)
    except (KeyError, ValueError, TypeError) as exc:
        raise RequestRefused("missing or unreadable signature headers", "unsigned") from exc
    if not is_host_name(host) or not is_nonce(nonce) or not is_sha256(digest):
        raise RequestRefused("malformed signature headers", "unsigned")
    key = public_key_for_host(host)
    if key is None:
        raise RequestRefused(f"host {host!r} is not enrolled", "unknown_host")
    signed = canonical_request(method, path, host, timestamp, nonce, digest)
    if not _verify_with_any([key], signature, signed):
        raise RequestRefused("the request's signature does not verify with the host's key", "bad_signature")
    now = time.time() if now is None else now
    if abs(now - timestamp) > max_skew:
        raise RequestRefused("the request's timestamp is outside the allowed window", "stale")
    if body_sha256 is not None and body_sha256 != digest:
        raise RequestRefused("the body does not match the signed hash", "body_mismatch")
    if remember_nonce is not None and not remember_nonce(host, nonce, 2 * max_skew):
        raise RequestRefused("the request was already seen (replay)", "replay")
    return VerifiedRequest(host, timestamp, nonce, digest)
