"""What a host does in moves between hosts (agent.moves_protocol): cold migration and resize, their
undoing, and live migration.

Files: an instance lives in ``instances/<id>/``. A source hands its copy over by
moving that directory to ``migrations/<migration id>/`` (after stopping the
guest): the domain, left defined, then names disks that are not there, so
nothing can start that copy by mistake, and the transfer server serves only
from there. A destination marks what a migration made with ``.migration``
(its id) in the instance's directory: discarding removes only what carries the
right mark, and a directory without it (the instance's own) is never touched.

Every operation is idempotent, and one that fails removes what it made, as a
spawn does: a destination that reports a failure runs no guest of that move.

NICs move with the guest: a destination (and a source taking its copy back)
plugs them as a spawn does (Operations.plugged), only once their ports are in
its applied network state, which the controller puts them in before the move's
first task; a live migration's source describes them, as bridged there, in the
domain it sends.
"""

import logging
import os
import shutil
import threading
import time
from pathlib import Path

from . import image_inspect, protocol, qemu_img, transfer
from .errors import AgentError
from .instance_files import FILE_MODE, PRIVATE_DIR_MODE, InstanceFiles, ensure_dir

log = logging.getLogger(__name__)

MIB = 1024 * 1024
MARKER = ".migration"


class MoveOperations:
    def __init__(self, operations, host, gateway=None):
        self.ops = operations
        self.driver = operations.driver
        self.cache = operations.cache
        self.data_dir = Path(operations.data_dir)
        self.host = host
        # The live migration gateway (agent.migration_gateway); None where the driver needs none.
        self.gateway = gateway

    def handlers(self):
        return {
            protocol.PREPARE_MIGRATION: self.prepare,
            protocol.RECEIVE_MIGRATION: self.receive,
            protocol.FINISH_MIGRATION_SOURCE: self.finish_source,
            protocol.DISCARD_MIGRATION_TARGET: self.discard_target,
            protocol.RESTORE_MIGRATION_SOURCE: self.restore_source,
            protocol.PREPARE_LIVE_MIGRATION: self.prepare_live,
            protocol.LIVE_MIGRATE: self.live_migrate,
            protocol.FINISH_LIVE_MIGRATION: self.finish_live,
        }

    def _handed(self, migration_id):
        return transfer.handed_over(self.data_dir, migration_id)

    # --- the source of a cold migration or a resize ------------------------------------------

    def prepare(self, payload, progress, _deadline):
        """Stop the guest, move its files aside, and say what the destination must receive."""
        files = self.ops.files(payload.instance_id)
        handed = self._handed(payload.migration_id)
        if not handed.exists():
            if not files.dir.exists():
                raise AgentError(protocol.ERR_NOTHING_TO_MOVE, f"no files of {payload.instance_id} here")
            progress(5, "stopping the guest")
            self._stop(payload.instance_id, payload.graceful_timeout_seconds)
            ensure_dir(handed.parent, PRIVATE_DIR_MODE)
            os.rename(files.dir, handed)
        # No checksum here: the transfer server hashes each file as it sends it (agent.transfer).
        disks = [
            protocol.HandedOverFile(name, (handed / name).stat().st_size)
            for name in protocol.DISK_NAMES
            if (handed / name).exists()
        ]
        return protocol.MigrationPrepared(payload.instance_id, payload.migration_id, disks)

    def _stop(self, instance_id, graceful_timeout_seconds):
        try:
            self.driver.stop(instance_id, graceful_timeout_seconds)
        except AgentError as error:
            # No domain (a hypervisor that lost its definitions): nothing runs from these files.
            if error.code != protocol.ERR_INSTANCE_NOT_FOUND:
                raise

    def finish_source(self, payload, *_):
        """Forget the handed-over copy; undefine the old domain unless the instance lives here again."""
        shutil.rmtree(self._handed(payload.migration_id), ignore_errors=True)
        files = self.ops.files(payload.instance_id)
        if payload.undefine and not files.dir.exists():
            try:
                status = self.driver.status(payload.instance_id)
            except AgentError as error:
                if error.code != protocol.ERR_INSTANCE_NOT_FOUND:
                    raise
            else:
                if status.power_state != "shutoff":
                    raise AgentError(protocol.ERR_INVALID_STATE, "the guest runs here: its domain stays")
                self.driver.delete(payload.instance_id)
        return protocol.DiscardResult(payload.instance_id, payload.migration_id, False, True)

    def restore_source(self, payload, *_):
        """Take the handed-over copy back (what a failed receive left here goes), define, start if asked."""
        spec = payload.instance
        files = self.ops.files(spec.instance_id)
        nics = self.ops.plugged(spec.instance_id, spec.nics)
        handed = self._handed(payload.migration_id)
        if handed.exists():
            if files.dir.exists():
                if _marker(files) != payload.migration_id:
                    raise AgentError(protocol.ERR_SPEC_CONFLICT, "the instance has other files here")
                self.ops.discard(spec.instance_id, files)
            os.rename(handed, files.dir)
        elif not files.dir.exists():
            raise AgentError(protocol.ERR_INSTANCE_NOT_FOUND, f"no copy of {spec.instance_id} to restore")
        (files.dir / MARKER).unlink(missing_ok=True)
        status = self.driver.define(spec, files, replace=True, nics=nics)
        if payload.start:
            status = self.driver.start(spec.instance_id)
        return protocol.InstanceResult(instance=status)

    # --- the destination ---------------------------------------------------------------------

    def receive(self, payload, progress, deadline):
        """Fetch and check every handed-over disk, fit the sizes, define the domain, start it if asked."""
        spec = payload.instance
        files = self.ops.files(spec.instance_id)
        # Before anything is made: a port that is not ready leaves nothing to remove.
        nics = self.ops.plugged(spec.instance_id, spec.nics)
        self._claim_target(files, payload.migration_id)
        prefetch = self._prefetch_base(spec.image)
        try:
            disks = [
                self._receive_disk(payload, signed.ticket.file, files, signed, number, progress)
                for number, signed in enumerate(payload.tickets)
            ]
            if not files.root_disk.exists():
                raise AgentError(protocol.ERR_NOTHING_TO_MOVE, "the root disk was not handed over")
            progress(85, "fitting the disks")
            self._fit_sizes(spec, files)
            self.ops.copy_boot_files(spec, files)
            if spec.config_drive:
                progress(88, "writing the config drive")
                self.ops.write_config_drive(spec, files)
            deadline.check("defining the domain")
            self.driver.define(spec, files, replace=True, nics=nics)
            if payload.start:
                deadline.check("starting the domain")
                status = self.driver.start(spec.instance_id)
            else:
                status = self.driver.status(spec.instance_id)
            deadline.check("reporting the moved domain")
        except BaseException:
            self.ops.discard(spec.instance_id, files)
            raise
        finally:
            prefetch.join()
        return protocol.MigrationReceived(instance=status, disks=disks)

    def _prefetch_base(self, image):
        """Fetch the instance's image into the cache while its disks arrive (a received overlay is rebased
        onto it). A failure is only logged: checking the disk fetches again and reports it."""

        def fetch():
            try:
                self.cache.ensure(image)
            except (AgentError, OSError) as exc:
                log.warning("prefetching image %s failed: %s", image.image_id, exc)

        thread = threading.Thread(target=fetch, name="prefetch-base", daemon=True)
        thread.start()
        return thread

    def _claim_target(self, files, migration_id):
        if files.dir.exists() and _marker(files) != migration_id:
            raise AgentError(protocol.ERR_SPEC_CONFLICT, "the instance already has files on this host")
        files.create()
        (files.dir / MARKER).write_text(migration_id)

    def _receive_disk(self, payload, expected, files, signed, number, progress):
        def fetched(done, total):
            share = 70 // max(len(payload.tickets), 1)
            progress(10 + share * number + int(share * done / max(total, 1)), f"receiving {expected.name}")

        incoming = files.dir / f".incoming-{expected.name}"
        if payload.source.host == self.host:
            source = self._handed(payload.migration_id) / expected.name
            received = transfer.copy_local(source, expected, incoming, fetched)
        else:
            received = transfer.fetch(self.data_dir, payload.source, signed, incoming, fetched)
        started = time.monotonic()
        try:
            self._accept_disk(payload.instance, incoming)
        except image_inspect.ImageRefused as exc:
            incoming.unlink(missing_ok=True)
            raise AgentError(protocol.ERR_DISK_REFUSED, f"{expected.name}: {exc}") from exc
        incoming.chmod(FILE_MODE)
        os.rename(incoming, files.dir / expected.name)
        log.info(
            "%s of %s checked in %.2f s",
            expected.name,
            payload.instance.instance_id,
            time.monotonic() - started,
        )
        return received

    def _accept_disk(self, spec, incoming):
        """A received disk is a qcow2 overlay of this host's copy of the instance's base, or stands alone."""
        backing = image_inspect.received_backing(incoming)
        base = None
        if backing is not None:
            if Path(backing).name != spec.image.sha256:
                raise image_inspect.ImageRefused("it is backed by something else than the instance's image")
            base, _ = self.cache.ensure(spec.image)
            qemu_img.rebase_unsafe(incoming, base.path, base.qemu_format)
        image_inspect.check_received_disk(incoming, base.path if base is not None else None)

    def _fit_sizes(self, spec, files):
        """Grow the disks to the spec's sizes (a resize); a smaller size than the disk has is refused."""
        _grow(files.root_disk, spec.root_disk_mb * MIB, protocol.ERR_ROOT_DISK_TOO_SMALL)
        if not spec.ephemeral_disk_mb:
            files.ephemeral_disk.unlink(missing_ok=True)
        elif files.ephemeral_disk.exists():
            _grow(files.ephemeral_disk, spec.ephemeral_disk_mb * MIB, protocol.ERR_SPEC_CONFLICT)
        else:
            self.cache.create_blank(files.ephemeral_disk, spec.ephemeral_disk_mb * MIB)

    def discard_target(self, payload, *_):
        """Remove what this migration made here; a guest that arrived stays if asked (and is said so)."""
        instance_id, migration_id = payload.instance_id, payload.migration_id
        files = self.ops.files(instance_id)
        if self.gateway is not None:
            self.gateway.forget(migration_id)
        if payload.keep_if_running and self._runs_here(instance_id):
            return protocol.DiscardResult(instance_id, migration_id, True, False)
        if files.dir.exists() and _marker(files) == migration_id:
            self.ops.discard(instance_id, files)
        return protocol.DiscardResult(instance_id, migration_id, False, True)

    def _runs_here(self, instance_id):
        try:
            return self.driver.status(instance_id).power_state == "running"
        except AgentError as error:
            if error.code == protocol.ERR_INSTANCE_NOT_FOUND:
                return False
            raise

    # --- live migration ------------------------------------------------------------------------

    def prepare_live(self, payload, progress, deadline):
        """Destination: the disks the guest's will be copied into, and the source expected at the gateway."""
        if not self.driver.supports_live_migration:
            raise AgentError(protocol.ERR_LIVE_MIGRATION_UNSUPPORTED, "this host does not migrate live")
        spec = payload.instance
        # The guest's NICs are filtered here before it can arrive (libvirt plugs them as it comes).
        self.ops.plugged(spec.instance_id, spec.nics)
        self.driver.accept_incoming(spec.instance_id)
        files = self.ops.files(spec.instance_id)
        self._claim_target(files, payload.migration_id)
        try:
            self.ops.prepare_disks(spec, files, progress)
            if spec.config_drive:
                self.ops.write_config_drive(spec, files)
            if self.gateway is not None:
                # The job's one deadline covers the source's migration too.
                self.gateway.expect(payload.source_host, payload.migration_id, deadline.at)
        except BaseException:
            self.ops.discard(spec.instance_id, files)
            raise
        return protocol.LiveMigrationTarget(spec.instance_id, payload.migration_id, str(self.data_dir))

    def live_migrate(self, payload, progress, deadline):
        """Source: migrate the running guest; once it runs there, its files here go."""
        spec = payload.instance
        destination_files = InstanceFiles(payload.destination_data_dir, spec.instance_id)
        # Bridges are named after their networks, so the NICs plug into the same ones there.
        nics = self.ops.plugged(spec.instance_id, spec.nics)
        self.driver.live_migrate(
            spec, destination_files, payload.destination, payload, progress, deadline, nics=nics
        )
        self.ops.files(spec.instance_id).remove()
        return protocol.LiveMigrationResult(spec.instance_id, payload.migration_id)

    def finish_live(self, payload, *_):
        """Destination: the guest arrived and runs; the move's mark and the gateway's window go."""
        nics = self.ops.nics_here(payload.instance_id)
        status = self.driver.finish_incoming(payload.instance_id, self.ops.files(payload.instance_id), nics)
        if self.gateway is not None:
            self.gateway.forget(payload.migration_id)
        (self.ops.files(payload.instance_id).dir / MARKER).unlink(missing_ok=True)
        return protocol.InstanceResult(instance=status)


def _marker(files):
    try:
        return (files.dir / MARKER).read_text().strip()
    except OSError:
        return None


def _grow(path, size_bytes, error_code):
    if not size_bytes:
        return
    current = int(qemu_img.info(path, "qcow2")["virtual-size"])
    if size_bytes < current:
        raise AgentError(error_code, f"{path.name} is {current} bytes: it cannot shrink to {size_bytes}")
    if size_bytes > current:
        qemu_img.resize(path, size_bytes)
