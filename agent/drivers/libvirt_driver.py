"""The libvirt driver: instances as persistent libvirt domains tagged with cloudmgr's metadata.

The URI is a setting: ``qemu:///system`` on real hosts, ``test:///default`` for
fast tests (libvirt's in-process test driver accepts the same XML). Every
operation looks the domain up by the instance's UUID on the current shared
connection, so a call retried after a reconnect starts from scratch.
"""

import contextlib
import logging
import platform
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt

from .. import protocol, qemu_img
from ..errors import AgentError
from . import domain_xml, libvirt_migration, libvirt_stats
from .base import Driver, domain_name
from .connection import SharedConnection

log = logging.getLogger(__name__)

DOMAIN_TYPES = ("auto", "kvm", "qemu")
POLL_SECONDS = 0.2
STATE_NAMES = {
    libvirt.VIR_DOMAIN_NOSTATE: "nostate",
    libvirt.VIR_DOMAIN_RUNNING: "running",
    libvirt.VIR_DOMAIN_BLOCKED: "blocked",
    libvirt.VIR_DOMAIN_PAUSED: "paused",
    libvirt.VIR_DOMAIN_SHUTDOWN: "shutting_down",
    libvirt.VIR_DOMAIN_SHUTOFF: "shutoff",
    libvirt.VIR_DOMAIN_CRASHED: "crashed",
    libvirt.VIR_DOMAIN_PMSUSPENDED: "suspended",
}
# libvirt's reason enums, in libvirt's order, per state.
REASON_NAMES = {
    libvirt.VIR_DOMAIN_SHUTOFF: protocol.SHUTOFF_REASONS,
    libvirt.VIR_DOMAIN_RUNNING: (
        "unknown",
        "booted",
        "migrated",
        "restored",
        "from_snapshot",
        "unpaused",
        "migration_canceled",
        "save_canceled",
        "wakeup",
        "crashed",
        "postcopy",
        "postcopy_failed",
    ),
    libvirt.VIR_DOMAIN_PAUSED: (
        "unknown",
        "user",
        "migration",
        "save",
        "dump",
        "ioerror",
        "watchdog",
        "from_snapshot",
        "shutting_down",
        "snapshot",
        "crashed",
        "starting_up",
        "postcopy",
        "postcopy_failed",
        "api_error",
    ),
    libvirt.VIR_DOMAIN_CRASHED: ("unknown", "panicked"),
}
# No NVRAM flag: cloudmgr's domains boot with BIOS or a direct kernel, never UEFI.
UNDEFINE_FLAGS = libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA


def resolve_domain_type(setting, cpuinfo_path="/proc/cpuinfo"):
    """``auto`` means kvm only when the CPU flags show hardware virtualisation (vmx or svm).

    A /dev/kvm alone is not enough: some hosts expose one that cannot boot guests.
    """
    if setting not in DOMAIN_TYPES:
        raise ValueError(f"domain type must be one of {DOMAIN_TYPES}, not {setting!r}")
    if setting != "auto":
        return setting
    try:
        text = Path(cpuinfo_path).read_text()
    except OSError:
        return "qemu"
    for line in text.splitlines():
        if line.startswith("flags") and {"vmx", "svm"} & set(line.split(":", 1)[-1].split()):
            return "kvm"
    return "qemu"


@contextlib.contextmanager
def _hypervisor_errors(action):
    try:
        yield
    except libvirt.libvirtError as exc:
        raise AgentError(protocol.ERR_HYPERVISOR, f"{action}: {exc.get_error_message()}") from exc


def _version_text(number):
    return f"{number // 1_000_000}.{number // 1000 % 1000}.{number % 1000}"


class LibvirtDriver(Driver):
    def __init__(self, uri, domain_type="auto", cpuinfo_path="/proc/cpuinfo", pki_dir=None):
        self.connection = SharedConnection(uri)
        self.domain_type = resolve_domain_type(domain_type, cpuinfo_path)
        # This host's TLS files (agent.pki), which its libvirtd presents to a migration's destination.
        self.pki_dir = pki_dir

    @property
    def supports_live_migration(self):
        """libvirt's test driver keeps its guests in one process: nothing to migrate them to."""
        return self.pki_dir is not None and not self.connection.uri.startswith("test:")

    def _call(self, action, function):
        with _hypervisor_errors(action):
            return self.connection.call(function)

    # --- lookups and status ----------------------------------------------------------------

    @staticmethod
    def _find(conn, instance_id):
        """The domain with this UUID, or None; a domain without cloudmgr's metadata is refused."""
        try:
            dom = conn.lookupByUUIDString(instance_id)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            raise
        if _metadata(dom) is None:
            raise AgentError(
                protocol.ERR_SPEC_CONFLICT,
                f"domain {dom.name()} has the instance's UUID but no cloudmgr metadata; not touched",
            )
        return dom

    def _get(self, conn, instance_id):
        dom = self._find(conn, instance_id)
        if dom is None:
            raise AgentError(protocol.ERR_INSTANCE_NOT_FOUND, f"no domain for instance {instance_id}")
        return dom

    @staticmethod
    def _status(dom, metadata=None):
        metadata = metadata or _metadata(dom) or {}
        state, reason = dom.state()
        reasons = REASON_NAMES.get(state, ())
        return protocol.DomainStatus(
            instance_id=dom.UUIDString(),
            domain_name=dom.name(),
            power_state=STATE_NAMES.get(state, "nostate"),
            reason=reasons[reason] if reason < len(reasons) else "unknown",
            has_managed_save=bool(dom.hasManagedSaveImage(0)),
            spec_sha256=metadata.get("spec-sha256", ""),
        )

    def status(self, instance_id):
        return self._call("status", lambda conn: self._status(self._get(conn, instance_id)))

    def inventory(self):
        def collect(conn):
            instances, unmanaged = [], []
            for dom in conn.listAllDomains(0):
                metadata = _metadata(dom)
                if metadata is None:
                    state = STATE_NAMES.get(dom.state()[0], "nostate")
                    unmanaged.append(protocol.UnmanagedDomain(dom.name(), dom.UUIDString(), state))
                else:
                    instances.append(self._status(dom, metadata))
            return protocol.Inventory(instances=instances, unmanaged_domains=unmanaged)

        return self._call("inventory", collect)

    def hypervisor_info(self):
        def read(conn):
            return protocol.HypervisorInfo(
                type=conn.getType(),
                version=_version_text(conn.getVersion()),
                libvirt_version=_version_text(conn.getLibVersion()),
                domain_type=self.domain_type,
                arch=platform.machine(),
                uri=self.connection.uri,
            )

        return self._call("hypervisor info", read)

    def host_cpus_and_ram_mb(self):
        info = self._call("host info", lambda conn: conn.getInfo())
        return info[2], info[1]

    # --- lifecycle -------------------------------------------------------------------------

    def define(self, spec, files, replace=False, nics=()):
        xml = domain_xml.build_domain_xml(spec, files, self.domain_type, nics)
        wanted = spec.spec_sha256()

        def run(conn):
            dom = self._find(conn, spec.instance_id)
            if dom is None:
                dom = conn.defineXML(xml)
            elif _metadata(dom).get("spec-sha256") != wanted:
                if not replace:
                    raise AgentError(
                        protocol.ERR_SPEC_CONFLICT, f"{dom.name()} exists with another specification"
                    )
                if dom.isActive():
                    raise AgentError(protocol.ERR_INVALID_STATE, f"{dom.name()} must be off to be redefined")
                if dom.hasManagedSaveImage(0):
                    dom.managedSaveRemove(0)
                dom = conn.defineXML(xml)
            return self._status(dom)

        return self._call(f"define {domain_name(spec.instance_id)}", run)

    def attach_nic(self, instance_id, nic):
        def run(conn):
            dom = self._get(conn, instance_id)
            if nic.mac not in _interface_macs(dom):
                flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
                flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE if dom.isActive() else 0
                dom.attachDeviceFlags(domain_xml.interface_xml(nic), flags)
            return self._status(dom)

        return self._call("attach interface", run)

    def detach_nic(self, instance_id, port_id, mac):
        def run(conn):
            dom = self._get(conn, instance_id)
            device = _interface_macs(dom).get(mac)
            if device is not None:
                flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
                flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE if dom.isActive() else 0
                dom.detachDeviceFlags(device, flags)
            return self._status(dom)

        return self._call("detach interface", run)

    def start(self, instance_id):
        def run(conn):
            dom = self._get(conn, instance_id)
            if not dom.isActive():
                dom.create()
            return self._status(dom)

        return self._call("start", run)

    def stop(self, instance_id, graceful_timeout_seconds):
        def run(conn):
            dom = self._get(conn, instance_id)
            self._power_off(dom, graceful_timeout_seconds)
            return self._status(dom)

        return self._call("stop", run)

    def _power_off(self, dom, graceful_timeout_seconds):
        """Shut the domain off; True when the guest did it itself within the timeout."""
        if not dom.isActive():
            return True
        if graceful_timeout_seconds > 0 and dom.state()[0] != libvirt.VIR_DOMAIN_PAUSED:
            with contextlib.suppress(libvirt.libvirtError):
                dom.shutdown()
            deadline = time.monotonic() + graceful_timeout_seconds
            while dom.isActive() and time.monotonic() < deadline:
                time.sleep(POLL_SECONDS)
            if not dom.isActive():
                return True
            log.info(
                "%s ignored the shutdown request for %d s; powering off", dom.name(), graceful_timeout_seconds
            )
        try:
            dom.destroy()
        except libvirt.libvirtError:
            if dom.isActive():
                raise
        return False

    def reboot(self, instance_id, hard, graceful_timeout_seconds):
        def run(conn):
            dom = self._get(conn, instance_id)
            self._power_off(dom, 0 if hard else graceful_timeout_seconds)
            dom.create()
            return self._status(dom)

        return self._call("reboot", run)

    def pause(self, instance_id):
        return self._transition(instance_id, "pause", {libvirt.VIR_DOMAIN_RUNNING: "suspend"}, "paused")

    def unpause(self, instance_id):
        return self._transition(instance_id, "unpause", {libvirt.VIR_DOMAIN_PAUSED: "resume"}, "running")

    def suspend(self, instance_id):
        def run(conn):
            dom = self._get(conn, instance_id)
            if not dom.isActive() and dom.hasManagedSaveImage(0):
                return self._status(dom)
            if not dom.isActive():
                raise AgentError(protocol.ERR_INVALID_STATE, f"{dom.name()} is off: nothing to suspend")
            dom.managedSave(0)
            return self._status(dom)

        return self._call("suspend", run)

    def resume(self, instance_id):
        def run(conn):
            dom = self._get(conn, instance_id)
            if not dom.isActive():
                if not dom.hasManagedSaveImage(0):
                    raise AgentError(protocol.ERR_INVALID_STATE, f"{dom.name()} is not suspended")
                dom.create()
            return self._status(dom)

        return self._call("resume", run)

    def _transition(self, instance_id, action, methods, done_state):
        def run(conn):
            dom = self._get(conn, instance_id)
            status = self._status(dom)
            if status.power_state == done_state:
                return status
            method = methods.get(dom.state()[0])
            if method is None:
                raise AgentError(
                    protocol.ERR_INVALID_STATE, f"cannot {action} {dom.name()}: {status.power_state}"
                )
            getattr(dom, method)()
            return self._status(dom)

        return self._call(action, run)

    def export_disk(self, instance_id, disk_path, dest):
        def run(conn):
            dom = self._get(conn, instance_id)
            was_running = dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
            if was_running:
                dom.suspend()  # qemu flushes its caches when the guest stops: the copy is consistent
            try:
                qemu_img.convert_to_qcow2(disk_path, "qcow2", dest, force_share=True)
            except qemu_img.QemuImgError as exc:
                raise AgentError(protocol.ERR_HYPERVISOR, f"exporting the disk failed: {exc}") from exc
            finally:
                if was_running:
                    dom.resume()

        self._call("export disk", run)

    def delete(self, instance_id):
        def run(conn):
            dom = self._find(conn, instance_id)
            if dom is None:
                return False
            self._power_off(dom, 0)
            dom.undefineFlags(UNDEFINE_FLAGS)
            return True

        return self._call("delete", run)

    def live_migrate(self, spec, destination_files, peer, options, progress, deadline, nics=()):
        if not self.supports_live_migration:
            return super().live_migrate(spec, destination_files, peer, options, progress, deadline, nics)
        uri = libvirt_migration.destination_uri(peer, self.pki_dir)
        params = libvirt_migration.parameters(spec, destination_files, peer, options, self.domain_type, nics)

        def run(conn):
            dom = self._get(conn, spec.instance_id)
            if dom.state()[0] != libvirt.VIR_DOMAIN_RUNNING:
                raise AgentError(protocol.ERR_INVALID_STATE, f"{dom.name()} is not running")
            libvirt_migration.migrate(dom, uri, params, options, progress, deadline)

        # Not retried on a new connection: the migration may have gone on without this one.
        with _hypervisor_errors("live migration"):
            run(self.connection.get())

    def finish_incoming(self, instance_id, files, nics=()):
        def run(conn):
            dom = self._get(conn, instance_id)
            foreign = domain_xml.foreign_parts(dom.XMLDesc(0), files, nics)
            if foreign:
                # The source sent the domain's XML: what is not the instance's own never runs here.
                self._power_off(dom, 0)
                dom.undefineFlags(UNDEFINE_FLAGS)
                raise AgentError(protocol.ERR_SPEC_CONFLICT, f"the migrated guest is not its own: {foreign}")
            status = self._status(dom)
            if status.power_state != "running":
                raise AgentError(protocol.ERR_INVALID_STATE, f"the migrated guest is {status.power_state}")
            return status

        return self._call("finish the incoming migration", run)

    def domain_counters(self):
        return self._call("statistics", libvirt_stats.domain_counters)

    def close(self):
        self.connection.close()


def _interface_macs(dom):
    """{MAC: the <interface> element's XML} of a domain's current definition."""
    root = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))  # noqa: S314 (libvirt's own XML)
    found = {}
    for interface in root.findall("./devices/interface"):
        mac = interface.find("mac")
        if mac is not None:
            found[mac.get("address")] = ET.tostring(interface, encoding="unicode")
    return found


def _metadata(dom):
    try:
        text = dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, domain_xml.METADATA_NS)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_METADATA:
            return None
        raise
    return domain_xml.parse_metadata(text)
