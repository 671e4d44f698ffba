"""The wire contract between the controller and the host agents: names and messages.

Both sides import this module (the controller may import ``agent.protocol``; the
agent never imports the controller). It holds no Django, Celery or libvirt code:
only names, the message schemas with their validation, and the canonical JSON
that gets signed. The signing of both directions of the wire is in
``agent.signing``.

Controller -> agent: Celery tasks sent to the queue ``host.<name>``
(:func:`queue_for_host`), each with one argument, a signed task envelope
(``agent.signing.sign_task``) whose payload is the task's message below.

Agent -> controller: HTTP requests to the controller's internal agent endpoint
(paths below), signed by the host's own key (``agent.signing.sign_request``).
Results travel as :class:`TaskReport` messages (the Celery result backend is not
used: a host could write any result there). Values are JSON; sizes are integers
with the unit in the name; times are integer Unix seconds (UTC).
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import json
import re
import types
import typing
from dataclasses import dataclass, field

PROTOCOL_VERSION = 2
# The controller accepts agents one version behind it, and sends each host tasks of the version it
# speaks; an older agent is refused with a message saying so (unsupported_version).
OLDEST_PROTOCOL_VERSION = PROTOCOL_VERSION - 1
SUPPORTED_PROTOCOL_VERSIONS = frozenset(range(OLDEST_PROTOCOL_VERSION, PROTOCOL_VERSION + 1))


def unsupported_version_message(version):
    """Why an agent speaking `version` is refused, saying what to do."""
    return (
        f"This agent speaks protocol version {version}; this controller accepts versions "
        f"{OLDEST_PROTOCOL_VERSION} to {PROTOCOL_VERSION}: upgrade the agent."
    )


# --- Endpoints the controller serves for agents -------------------------------------------------

AGENT_API_PREFIX = "/internal/agent/v1"
# POST, unsigned (the one-time token authenticates): EnrollRequest -> EnrollResponse.
ENROLL_PATH = f"{AGENT_API_PREFIX}/enroll"
# POST, signed: Heartbeat -> HeartbeatAnswer.
HEARTBEAT_PATH = f"{AGENT_API_PREFIX}/heartbeat"
# POST, signed: TaskReport -> any 2xx (409 when the task is not this host's: the agent drops it).
TASK_REPORT_PATH = f"{AGENT_API_PREFIX}/task-reports"
# GET, signed: the signing host's desired network state, agent.network_protocol.NetworkState (JSON).
# Pulled rather than sent in a task: other hosts can read the broker, and the state can be large.
NETWORK_STATE_PATH = f"{AGENT_API_PREFIX}/network-state"
# POST, signed: agent.network_protocol.NetworkReport (observed state and drift) -> any 2xx.
NETWORK_REPORT_PATH = f"{AGENT_API_PREFIX}/network-reports"
# POST, signed: MetricsReport -> {"stored_instances": n}. Samples of instances that are not on the
# signing host are dropped, not refused (an instance may have just left it).
METRICS_REPORT_PATH = f"{AGENT_API_PREFIX}/metrics"


def image_data_path(image_id):
    """GET (signed): the image's bytes, streamed. PUT (signed): upload a snapshot's bytes."""
    return f"{AGENT_API_PREFIX}/images/{image_id}/data"


def instance_metadata_path(instance_id):
    """GET (signed): agent.network_protocol.InstanceMetadata of one of the signing host's instances.

    The instance id is part of the signed path: the controller answers only when the
    instance is placed on the signing host (404 otherwise, the same as "no such instance").
    """
    return f"{AGENT_API_PREFIX}/instances/{instance_id}/metadata"


def queue_for_host(host):
    """The Celery queue an agent consumes; the controller sends with ``send_task(..., queue=...)``."""
    return f"host.{host}"


def host_of_queue(queue):
    """The host whose agent consumes ``queue`` (the inverse of ``queue_for_host``)."""
    return queue.removeprefix("host.")


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
SYNC_NETWORK = "cloudmgr.agent.sync_network"
AUDIT_NETWORK = "cloudmgr.agent.audit_network"
ATTACH_INTERFACE = "cloudmgr.agent.attach_interface"
DETACH_INTERFACE = "cloudmgr.agent.detach_interface"

# --- Stable error codes in TaskReport.error.code ----------------------------------------------

ERR_INVALID_TASK = "invalid_task"
ERR_TASK_EXPIRED = "task_expired"
ERR_TIMEOUT = "timeout"
ERR_INSTANCE_NOT_FOUND = "instance_not_found"
ERR_INSTANCE_BUSY = "instance_busy"
# A task about an instance this host already deleted: it arrived late (a redelivery, a late send).
ERR_INSTANCE_DELETED = "instance_deleted"
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
# The network tasks' error codes are in agent/network_protocol.py.

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

# Every integer on the wire fits a signed 64-bit column; narrower ones say so in their message's validate().
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MAX = 2**31 - 1
# Unix seconds up to the year 6325: far beyond any clock, well inside what datetime and PostgreSQL hold.
MAX_UNIX_SECONDS = 2**37
# What a host may report: up to 2**20 CPUs, and RAM and disk up to 2**40 MiB (1 EiB).
MAX_CPUS = 2**20
MAX_SIZE_MB = 2**40

_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_HOST_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
_NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# A unicast MAC, lowercase (the multicast bit of the first octet clear).
_MAC_RE = re.compile(r"^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$")
# A guest NIC's host device: "tap" and up to 11 more characters (Linux allows 15; never "vnet*",
# which libvirt uses for the devices it names itself).
_TAP_RE = re.compile(r"^tap[0-9a-z-]{1,11}$")


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


def is_sha256(value):
    return isinstance(value, str) and bool(_SHA256_RE.match(value))


def is_mac(value):
    return isinstance(value, str) and bool(_MAC_RE.match(value))


def is_tap_name(value):
    return isinstance(value, str) and bool(_TAP_RE.match(value))


def is_nonce(value):
    return isinstance(value, str) and bool(_NONCE_RE.match(value))


def is_public_key(value):
    """base64 of a raw 32-byte Ed25519 public key: how keys travel and are stored."""
    try:
        return isinstance(value, str) and len(base64.b64decode(value, validate=True)) == 32
    except ValueError:
        return False


def canonical_json(value):
    """The exact bytes that get signed: sorted keys, no spaces, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


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


@functools.cache
def _schema(message_class):
    """(type hints, fields by name) of a message class: read once, a report may hold thousands of messages."""
    return typing.get_type_hints(message_class), {f.name: f for f in dataclasses.fields(message_class)}


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
        hints, fields = _schema(tp)
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
        _check(not _holds_nul(value), f"{where}: strings may not contain NUL")
        return value
    if tp is int:
        _check(isinstance(value, int) and not isinstance(value, bool), f"{where}: expected an integer")
        _check(INT64_MIN <= value <= INT64_MAX, f"{where}: out of the 64-bit range")
        return value
    _check(isinstance(value, tp), f"{where}: expected {tp.__name__}")
    # PostgreSQL holds no NUL in text or JSON: such a string could never be stored.
    _check(tp is not str or "\x00" not in value, f"{where}: strings may not contain NUL")
    return value


def _holds_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def _within(value, low, high):
    return low <= value <= high


@dataclass(frozen=True)
class ImageRef(Message):
    """An image in the controller's registry, as a host needs it: what to fetch and how to check it."""

    image_id: str
    sha256: str
    size_bytes: int
    disk_format: str

    def validate(self):
        _check(is_uuid(self.image_id), "image_id must be a lowercase UUID")
        _check(is_sha256(self.sha256), "sha256 must be 64 lowercase hex digits")
        _check(self.size_bytes > 0, "size_bytes must be positive")
        _check(self.disk_format in IMAGE_FORMATS, f"disk_format must be one of {IMAGE_FORMATS}")


@dataclass(frozen=True)
class NicSpec(Message):
    """One NIC of an instance: a port of a network, plugged through the tap ``device_name``.

    The host's bridge and MTU come from the host's desired network state, which must
    already hold the port (``port_not_ready`` otherwise): a tap is never plugged unfiltered.
    """

    port_id: str
    network_id: str
    mac: str
    device_name: str

    def validate(self):
        _check(is_uuid(self.port_id) and is_uuid(self.network_id), "port_id/network_id must be UUIDs")
        _check(is_mac(self.mac), "mac must be a lowercase unicast MAC address")
        _check(is_tap_name(self.device_name), "device_name must be 'tap' and up to 11 [0-9a-z-]")


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
    nics: list[NicSpec] = field(default_factory=list)
    # An ISO (label config-2) with the instance's metadata; its content comes from the controller's
    # signed metadata endpoint, never from this message.
    config_drive: bool = False

    def validate(self):
        _check(is_uuid(self.instance_id), "instance_id must be a lowercase UUID")
        _check(is_uuid(self.project_id), "project_id must be a lowercase UUID")
        _check(len(self.nics) <= 16, "at most 16 NICs")
        for what in ("port_id", "mac", "device_name"):
            values = [getattr(nic, what) for nic in self.nics]
            _check(len(set(values)) == len(values), f"two NICs with the same {what}")
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

    def validate(self):
        _check(_within(self.cpus, 0, MAX_CPUS), "cpus out of range")
        for size in (self.ram_mb, self.disk_total_mb, self.disk_free_mb):
            _check(_within(size, 0, MAX_SIZE_MB), "sizes must be between 0 and 2**40 MiB")


@dataclass(frozen=True)
class HypervisorInfo(Message):
    type: str  # libvirt's driver name: "QEMU", "TEST", ...
    version: str  # hypervisor version, "7.2.0"
    libvirt_version: str
    domain_type: str  # what the agent puts in <domain type=...>: "kvm" or "qemu"
    arch: str
    uri: str

    def validate(self):
        _check(_printable(self.type, 32) and _printable(self.arch, 32), "type/arch: printable, <= 32 chars")
        _check(_printable(self.version, 64), "version: printable, <= 64 chars")
        _check(_printable(self.libvirt_version, 64) and _printable(self.domain_type, 32), "bad versions")
        _check(_printable(self.uri, 1024), "uri: printable, <= 1024 chars")


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
    # Version 2: where other hosts reach this one for moves (0: not serving), and whether its
    # hypervisor migrates running guests.
    transfer_port: int = 0
    migration_gateway_port: int = 0
    live_migration: bool = False

    def validate(self):
        _check(is_host_name(self.host), "host is not a valid host name")
        _check(_within(self.protocol_version, 0, INT32_MAX), "protocol_version out of range")
        _check(_printable(self.agent_version, 64), "agent_version: printable, <= 64 chars")
        _check(_within(self.sent_at, 0, MAX_UNIX_SECONDS), "sent_at out of range")
        _check(_within(self.stuck_operations, 0, INT32_MAX), "stuck_operations out of range")
        for port in (self.transfer_port, self.migration_gateway_port):
            _check(0 <= port < 65536, "port out of range")


@dataclass(frozen=True)
class HeartbeatAnswer(Message):
    """The controller's answer to a heartbeat (version 2; a version 1 agent reads none)."""

    # The host was fenced: its guests may run elsewhere now. The agent destroys its own and takes no
    # task until the host is returned to service (agent.recovery).
    fenced: bool = False


@dataclass(frozen=True)
class TaskError(Message):
    code: str
    message: str

    def validate(self):
        _check(_printable(self.code, 64), "error code: printable, <= 64 chars")


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
        _check(is_uuid(self.task_id), "task_id must be a lowercase UUID")
        _check(_within(self.sent_at, 0, MAX_UNIX_SECONDS), "sent_at out of range")
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
    # Version 2: a PEM certificate request for the host's TLS key (moves between hosts).
    tls_csr: str = ""

    def validate(self):
        _check(self.host == "" or is_host_name(self.host), "host is not a valid host name")
        _check(0 < len(self.token) <= 512, "token missing")
        _check(is_public_key(self.public_key), "public_key is not a base64 raw Ed25519 public key")
        _check(len(self.tls_csr) <= 16384, "tls_csr too long")


@dataclass(frozen=True)
class EnrollResponse(Message):
    host: str
    # Keys the agent accepts task signatures from (more than one during a key rotation).
    controller_public_keys: list[str]
    # Version 2 (answering a tls_csr): the host's certificate and the CA's, PEM.
    tls_certificate: str = ""
    tls_ca_certificate: str = ""

    def validate(self):
        _check(is_host_name(self.host), "host is not a valid host name")
        _check(bool(self.controller_public_keys), "at least one controller key")
        for key in self.controller_public_keys:
            _check(is_public_key(key), "a controller key is not a base64 raw Ed25519 public key")


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


DRIFT_KINDS = (
    "bridge",
    "uplink",
    "vlan_interface",
    "tap",
    "namespace",
    "interface",
    "dhcp_server",
    "dhcp_hosts",
    "nftables",
    "router",
    "floating_ip",
    "metadata",
)
DRIFT_PROBLEMS = ("missing", "unexpected", "differs", "refused")


@dataclass(frozen=True)
class DriftItem(Message):
    """One difference between the host's real network state and the desired one.

    ``missing``: wanted, absent. ``unexpected``: cloudmgr's, not wanted. ``differs``: present,
    not as wanted. ``refused``: the agent will not do it (e.g. an uplink that carries the
    host's addresses). ``repaired`` says whether the agent fixed it in the same run.
    """

    kind: str
    name: str
    problem: str
    detail: str = ""
    repaired: bool = False

    def validate(self):
        _check(self.kind in DRIFT_KINDS, f"kind must be one of {DRIFT_KINDS}")
        _check(self.problem in DRIFT_PROBLEMS, f"problem must be one of {DRIFT_PROBLEMS}")


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


# --- Monitoring samples, moves between hosts and network tasks (agent/metrics_protocol.py,
# agent/moves_protocol.py, agent/network_protocol.py). Imported last: they build on the messages above.
from .metrics_protocol import *  # noqa: E402, F403
from .moves_protocol import *  # noqa: E402, F403
from .moves_protocol import MOVE_TASK_PAYLOADS, MOVE_TASK_RESULTS  # noqa: E402
from .network_protocol import *  # noqa: E402, F403
from .network_protocol import NETWORK_TASK_PAYLOADS, NETWORK_TASK_RESULTS  # noqa: E402

for payloads, results in (
    (MOVE_TASK_PAYLOADS, MOVE_TASK_RESULTS),
    (NETWORK_TASK_PAYLOADS, NETWORK_TASK_RESULTS),
):
    TASK_PAYLOADS.update(payloads)
    TASK_RESULTS.update(results)
TASK_NAMES = tuple(TASK_PAYLOADS)
