"""What each task does on the host, from its verified payload to its result message.

Composes the driver (domains), the image cache (disks), the network manager
(NICs, network state, config drive) and the controller client (snapshot upload).
Every operation is idempotent: run again with the same payload, it leaves the host
as the first run did.

Each operation gets its task's Deadline (agent.watchdog). A spawn checks it
before it defines the domain and before it starts it, because a spawn the
watchdog abandoned goes on in its thread while the controller has already
failed it; and a spawn that fails or runs late removes what it made, so that
no guest runs that the controller does not count as running. A NIC is plugged
only once its port's filters exist on the host.
"""

import hashlib
import logging
import os
import shutil
from pathlib import Path

from . import config_drive, protocol, qemu_img
from .controller_client import ControllerError
from .drivers.base import PluggedNic
from .errors import AgentError
from .instance_files import FILE_MODE, PRIVATE_DIR_MODE, InstanceFiles, ensure_dir
from .network_protocol import empty_state

log = logging.getLogger(__name__)

MIB = 1024 * 1024
HASH_CHUNK_BYTES = 256 * 1024


class Operations:
    def __init__(self, driver, cache, client, data_dir, network=None):
        self.driver = driver
        self.cache = cache
        self.client = client
        self.data_dir = Path(data_dir)
        self.network = network
        self._handlers = {
            protocol.SPAWN_INSTANCE: self.spawn,
            protocol.START_INSTANCE: lambda p, *_: self._instance(self.driver.start(p.instance_id)),
            protocol.STOP_INSTANCE: lambda p, *_: self._instance(
                self.driver.stop(p.instance_id, p.graceful_timeout_seconds)
            ),
            protocol.REBOOT_INSTANCE: lambda p, *_: self._instance(
                self.driver.reboot(p.instance_id, p.hard, p.graceful_timeout_seconds)
            ),
            protocol.PAUSE_INSTANCE: lambda p, *_: self._instance(self.driver.pause(p.instance_id)),
            protocol.UNPAUSE_INSTANCE: lambda p, *_: self._instance(self.driver.unpause(p.instance_id)),
            protocol.SUSPEND_INSTANCE: lambda p, *_: self._instance(self.driver.suspend(p.instance_id)),
            protocol.RESUME_INSTANCE: lambda p, *_: self._instance(self.driver.resume(p.instance_id)),
            protocol.REBUILD_INSTANCE: self.rebuild,
            protocol.SNAPSHOT_INSTANCE: self.snapshot,
            protocol.DELETE_INSTANCE: self.delete,
            protocol.CONSOLE_LOG: self.console_log,
            protocol.PREFETCH_IMAGE: self.prefetch,
            protocol.INVENTORY: lambda p, *_: protocol.InventoryResult(self.driver.inventory()),
            protocol.SYNC_NETWORK: lambda p, *_: self._network().sync(p.generation),
            protocol.AUDIT_NETWORK: lambda p, *_: self._network().audit(p.repair),
            protocol.ATTACH_INTERFACE: self.attach_interface,
            protocol.DETACH_INTERFACE: lambda p, *_: self._instance(
                self.driver.detach_nic(p.instance_id, p.port_id, p.mac)
            ),
        }

    def add_handlers(self, handlers):
        """More tasks this host carries out: {task name: handler(payload, progress, deadline)}."""
        self._handlers.update(handlers)

    def run(self, task, payload, progress, deadline):
        """The result Message of one task; ``progress(percent, message)`` reports along the way."""
        return self._handlers[task](payload, progress, deadline)

    @staticmethod
    def _instance(status):
        return protocol.InstanceResult(instance=status)

    def files(self, instance_id):
        return InstanceFiles(self.data_dir, instance_id)

    # --- provisioning ----------------------------------------------------------------------

    def _network(self):
        if self.network is None:
            raise AgentError(protocol.ERR_NETWORK, "this agent has no network manager")
        return self.network

    def plugged(self, instance_id, nics):
        """The NICs as the hypervisor plugs them, once their ports are realized (filters first)."""
        if not nics:
            return []
        bindings = self._network().bindings([nic.port_id for nic in nics])
        plugged = []
        for nic in nics:
            port = self.network.state.port(nic.port_id)
            same = (port.instance_id, port.network_id, port.mac, port.device_name)
            if same != (instance_id, nic.network_id, nic.mac, nic.device_name):
                raise AgentError(
                    protocol.ERR_PORT_NOT_READY, f"port {nic.port_id} differs in the network state"
                )
            plugged.append(PluggedNic(nic.port_id, nic.device_name, nic.mac, *bindings[nic.port_id]))
        return plugged

    def nics_here(self, instance_id):
        """The instance's NICs as this host's applied network state holds its ports (PluggedNic): what a guest
        that arrived by live migration may have."""
        state = self.network.state if self.network is not None else None
        ports = [p for p in (state.ports if state is not None else ()) if p.instance_id == instance_id]
        return self.plugged(
            instance_id, [protocol.NicSpec(p.port_id, p.network_id, p.mac, p.device_name) for p in ports]
        )

    def write_config_drive(self, spec, files):
        try:
            meta = self._network().fetch_metadata(spec.instance_id)
        except (ControllerError, ValueError, protocol.ProtocolError) as exc:
            raise AgentError(protocol.ERR_METADATA_UNAVAILABLE, f"instance metadata: {exc}") from exc
        config_drive.write(files.config_drive, meta, self.network.state or empty_state(""))

    def spawn(self, payload, progress, deadline):
        spec = payload.instance
        files = self.files(spec.instance_id)
        # Before anything is made: a port that is not ready leaves nothing to remove.
        nics = self.plugged(spec.instance_id, spec.nics)
        try:
            self.prepare_disks(spec, files, progress)
            status = self._define_and_start(spec, files, nics, progress, deadline)
            # Started, but too late: the controller has failed this spawn and holds it in error.
            deadline.check("reporting the started domain")
        except BaseException as error:
            # A spec conflict is a domain this spawn did not make: it is never removed here.
            if getattr(error, "code", None) != protocol.ERR_SPEC_CONFLICT:
                self.discard(spec.instance_id, files)
            raise
        return self._instance(status)

    def attach_interface(self, payload, *_):
        (nic,) = self.plugged(payload.instance_id, [payload.nic])
        return self._instance(self.driver.attach_nic(payload.instance_id, nic))

    def rebuild(self, payload, progress, deadline):
        spec = payload.instance
        files = self.files(spec.instance_id)
        nics = self.plugged(spec.instance_id, spec.nics)
        self._power_off_if_defined(spec.instance_id)
        progress(10, "replacing the root disk")
        for path in (files.root_disk, files.kernel, files.ramdisk):
            path.unlink(missing_ok=True)
        self.prepare_disks(spec, files, progress)
        return self._instance(self._define_and_start(spec, files, nics, progress, deadline, replace=True))

    def _define_and_start(self, spec, files, nics, progress, deadline, replace=False):
        if spec.config_drive:
            self.write_config_drive(spec, files)
        deadline.check("defining the domain")
        self.driver.define(spec, files, replace=replace, nics=nics)
        deadline.check("starting the domain")
        progress(90, "starting the domain")
        return self.driver.start(spec.instance_id)

    def _power_off_if_defined(self, instance_id):
        """A rebuild also gives a guest back to an instance whose failed spawn left no domain."""
        try:
            self.driver.stop(instance_id, 0)
        except AgentError as error:
            if error.code != protocol.ERR_INSTANCE_NOT_FOUND:
                raise

    def discard(self, instance_id, files):
        """Remove the domain and files of a spawn that did not succeed; the spawn's own error is reported."""
        try:
            self.driver.delete(instance_id)
        except Exception:
            log.exception("instance %s: could not remove the domain of a failed spawn", instance_id)
        files.remove()

    def prepare_disks(self, spec, files, progress):
        files.create()

        def fetch_progress(done, total):
            progress(10 + int(60 * done / max(total, 1)), "fetching the image")

        base, _ = self.cache.ensure(spec.image, fetch_progress)
        progress(75, "creating the disks")
        self.cache.create_overlay(base, files.root_disk, spec.root_disk_mb * MIB)
        if spec.ephemeral_disk_mb:
            self.cache.create_blank(files.ephemeral_disk, spec.ephemeral_disk_mb * MIB)
        self.copy_boot_files(spec, files)

    def copy_boot_files(self, spec, files):
        """The kernel and ramdisk of a directly booted instance, from the cache."""
        for image, dest in ((spec.kernel, files.kernel), (spec.ramdisk, files.ramdisk)):
            if image is not None and not dest.exists():
                cached, _ = self.cache.ensure(image)
                # A private copy: libvirt relabels boot files for the guest that uses them.
                temp = dest.with_name(f".tmp-{dest.name}")
                shutil.copyfile(cached.path, temp)
                temp.chmod(FILE_MODE)
                os.rename(temp, dest)

    def prefetch(self, payload, progress, _deadline):
        image = payload.image
        _, already = self.cache.ensure(
            image, lambda done, total: progress(int(99 * done / total), "fetching")
        )
        return protocol.PrefetchResult(image.image_id, image.sha256, image.size_bytes, already)

    # --- other actions ---------------------------------------------------------------------

    def delete(self, payload, *_):
        existed = self.driver.delete(payload.instance_id)
        self.files(payload.instance_id).remove()
        return protocol.DeleteResult(instance_id=payload.instance_id, existed=existed)

    def snapshot(self, payload, progress, _deadline):
        files = self.files(payload.instance_id)
        exports = ensure_dir(self.data_dir / "snapshots", PRIVATE_DIR_MODE)
        dest = exports / f"{payload.image_id}.qcow2"
        dest.unlink(missing_ok=True)
        try:
            progress(10, "exporting the root disk")
            self.driver.export_disk(payload.instance_id, files.root_disk, dest)
            details = qemu_img.info(dest, "qcow2")
            sha256, size = sha256_and_size(dest)
            progress(60, "uploading the image")
            try:
                self.client.upload_image(payload.image_id, dest, sha256, size)
            except ControllerError as exc:
                raise AgentError(protocol.ERR_UPLOAD_FAILED, f"uploading the snapshot failed: {exc}") from exc
            return protocol.SnapshotResult(
                image_id=payload.image_id,
                sha256=sha256,
                size_bytes=size,
                virtual_size_bytes=int(details["virtual-size"]),
            )
        finally:
            dest.unlink(missing_ok=True)

    def console_log(self, payload, *_):
        files = self.files(payload.instance_id)
        if not files.dir.exists():
            raise AgentError(protocol.ERR_INSTANCE_NOT_FOUND, f"no files for instance {payload.instance_id}")
        try:
            with files.console_log.open("rb") as log_file:
                size = log_file.seek(0, os.SEEK_END)
                start = max(0, size - payload.max_bytes)
                log_file.seek(start)
                data = log_file.read(payload.max_bytes)
        except FileNotFoundError:
            size, start, data = 0, 0, b""
        text = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
        return protocol.ConsoleLogResult(text=text, size_bytes=size, truncated=start > 0)


def sha256_and_size(path):
    """The file's SHA-256 (hex) and size in bytes, read once through one reused buffer."""
    digest = hashlib.sha256()
    view = memoryview(bytearray(HASH_CHUNK_BYTES))
    size = 0
    with open(path, "rb") as source:
        while count := source.readinto(view):
            digest.update(view[:count])
            size += count
    return digest.hexdigest(), size
