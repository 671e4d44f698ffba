"""The interface every hypervisor driver implements, and what the operations mean.

Operations are idempotent ("make it so"): spawning an instance that already
exists with the same spec, stopping a stopped one or deleting a missing one
succeeds. Only domains carrying cloudmgr's metadata are ever acted on; an
instance id whose domain lacks it is "not found". Failures raise
agent.errors.AgentError with a protocol error code.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass

from .. import protocol
from ..errors import AgentError

DOMAIN_NAME_PREFIX = "cloudmgr-"


def domain_name(instance_id):
    return f"{DOMAIN_NAME_PREFIX}{instance_id}"


@dataclass(frozen=True)
class DomainCounters:
    """One running instance's statistics as its hypervisor counts them: totals since the domain
    started (they go back to zero when it restarts), memory as it is now."""

    instance_id: str
    cpu_time_ns: int
    memory_used_kib: int
    disk_read_bytes: int
    disk_write_bytes: int
    disk_read_ops: int
    disk_write_ops: int
    net_rx_bytes: int
    net_tx_bytes: int


@dataclass(frozen=True)
class PluggedNic:
    """A NIC as the hypervisor plugs it: the tap's name, the guest's MAC, the host's bridge and MTU."""

    port_id: str
    device_name: str
    mac: str
    bridge: str
    mtu: int


class Driver(ABC):
    """One hypervisor on this host. Methods are called from several worker threads at once,
    never twice at the same time for one instance (the worker holds a per-instance lock)."""

    @abstractmethod
    def hypervisor_info(self) -> protocol.HypervisorInfo: ...

    @abstractmethod
    def host_cpus_and_ram_mb(self) -> tuple[int, int]: ...

    @abstractmethod
    def define(self, spec, files, replace=False, nics=()) -> protocol.DomainStatus:
        """Define the persistent domain for ``spec`` (an InstanceSpec) with the disks and
        console log at ``files`` (InstanceFiles) and the NICs ``nics`` (PluggedNic, in the
        spec's order), without starting it. An existing domain with the same spec is kept;
        one with another spec is a spec_conflict unless ``replace`` (rebuild), which needs
        it shut off. Spawning is define, then start: the operation checks its deadline
        between the two."""

    @abstractmethod
    def attach_nic(self, instance_id, nic) -> protocol.DomainStatus:
        """Hot-plug a PluggedNic (and keep it in the definition); one already there is a no-op."""

    @abstractmethod
    def detach_nic(self, instance_id, port_id, mac) -> protocol.DomainStatus:
        """Unplug the NIC with ``mac``; one that is not there is a no-op."""

    @abstractmethod
    def start(self, instance_id) -> protocol.DomainStatus:
        """Power on (restoring a managed save if there is one)."""

    @abstractmethod
    def stop(self, instance_id, graceful_timeout_seconds) -> protocol.DomainStatus:
        """ACPI shutdown, then a forced power-off after the timeout."""

    @abstractmethod
    def reboot(self, instance_id, hard, graceful_timeout_seconds) -> protocol.DomainStatus:
        """Soft: graceful stop then start (hard when the guest ignores it). Hard: power cycle."""

    @abstractmethod
    def pause(self, instance_id) -> protocol.DomainStatus: ...

    @abstractmethod
    def unpause(self, instance_id) -> protocol.DomainStatus: ...

    @abstractmethod
    def suspend(self, instance_id) -> protocol.DomainStatus:
        """Managed save: memory to disk, domain off; start or resume restores it."""

    @abstractmethod
    def resume(self, instance_id) -> protocol.DomainStatus: ...

    @abstractmethod
    def export_disk(self, instance_id, disk_path, dest) -> None:
        """Write a consistent standalone qcow2 copy of ``disk_path`` (the guest is paused meanwhile)."""

    @abstractmethod
    def delete(self, instance_id) -> bool:
        """Power off and undefine (managed save included); True when the domain existed."""

    @abstractmethod
    def status(self, instance_id) -> protocol.DomainStatus: ...

    @abstractmethod
    def inventory(self) -> protocol.Inventory:
        """cloudmgr's domains with their power state, and the untagged domains (reported only)."""

    @abstractmethod
    def domain_counters(self) -> list[DomainCounters]:
        """The statistics of every running cloudmgr domain, read in one go."""

    @abstractmethod
    def close(self):
        """Release the hypervisor connection."""

    # --- live migration (agent.moves): a driver that cannot migrate running guests keeps these ---------

    supports_live_migration = False

    def accept_incoming(self, instance_id):
        """Before a live migration brings the guest here: no running domain may have its UUID here."""
        try:
            status = self.status(instance_id)
        except AgentError as error:
            if error.code == protocol.ERR_INSTANCE_NOT_FOUND:
                return
            raise
        if status.power_state != "shutoff":
            raise AgentError(protocol.ERR_SPEC_CONFLICT, f"{status.domain_name} already runs here")

    def live_migrate(self, spec, destination_files, peer, options, progress, deadline, nics=()):
        """Move the running guest of ``spec`` to ``peer`` (a protocol.MigrationPeer), its disks to
        ``destination_files`` there and its NICs ``nics`` (PluggedNic) onto the same bridges there; the
        domain is persisted there and undefined here. On any failure, and when ``deadline`` comes near,
        the migration is aborted and the guest runs on here."""
        raise AgentError(protocol.ERR_LIVE_MIGRATION_UNSUPPORTED, "this hypervisor does not migrate live")

    def finish_incoming(self, instance_id, files, nics=()) -> protocol.DomainStatus:
        """The guest a live migration brought here, with the instance's own files (`files`) and NICs
        (`nics`, PluggedNic: its ports as this host plugs them) and nothing else; it must be running."""
        raise AgentError(protocol.ERR_LIVE_MIGRATION_UNSUPPORTED, "this hypervisor does not migrate live")
