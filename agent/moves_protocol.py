"""The wire of moves between hosts and of a host's recovery: task names, messages, transfer tickets.

Part of the protocol: agent.protocol re-exports every name here and adds the
tasks to its tables, so everyone imports them from agent.protocol (importing this
module first would find agent.protocol half made).

A cold migration (and a resize) hands the instance's disks over from the source
to the destination:

- the source, told by PREPARE_MIGRATION, stops the guest and moves the
  instance's files aside, under ``migrations/<migration id>/``, where its
  transfer server (agent.transfer_server) can serve them and nothing can start
  them (the domain still names the old paths);
- the destination, told by RECEIVE_MIGRATION, fetches each file over mutual TLS
  (both hosts' certificates issued by the controller's CA) with a
  :class:`TransferTicket` the controller signed for exactly that file, that
  source and that destination, usable once before it expires. The source sends
  the file followed by the SHA-256 of what it read and sent (computed as it
  sends: no pass over the file before); the destination, hashing as it
  receives, keeps the file only if both agree and its size is the ticket's,
  inspects the disk, defines and starts the domain, and reports the verified
  checksums (:class:`MigrationReceived`);
- FINISH_MIGRATION_SOURCE forgets the handed-over copy once the move is over,
  DISCARD_MIGRATION_TARGET removes what a failed move made on the destination,
  RESTORE_MIGRATION_SOURCE takes the copy back on the source (a failed move, a
  reverted resize).

A live migration prepares the destination (PREPARE_LIVE_MIGRATION: disks, and the
source host expected by its migration gateway), then the source's libvirt
migrates the running guest (LIVE_MIGRATE), then the destination confirms it runs
there (FINISH_LIVE_MIGRATION).

Recovery: before starting any guest, an agent asks the controller (RECOVERY_PATH)
what its instances should be doing and whether its host was fenced.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

from .protocol import (
    AGENT_API_PREFIX,
    DomainStatus,
    InstanceResult,
    InstanceSpec,
    InstanceTask,
    Message,
    ProtocolError,
    _check,
    canonical_json,
    is_host_name,
    is_sha256,
    is_uuid,
)

__all__ = [
    "DESIRED_POWER",
    "DISCARD_MIGRATION_TARGET",
    "DISK_NAMES",
    "ERR_DISK_CHECKSUM_MISMATCH",
    "ERR_DISK_REFUSED",
    "ERR_LIVE_MIGRATION_UNSUPPORTED",
    "ERR_MIGRATION_ABORTED",
    "ERR_NOTHING_TO_MOVE",
    "ERR_TRANSFER_FAILED",
    "FINISH_LIVE_MIGRATION",
    "FINISH_MIGRATION_SOURCE",
    "LIVE_MIGRATE",
    "PREPARE_LIVE_MIGRATION",
    "PREPARE_MIGRATION",
    "RECEIVE_MIGRATION",
    "RECOVERY_PATH",
    "RESTORE_MIGRATION_SOURCE",
    "DesiredInstance",
    "DiscardMigrationTarget",
    "DiscardResult",
    "DiskFile",
    "FinishLiveMigration",
    "FinishMigrationSource",
    "HandedOverFile",
    "LiveMigrate",
    "LiveMigrationResult",
    "LiveMigrationTarget",
    "MigrationPeer",
    "MigrationPrepared",
    "MigrationReceived",
    "MigrationTask",
    "PrepareLiveMigration",
    "PrepareMigration",
    "ReceiveMigration",
    "Recovery",
    "RecoveryRequest",
    "RestoreMigrationSource",
    "SignedTicket",
    "TransferSource",
    "TransferTicket",
    "decode_ticket",
    "encode_ticket",
]

# POST, signed: RecoveryRequest -> Recovery.
RECOVERY_PATH = f"{AGENT_API_PREFIX}/recovery"

PREPARE_MIGRATION = "cloudmgr.agent.prepare_migration"
RECEIVE_MIGRATION = "cloudmgr.agent.receive_migration"
FINISH_MIGRATION_SOURCE = "cloudmgr.agent.finish_migration_source"
DISCARD_MIGRATION_TARGET = "cloudmgr.agent.discard_migration_target"
RESTORE_MIGRATION_SOURCE = "cloudmgr.agent.restore_migration_source"
PREPARE_LIVE_MIGRATION = "cloudmgr.agent.prepare_live_migration"
LIVE_MIGRATE = "cloudmgr.agent.live_migrate"
FINISH_LIVE_MIGRATION = "cloudmgr.agent.finish_live_migration"

ERR_TRANSFER_FAILED = "transfer_failed"
ERR_DISK_CHECKSUM_MISMATCH = "disk_checksum_mismatch"
ERR_DISK_REFUSED = "disk_refused"
ERR_MIGRATION_ABORTED = "migration_aborted"
ERR_LIVE_MIGRATION_UNSUPPORTED = "live_migration_unsupported"
ERR_NOTHING_TO_MOVE = "nothing_to_move"

# The files of an instance that move with it (agent.instance_files names them).
DISK_NAMES = ("root.qcow2", "ephemeral.qcow2")
DESIRED_POWER = ("running", "paused", "off")


def _uuids(message, *names):
    for name in names:
        _check(is_uuid(getattr(message, name)), f"{name} must be a lowercase UUID")


@dataclass(frozen=True)
class HandedOverFile(Message):
    """One of the instance's files as the source handed it over: what the destination must receive."""

    name: str
    size_bytes: int

    def validate(self):
        _check(self.name in DISK_NAMES, f"name must be one of {DISK_NAMES}")
        _check(self.size_bytes > 0, "size_bytes must be positive")


@dataclass(frozen=True)
class DiskFile(Message):
    """A file the destination received: its size and the SHA-256 it verified (the source's)."""

    name: str
    sha256: str
    size_bytes: int

    def validate(self):
        _check(self.name in DISK_NAMES, f"name must be one of {DISK_NAMES}")
        _check(is_sha256(self.sha256), "sha256 must be 64 lowercase hex digits")
        _check(self.size_bytes > 0, "size_bytes must be positive")


@dataclass(frozen=True)
class MigrationTask(InstanceTask):
    """A step of one move of one instance (``migration_id`` names the move)."""

    migration_id: str = ""

    def validate(self):
        super().validate()
        _uuids(self, "migration_id")


@dataclass(frozen=True)
class PrepareMigration(MigrationTask):
    """Source: stop the guest (gracefully for up to the timeout) and hand its disks over."""

    graceful_timeout_seconds: int = 60

    def validate(self):
        super().validate()
        _check(0 <= self.graceful_timeout_seconds <= 3600, "graceful_timeout_seconds out of range")


@dataclass(frozen=True)
class MigrationPrepared(Message):
    """Result of PREPARE_MIGRATION."""

    instance_id: str
    migration_id: str
    disks: list[HandedOverFile]


@dataclass(frozen=True)
class MigrationReceived(Message):
    """Result of RECEIVE_MIGRATION: the domain here, and every disk with the checksum verified on arrival."""

    instance: DomainStatus
    disks: list[DiskFile]


@dataclass(frozen=True)
class TransferTicket(Message):
    """The controller's leave for `destination` to fetch one file of one migration from `source`, once."""

    ticket_id: str
    migration_id: str
    source: str
    destination: str
    file: HandedOverFile
    expires_at: int

    def validate(self):
        _uuids(self, "ticket_id", "migration_id")
        _check(is_host_name(self.source) and is_host_name(self.destination), "bad host name")


@dataclass(frozen=True)
class SignedTicket(Message):
    ticket: TransferTicket
    signature: str


def encode_ticket(signed):
    """The ticket as one HTTP header value."""
    return base64.urlsafe_b64encode(canonical_json(signed.to_dict())).decode("ascii")


def decode_ticket(value):
    try:
        return SignedTicket.from_dict(json.loads(base64.urlsafe_b64decode(value.encode("ascii"))))
    except (ValueError, TypeError) as exc:
        raise ProtocolError(f"unreadable transfer ticket: {exc}") from exc


@dataclass(frozen=True)
class TransferSource(Message):
    """Where a destination reaches the source's transfer server."""

    host: str
    address: str
    port: int

    def validate(self):
        _check(is_host_name(self.host), "bad host name")
        _check(0 < len(self.address) <= 255, "bad address")
        _check(0 < self.port < 65536, "port out of range")


@dataclass(frozen=True)
class ReceiveMigration(Message):
    """Destination: fetch the handed-over disks, check them, define the domain, start it if ``start``.

    ``instance`` is the spec it runs with here (a resize's new size). When the
    source is this host (a resize on one host) nothing crosses the network.
    """

    instance: InstanceSpec
    migration_id: str
    source: TransferSource
    tickets: list[SignedTicket] = field(default_factory=list)
    start: bool = True

    def validate(self):
        _uuids(self, "migration_id")


@dataclass(frozen=True)
class FinishMigrationSource(MigrationTask):
    """Source: forget the handed-over copy; ``undefine`` the domain too (not when the instance stays here)."""

    undefine: bool = True


@dataclass(frozen=True)
class DiscardMigrationTarget(MigrationTask):
    """Destination: remove the domain and files this migration made here.

    ``keep_if_running``: a live migration whose outcome is unknown; if the guest
    runs here, it arrived: keep it and say so.
    """

    keep_if_running: bool = False


@dataclass(frozen=True)
class DiscardResult(Message):
    instance_id: str
    migration_id: str
    running_here: bool
    discarded: bool


@dataclass(frozen=True)
class RestoreMigrationSource(Message):
    """Source: take the handed-over copy back, define the domain as ``instance`` says, start it if asked."""

    instance: InstanceSpec
    migration_id: str
    start: bool

    def validate(self):
        _uuids(self, "migration_id")


@dataclass(frozen=True)
class MigrationPeer(Message):
    """The destination of a live migration: its name (its certificate's) and its migration gateway."""

    host: str
    address: str
    gateway_port: int

    def validate(self):
        _check(is_host_name(self.host), "bad host name")
        _check(0 < len(self.address) <= 255, "bad address")
        _check(0 < self.gateway_port < 65536, "port out of range")


@dataclass(frozen=True)
class PrepareLiveMigration(Message):
    """Destination: create the disks and expect ``source_host``'s libvirt at the gateway."""

    instance: InstanceSpec
    migration_id: str
    source_host: str

    def validate(self):
        _uuids(self, "migration_id")
        _check(is_host_name(self.source_host), "bad host name")


@dataclass(frozen=True)
class LiveMigrationTarget(Message):
    """Result of PREPARE_LIVE_MIGRATION: where the destination keeps instances (the domain XML's paths)."""

    instance_id: str
    migration_id: str
    data_dir: str

    def validate(self):
        _check(self.data_dir.startswith("/") and len(self.data_dir) <= 1024, "data_dir must be absolute")


@dataclass(frozen=True)
class LiveMigrate(Message):
    """Source: migrate the running guest to ``destination`` (libvirt, peer to peer, over TLS)."""

    instance: InstanceSpec
    migration_id: str
    destination: MigrationPeer
    destination_data_dir: str
    max_downtime_ms: int = 500
    bandwidth_mib_s: int = 0

    def validate(self):
        _uuids(self, "migration_id")
        _check(self.destination_data_dir.startswith("/"), "destination_data_dir must be absolute")
        _check(0 < self.max_downtime_ms <= 60000, "max_downtime_ms out of range")
        _check(0 <= self.bandwidth_mib_s <= 1_000_000, "bandwidth_mib_s out of range")


@dataclass(frozen=True)
class LiveMigrationResult(Message):
    instance_id: str
    migration_id: str


@dataclass(frozen=True)
class FinishLiveMigration(MigrationTask):
    """Destination: the guest runs here now; stop expecting the source."""


@dataclass(frozen=True)
class RecoveryRequest(Message):
    """POSTed to RECOVERY_PATH by an agent that starts, before it starts any guest."""

    protocol_version: int
    host: str
    sent_at: int

    def validate(self):
        _check(is_host_name(self.host), "host is not a valid host name")


@dataclass(frozen=True)
class DesiredInstance(Message):
    """An instance of the host, with what its guest should be doing."""

    instance: InstanceSpec
    power: str

    def validate(self):
        _check(self.power in DESIRED_POWER, f"power must be one of {DESIRED_POWER}")


@dataclass(frozen=True)
class Recovery(Message):
    """The controller's answer: a fenced host starts nothing and destroys its guests."""

    fenced: bool
    instances: list[DesiredInstance] = field(default_factory=list)


MOVE_TASK_PAYLOADS = {
    PREPARE_MIGRATION: PrepareMigration,
    RECEIVE_MIGRATION: ReceiveMigration,
    FINISH_MIGRATION_SOURCE: FinishMigrationSource,
    DISCARD_MIGRATION_TARGET: DiscardMigrationTarget,
    RESTORE_MIGRATION_SOURCE: RestoreMigrationSource,
    PREPARE_LIVE_MIGRATION: PrepareLiveMigration,
    LIVE_MIGRATE: LiveMigrate,
    FINISH_LIVE_MIGRATION: FinishLiveMigration,
}
MOVE_TASK_RESULTS = {
    PREPARE_MIGRATION: MigrationPrepared,
    RECEIVE_MIGRATION: MigrationReceived,
    FINISH_MIGRATION_SOURCE: DiscardResult,
    DISCARD_MIGRATION_TARGET: DiscardResult,
    RESTORE_MIGRATION_SOURCE: InstanceResult,
    PREPARE_LIVE_MIGRATION: LiveMigrationTarget,
    LIVE_MIGRATE: LiveMigrationResult,
    FINISH_LIVE_MIGRATION: InstanceResult,
}
