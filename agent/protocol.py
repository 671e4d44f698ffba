"""The wire contract between the controller and the host agents.

Both sides import this module (the controller may import ``agent.protocol``; the
agent never imports the controller). It holds no Django, Celery or libvirt code:
only names, message schemas with validation, and the Ed25519 signing of both
directions of the wire.

Controller -> agent: Celery tasks sent to the queue ``host.<name>``
(:func:`queue_for_host`). Each task has exactly one positional argument, the
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

Results travel as :class:`TaskReport` messages (the Celery result backend is not
used: a host could write any result there). Values are JSON; sizes are integers
with the unit in the name; times are integer Unix seconds (UTC).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import secrets
import time
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PROTOCOL_VERSION = 1
SUPPORTED_PROTOCOL_VERSIONS = frozenset({1})

# --- Endpoints the controller serves for agents -------------------------------------------------

AGENT_API_PREFIX = "/internal/agent/v1"
# POST, unsigned (the one-time token authenticates): EnrollRequest -> EnrollResponse.
ENROLL_PATH = f"{AGENT_API_PREFIX}/enroll"
# POST, signed: Heartbeat -> any 2xx.
HEARTBEAT_PATH = f"{AGENT_API_PREFIX}/heartbeat"
# POST, signed: TaskReport -> any 2xx (409 when the task is not this host's: the agent drops it).
TASK_REPORT_PATH = f"{AGENT_API_PREFIX}/task-reports"


def image_data_path(image_id):
    """GET (signed): the image's bytes, streamed. PUT (signed): upload a snapshot's bytes."""
    return f"{AGENT_API_PREFIX}/images/{image_id}/data"


def queue_for_host(host):
    """The Celery queue an agent consumes; the controller sends with ``send_task(..., queue=...)``."""
    return f"host.{host}"


# --- Task names (Celery task names) -------------------------------------------------------------

SPAWN_INSTANCE = "cloudmgr.agent.spawn_instance"
START_INSTANCE = "cloudmgr.agent.start_instance"
STOP_INSTANCE = "cloudmgr.agent.stop_instance"
REBOOT_INSTANCE = "cloudmgr.agent.reboot_instance"
PAUSE_INSTANCE = "cloudmgr.agent.pause_instance"
UNPAUSE_INSTANCE = "cloudmgr.agent.unpause_instance"
SUSPEND_INSTANCE = "cloudmgr.agent.suspend_instance"
RESUME_INSTANCE = "cloudmgr.agent.resume_instance"
REBUILD_INSTANCE = "cloudmgr.agent.rebuild_instance"
SNAPSHOT_INSTANCE = "cloudmgr.agent.snapshot_instance"
DELETE_INSTANCE = "cloudmgr.agent.delete_instance"
CONSOLE_LOG = "cloudmgr.agent.console_log"
PREFETCH_IMAGE = "cloudmgr.agent.prefetch_image"
INVENTORY = "cloudmgr.agent.inventory"

# --- Stable error codes in TaskReport.error.code ----------------------------------------------

ERR_INVALID_TASK = "invalid_task"
ERR_TASK_EXPIRED = "task_expired"
ERR_TIMEOUT = "timeout"
ERR_INSTANCE_NOT_FOUND = "instance_not_found"
ERR_INSTANCE_BUSY = "instance_busy"
ERR_INVALID_STATE = "invalid_state"
ERR_SPEC_CONFLICT = "spec_conflict"
ERR_IMAGE_FETCH_FAILED = "image_fetch_failed"
ERR_IMAGE_CHECKSUM_MISMATCH = "image_checksum_mismatch"
ERR_IMAGE_REFUSED = "image_refused"
ERR_ROOT_DISK_TOO_SMALL = "root_disk_too_small"
ERR_INSUFFICIENT_DISK = "insufficient_disk"
ERR_UPLOAD_FAILED = "upload_failed"
ERR_HYPERVISOR = "hypervisor_error"
ERR_INTERNAL = "internal_error"

# --- Enumerations ------------------------------------------------------------------------------

DISK_FORMATS = ("qcow2", "raw", "vmdk", "ami")
KERNEL_FORMAT, RAMDISK_FORMAT = "aki", "ari"
IMAGE_FORMATS = (*DISK_FORMATS, KERNEL_FORMAT, RAMDISK_FORMAT)
ARCHITECTURES = ("x86_64", "aarch64", "i686", "ppc64le", "s390x")
# libvirt's domain states, by name. "shutoff" comes with a reason (see SHUTOFF_REASONS).
POWER_STATES = ("nostate", "running", "blocked", "paused", "shutting_down", "shutoff", "crashed", "suspended")
SHUTOFF_REASONS = (
    "unknown",
    "shutdown",  # the guest powered itself off: the controller marks the instance stopped
    "destroyed",
    "crashed",
    "migrated",
    "saved",  # managed save (suspend)
    "failed",
    "from_snapshot",
    "daemon",
)
REPORT_STATES = ("running", "progress", "succeeded", "failed")

_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_HOST_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
_NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class ProtocolError(ValueError):
    """A message that does not follow the protocol; ``code`` is stable."""

    code = "malformed"

    def __init__(self, message, code=None):
        super().__init__(message)
        if code:
            self.code = code


class TaskRefused(ProtocolError):
    """The agent must not run this task (bad signature, expired, other host, malformed...)."""


class RequestRefused(ProtocolError):
    """The controller must not accept this agent request."""


def _check(condition, message):
    if not condition:
        raise ProtocolError(message)


def is_uuid(value):
    return isinstance(value, str) and bool(_UUID_RE.match(value))


def is_host_name(value):
    return isinstance(value, str) and bool(_HOST_RE.match(value))


def _printable(value, limit):
    return len(value) <= limit and all(ch.isprintable() for ch in value)


# --- Messages ----------------------------------------------------------------------------------


class Message:
    """Base of every schema: strict ``from_dict`` (unknown or missing keys refused) and ``to_dict``."""

    @classmethod
    def from_dict(cls, data):
        return _decode(cls, data, cls.__name__)

    def to_dict(self):
        return dataclasses.asdict(self)

    def validate(self):
        """Range and format checks beyond the types; raise ProtocolError."""


def _decode(tp, value, where):
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if value is None and type(None) in options:
            return None
        (inner,) = [opt for opt in options if opt is not type(None)]
        return _decode(inner, value, where)
    if origin is typing.Literal:
        _check(value in typing.get_args(tp), f"{where}: {value!r} is not one of {typing.get_args(tp)}")
        return value
    if origin is list:
        _check(isinstance(value, list), f"{where}: expected a list")
        (inner,) = typing.get_args(tp)
        return [_decode(inner, item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(tp, type) and issubclass(tp, Message):
        _check(isinstance(value, dict), f"{where}: expected an object")
        hints = typing.get_type_hints(tp)
        fields = {f.name: f for f in dataclasses.fields(tp)}
        unknown = set(value) - set(fields)
        _check(not unknown, f"{where}: unknown fields {sorted(unknown)}")
        kwargs = {}
        for name, spec in fields.items():
            if name in value:
                kwargs[name] = _decode(hints[name], value[name], f"{where}.{name}")
            else:
                has_default = spec.default is not dataclasses.MISSING
                has_default = has_default or spec.default_factory is not dataclasses.MISSING
                _check(has_default, f"{where}: missing field {name!r}")
        obj = tp(**kwargs)
        obj.validate()
        return obj
    if tp is dict:
        _check(isinstance(value, dict), f"{where}: expected an object")
        return value
    if tp is int:
        _check(isinstance(value, int) and not isinstance(value, bool), f"{where}: expected an integer")
        return value
    _check(isinstance(value, tp), f"{where}: expected {tp.__name__}")
    return value


@dataclass(frozen=True)
class ImageRef(Message):
    """An image in the controller's registry, as a host needs it: what to fetch and how to check it."""

    image_id: str
    sha256: str
    size_bytes: int
    disk_format: str

    def validate(self):
        _check(is_uuid(self.image_id), "image_id must be a lowercase UUID")
        _check(bool(_SHA256_RE.match(self.sha256)), "sha256 must be 64 lowercase hex digits")
        _check(self.size_bytes > 0, "size_bytes must be positive")
        _check(self.disk_format in IMAGE_FORMATS, f"disk_format must be one of {IMAGE_FORMATS}")


@dataclass(frozen=True)
class InstanceSpec(Message):
    """Everything a host needs to make one instance exist (the agent derives all paths from ids)."""

    instance_id: str
    name: str
    project_id: str
    offering: str
    vcpus: int
    ram_mb: int
    # 0 means "the image's virtual size"; otherwise the overlay is grown to this size.
    root_disk_mb: int
    image: ImageRef
    ephemeral_disk_mb: int = 0
    kernel: ImageRef | None = None
    ramdisk: ImageRef | None = None
    kernel_cmdline: str = ""
    arch: str = "x86_64"
    user_id: str | None = None

    def validate(self):
        _check(is_uuid(self.instance_id), "instance_id must be a lowercase UUID")
        _check(is_uuid(self.project_id), "project_id must be a lowercase UUID")
        _check(self.user_id is None or is_uuid(self.user_id), "user_id must be a lowercase UUID")
        _check(_printable(self.name, 255) and _printable(self.offering, 255), "name/offering too long")
        _check(1 <= self.vcpus <= 512, "vcpus out of range")
        _check(16 <= self.ram_mb <= 16 * 1024 * 1024, "ram_mb out of range")
        _check(self.root_disk_mb >= 0 and self.ephemeral_disk_mb >= 0, "disk sizes must be >= 0")
        _check(self.image.disk_format in DISK_FORMATS, f"image.disk_format must be one of {DISK_FORMATS}")
        _check(self.kernel is None or self.kernel.disk_format == KERNEL_FORMAT, "kernel must be an aki")
        _check(self.ramdisk is None or self.ramdisk.disk_format == RAMDISK_FORMAT, "ramdisk must be an ari")
        _check(self.ramdisk is None or self.kernel is not None, "a ramdisk needs a kernel")
        _check(not self.kernel_cmdline or self.kernel is not None, "kernel_cmdline needs a kernel")
        _check(_printable(self.kernel_cmdline, 1024), "kernel_cmdline must be printable, <= 1024 chars")
        _check(self.arch in ARCHITECTURES, f"arch must be one of {ARCHITECTURES}")

    def spec_sha256(self):
        """Identity of the wanted domain: a spawn with the same spec is a no-op, another is a conflict."""
        return hashlib.sha256(canonical_json(self.to_dict())).hexdigest()


@dataclass(frozen=True)
class InstanceTask(Message):
    """Payload of start, pause, unpause, suspend, resume and delete."""

    instance_id: str

    def validate(self):
        _check(is_uuid(self.instance_id), "instance_id must be a lowercase UUID")


@dataclass(frozen=True)
class SpawnInstance(Message):
    """Define (persistent) and start the instance; the same spec twice does no harm."""

    instance: InstanceSpec


@dataclass(frozen=True)
class RebuildInstance(Message):
    """Replace the root disk from ``instance.image`` (ephemeral disk kept), redefine, start."""

    instance: InstanceSpec


@dataclass(frozen=True)
class StopInstance(InstanceTask):
    """ACPI shutdown, then forced power-off after the timeout (0: forced at once)."""

    graceful_timeout_seconds: int = 60

    def validate(self):
        super().validate()
        _check(0 <= self.graceful_timeout_seconds <= 3600, "graceful_timeout_seconds out of range")


@dataclass(frozen=True)
class RebootInstance(StopInstance):
    """Soft: graceful shutdown then start, falling back to hard after the timeout. Hard: power cycle."""

    hard: bool = False


@dataclass(frozen=True)
class SnapshotInstance(InstanceTask):
    """Export the root disk (flattened qcow2) and PUT it to ``image_data_path(image_id)``."""

    image_id: str = ""

    def validate(self):
        super().validate()
        _check(is_uuid(self.image_id), "image_id must be a lowercase UUID")


@dataclass(frozen=True)
class ConsoleLogRequest(InstanceTask):
    """Read the tail of the serial console log."""

    max_bytes: int = 65536

    def validate(self):
        super().validate()
        _check(1 <= self.max_bytes <= 4 * 1024 * 1024, "max_bytes out of range")


@dataclass(frozen=True)
class PrefetchImage(Message):
    """Fetch an image into the host's cache ahead of use."""

    image: ImageRef


@dataclass(frozen=True)
class InventoryRequest(Message):
    """Report every cloudmgr domain and every unmanaged one (for the controller's audit)."""


TASK_PAYLOADS = {
    SPAWN_INSTANCE: SpawnInstance,
    START_INSTANCE: InstanceTask,
    STOP_INSTANCE: StopInstance,
    REBOOT_INSTANCE: RebootInstance,
    PAUSE_INSTANCE: InstanceTask,
    UNPAUSE_INSTANCE: InstanceTask,
    SUSPEND_INSTANCE: InstanceTask,
    RESUME_INSTANCE: InstanceTask,
    REBUILD_INSTANCE: RebuildInstance,
    SNAPSHOT_INSTANCE: SnapshotInstance,
    DELETE_INSTANCE: InstanceTask,
    CONSOLE_LOG: ConsoleLogRequest,
    PREFETCH_IMAGE: PrefetchImage,
    INVENTORY: InventoryRequest,
}
TASK_NAMES = tuple(TASK_PAYLOADS)


@dataclass(frozen=True)
class DomainStatus(Message):
    """One cloudmgr domain as libvirt sees it."""

    instance_id: str
    domain_name: str
    power_state: str
    # libvirt's reason for the state, by name; for "shutoff" one of SHUTOFF_REASONS.
    reason: str = "unknown"
    has_managed_save: bool = False
    spec_sha256: str = ""

    def validate(self):
        _check(is_uuid(self.instance_id), "instance_id must be a lowercase UUID")
        _check(self.power_state in POWER_STATES, f"power_state must be one of {POWER_STATES}")


@dataclass(frozen=True)
class UnmanagedDomain(Message):
    """A domain without cloudmgr's metadata: reported, never touched."""

    name: str
    uuid: str
    power_state: str


@dataclass(frozen=True)
class Inventory(Message):
    instances: list[DomainStatus] = field(default_factory=list)
    unmanaged_domains: list[UnmanagedDomain] = field(default_factory=list)


@dataclass(frozen=True)
class Capacity(Message):
    cpus: int
    ram_mb: int
    disk_total_mb: int
    # Measured on the agent's data directory (statvfs, space available to the agent).
    disk_free_mb: int


@dataclass(frozen=True)
class HypervisorInfo(Message):
    type: str  # libvirt's driver name: "QEMU", "TEST", ...
    version: str  # hypervisor version, "7.2.0"
    libvirt_version: str
    domain_type: str  # what the agent puts in <domain type=...>: "kvm" or "qemu"
    arch: str
    uri: str


@dataclass(frozen=True)
class CachedImage(Message):
    image_id: str
    sha256: str
    size_bytes: int
    disk_format: str


@dataclass(frozen=True)
class Heartbeat(Message):
    """POSTed to HEARTBEAT_PATH every heartbeat period."""

    protocol_version: int
    host: str
    agent_version: str
    sent_at: int
    capacity: Capacity
    hypervisor: HypervisorInfo
    inventory: Inventory
    cached_images: list[CachedImage] = field(default_factory=list)
    # Driver calls abandoned by the watchdog that have not returned yet.
    stuck_operations: int = 0

    def validate(self):
        _check(is_host_name(self.host), "host is not a valid host name")


@dataclass(frozen=True)
class TaskError(Message):
    code: str
    message: str


@dataclass(frozen=True)
class TaskReport(Message):
    """POSTed to TASK_REPORT_PATH: "running" when started, "progress", then "succeeded" or "failed".

    The controller accepts it only when ``task_id`` is a job dispatched to the signing host.
    A redelivered task that already finished reports its recorded outcome again.
    """

    protocol_version: int
    host: str
    task_id: str
    task: str
    state: str
    sent_at: int
    progress: int = 0
    message: str = ""
    result: dict | None = None
    error: TaskError | None = None

    def validate(self):
        _check(is_host_name(self.host), "host is not a valid host name")
        _check(self.task in TASK_PAYLOADS, "unknown task")
        _check(self.state in REPORT_STATES, f"state must be one of {REPORT_STATES}")
        _check(0 <= self.progress <= 100, "progress out of range")
        _check((self.error is not None) == (self.state == "failed"), "error goes with state failed")


@dataclass(frozen=True)
class EnrollRequest(Message):
    """POSTed (unsigned) to ENROLL_PATH by ``python -m agent enroll``."""

    protocol_version: int
    host: str  # may be "" to accept the name the controller registered for the token
    token: str
    public_key: str  # base64 of the raw 32-byte Ed25519 public key

    def validate(self):
        _check(self.host == "" or is_host_name(self.host), "host is not a valid host name")
        _check(0 < len(self.token) <= 512, "token missing")
        load_public_key(self.public_key)


@dataclass(frozen=True)
class EnrollResponse(Message):
    host: str
    # Keys the agent accepts task signatures from (more than one during a key rotation).
    controller_public_keys: list[str]

    def validate(self):
        _check(is_host_name(self.host), "host is not a valid host name")
        _check(bool(self.controller_public_keys), "at least one controller key")
        for key in self.controller_public_keys:
            load_public_key(key)


# --- Task results (TaskReport.result of a succeeded task) --------------------------------------


@dataclass(frozen=True)
class InstanceResult(Message):
    """Result of spawn, start, stop, reboot, pause, unpause, suspend, resume and rebuild."""

    instance: DomainStatus


@dataclass(frozen=True)
class DeleteResult(Message):
    instance_id: str
    existed: bool


@dataclass(frozen=True)
class SnapshotResult(Message):
    image_id: str
    sha256: str
    size_bytes: int
    virtual_size_bytes: int
    disk_format: str = "qcow2"


@dataclass(frozen=True)
class ConsoleLogResult(Message):
    text: str
    size_bytes: int  # size of the whole log
    truncated: bool  # True when text is only the tail


@dataclass(frozen=True)
class PrefetchResult(Message):
    image_id: str
    sha256: str
    size_bytes: int
    already_cached: bool


@dataclass(frozen=True)
class InventoryResult(Message):
    inventory: Inventory


TASK_RESULTS = {
    SPAWN_INSTANCE: InstanceResult,
    START_INSTANCE: InstanceResult,
    STOP_INSTANCE: InstanceResult,
    REBOOT_INSTANCE: InstanceResult,
    PAUSE_INSTANCE: InstanceResult,
    UNPAUSE_INSTANCE: InstanceResult,
    SUSPEND_INSTANCE: InstanceResult,
    RESUME_INSTANCE: InstanceResult,
    REBUILD_INSTANCE: InstanceResult,
    SNAPSHOT_INSTANCE: SnapshotResult,
    DELETE_INSTANCE: DeleteResult,
    CONSOLE_LOG: ConsoleLogResult,
    PREFETCH_IMAGE: PrefetchResult,
    INVENTORY: InventoryResult,
}


def parse_result(task, result):
    """The typed result of a succeeded TaskReport (for the controller)."""
    return TASK_RESULTS[task].from_dict(result)


# --- Keys --------------------------------------------------------------------------------------


def canonical_json(value):
    """The exact bytes that get signed: sorted keys, no spaces, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


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


def sign_task(private_key, *, task, task_id, host, payload, expires_at, issued_at=None):
    """The envelope the controller sends as the task's only argument.

    ``payload`` is the task's Message (or its dict, validated here); ``task_id`` is
    the job's UUID; ``expires_at`` (Unix seconds) is the job's deadline.
    """
    if task not in TASK_PAYLOADS:
        raise ProtocolError(f"unknown task {task!r}")
    payload_dict = payload.to_dict() if isinstance(payload, Message) else payload
    TASK_PAYLOADS[task].from_dict(payload_dict)
    _check(is_uuid(str(task_id)), "task_id must be a UUID")
    _check(is_host_name(host), "host is not a valid host name")
    envelope = {
        "v": PROTOCOL_VERSION,
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
    if not is_host_name(host) or not _NONCE_RE.match(nonce) or not _SHA256_RE.match(digest):
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
