"""Cold migration and resize between two in-process hosts: real disks, a real transfer over mutual TLS.

Each host has its own data directory, image cache and fake driver (libvirt's
test driver would be one hypervisor for both, in one process); the disks are
real qcow2 files made and checked with qemu-img, the source's transfer server
and the destination's fetch talk TLS with certificates of the stub controller's
CA, and every ticket is signed with the stub controller's task key.
"""

import os
import subprocess
import time
import uuid

import pytest

from agent import protocol, qemu_img, signing, transfer
from agent.drivers.fake import FakeDriver
from agent.errors import AgentError
from agent.instance_files import InstanceFiles
from agent.operations import sha256_and_size
from agent.tests.builders import make_spec, new_id, succeeded
from agent.tests.conftest import InProcessAgent
from agent.transfer import TransferServer, handed_over

MIB = 1024 * 1024


class Host(InProcessAgent):
    def __init__(self, tmp_path, controller, name):
        super().__init__(tmp_path / name, controller, FakeDriver(), host=name)
        self.certify()
        self.server = TransferServer(self.data_dir, name, [controller.public_key], ("127.0.0.1", 0)).start()

    def source(self):
        return protocol.TransferSource(host=self.host, address="127.0.0.1", port=self.server.port)

    def files(self, spec):
        return InstanceFiles(self.data_dir, spec.instance_id)


@pytest.fixture
def two_hosts(tmp_path, controller):
    hosts = [Host(tmp_path, controller, name) for name in ("compute-a", "compute-b")]
    yield hosts
    for host in hosts:
        host.server.close()


def tickets(controller, prepared, source, destination, expires_in=60):
    return [
        signing.sign_ticket(
            controller.signing_key,
            protocol.TransferTicket(
                ticket_id=new_id(),
                migration_id=prepared.migration_id,
                source=source.host,
                destination=destination.host,
                file=disk,
                expires_at=int(time.time()) + expires_in,
            ),
        )
        for disk in prepared.disks
    ]


def spawned(host, spec):
    succeeded(host.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec)))
    # What the guest wrote: the copy must carry it.
    subprocess.run(
        ["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 1M 2M", str(host.files(spec).root_disk)],
        check=True,
        capture_output=True,
    )


def prepare(host, spec, migration_id):
    payload = protocol.PrepareMigration(spec.instance_id, migration_id, graceful_timeout_seconds=0)
    return succeeded(host.run(protocol.PREPARE_MIGRATION, payload))


def handed_over_guest(host, image):
    """A guest spawned on `host`, then prepared to move: (spec, migration id, the prepared result)."""
    spec = make_spec(image)
    spawned(host, spec)
    migration_id = new_id()
    return spec, migration_id, prepare(host, spec, migration_id)


def restore(host, spec, migration_id):
    payload = protocol.RestoreMigrationSource(spec, migration_id, True)
    return succeeded(host.run(protocol.RESTORE_MIGRATION_SOURCE, payload))


def finish_source(host, spec, migration_id):
    payload = protocol.FinishMigrationSource(spec.instance_id, migration_id)
    return succeeded(host.run(protocol.FINISH_MIGRATION_SOURCE, payload))


def receive(destination, spec, migration_id, source, signed, start=True):
    payload = protocol.ReceiveMigration(spec, migration_id, source.source(), signed, start)
    return destination.run(protocol.RECEIVE_MIGRATION, payload)


def same_content(first, second):
    return subprocess.run(["qemu-img", "compare", "-q", str(first), str(second)], check=False).returncode == 0


def test_a_cold_migration_moves_the_disks_and_the_destination_checks_rebases_and_starts_them(
    two_hosts, controller, image
):
    source, destination = two_hosts
    spec = make_spec(image, ephemeral_disk_mb=8)
    spawned(source, spec)
    migration_id = new_id()

    prepared = prepare(source, spec, migration_id)

    assert [d.name for d in prepared.disks] == ["root.qcow2", "ephemeral.qcow2"]
    assert source.driver.status(spec.instance_id).power_state == "shutoff"
    assert not source.files(spec).dir.exists()
    handed = handed_over(source.data_dir, migration_id)
    result = succeeded(
        receive(destination, spec, migration_id, source, tickets(controller, prepared, source, destination))
    )

    assert result.instance.power_state == "running"
    moved = destination.files(spec).root_disk
    assert [(d.name, d.sha256, d.size_bytes) for d in result.disks] == [
        (name, *sha256_and_size(handed / name)) for name in ("root.qcow2", "ephemeral.qcow2")
    ]
    assert moved.stat().st_ino != (handed / "root.qcow2").stat().st_ino
    assert same_content(moved, handed / "root.qcow2")
    chain = qemu_img.backing_chain(moved)
    assert chain == [str(moved), str(destination.data_dir / "images" / image.sha256)]
    assert destination.files(spec).ephemeral_disk.exists()

    done = finish_source(source, spec, migration_id)
    assert done.discarded
    assert not handed.exists()
    assert spec.instance_id not in source.driver.domains


def test_a_resize_grows_the_disks_and_is_refused_a_smaller_root_disk(two_hosts, controller, image):
    source, destination = two_hosts
    spec = make_spec(image, root_disk_mb=64)
    spawned(source, spec)
    migration_id = new_id()
    prepared = prepare(source, spec, migration_id)
    bigger = make_spec(image, instance_id=spec.instance_id, root_disk_mb=96, ephemeral_disk_mb=16, ram_mb=512)

    succeeded(
        receive(destination, bigger, migration_id, source, tickets(controller, prepared, source, destination))
    )

    files = destination.files(bigger)
    assert qemu_img.info(files.root_disk, "qcow2")["virtual-size"] == 96 * MIB
    assert qemu_img.info(files.ephemeral_disk, "qcow2")["virtual-size"] == 16 * MIB

    smaller_id = new_id()
    other = make_spec(image, root_disk_mb=64)
    spawned(source, other)
    prepared = prepare(source, other, smaller_id)
    shrunk = make_spec(image, instance_id=other.instance_id, root_disk_mb=32)
    refused = receive(
        destination, shrunk, smaller_id, source, tickets(controller, prepared, source, destination)
    )
    assert refused.error.code == protocol.ERR_ROOT_DISK_TOO_SMALL
    assert not destination.files(other).dir.exists()


def test_restoring_the_source_takes_the_copy_back_and_starts_the_guest(two_hosts, image):
    source, _ = two_hosts
    spec, migration_id, _ = handed_over_guest(source, image)

    result = restore(source, spec, migration_id)

    assert result.instance.power_state == "running"
    assert source.files(spec).root_disk.exists()
    assert not handed_over(source.data_dir, migration_id).exists()


def test_a_resize_on_one_host_copies_the_disk_and_a_revert_brings_back_the_old_one(two_hosts, image):
    host, _ = two_hosts
    spec = make_spec(image, root_disk_mb=64)
    spawned(host, spec)
    migration_id = new_id()
    prepared = prepare(host, spec, migration_id)
    bigger = make_spec(image, instance_id=spec.instance_id, root_disk_mb=128)
    local = [
        signing.sign_ticket(
            host.controller.signing_key,
            protocol.TransferTicket(
                new_id(), migration_id, host.host, host.host, disk, int(time.time()) + 60
            ),
        )
        for disk in prepared.disks
    ]

    succeeded(receive(host, bigger, migration_id, host, local))
    assert qemu_img.info(host.files(spec).root_disk, "qcow2")["virtual-size"] == 128 * MIB

    discard = protocol.DiscardMigrationTarget(spec.instance_id, migration_id)
    assert succeeded(host.run(protocol.DISCARD_MIGRATION_TARGET, discard)).discarded
    restore(host, spec, migration_id)
    assert qemu_img.info(host.files(spec).root_disk, "qcow2")["virtual-size"] == 64 * MIB
    assert host.driver.status(spec.instance_id).spec_sha256 == spec.spec_sha256()


def receive_while_the_source_sends_through(two_hosts, controller, image, monkeypatch, through):
    """Receive a handed-over guest while the source's transfer server passes each buffer through
    `through(view, write, handed root disk)`; (the report, the spec)."""
    source, destination = two_hosts
    spec, migration_id, prepared = handed_over_guest(source, image)
    root = handed_over(source.data_dir, migration_id) / "root.qcow2"
    original = transfer.send
    monkeypatch.setattr(
        transfer,
        "send",
        lambda path, size, write: original(path, size, lambda view: through(view, write, root)),
    )
    signed = tickets(controller, prepared, source, destination)
    return receive(destination, spec, migration_id, source, signed), spec


def test_a_disk_whose_bytes_differ_from_the_checksum_the_source_sends_is_not_kept(
    two_hosts, controller, image, monkeypatch
):
    def one_byte_changed_after_hashing(view, write, _root):
        write(bytes([view[0] ^ 0xFF]) + bytes(view[1:]))

    report, spec = receive_while_the_source_sends_through(
        two_hosts, controller, image, monkeypatch, one_byte_changed_after_hashing
    )

    assert report.error.code == protocol.ERR_DISK_CHECKSUM_MISMATCH
    assert not two_hosts[1].files(spec).dir.exists()
    assert spec.instance_id not in two_hosts[1].driver.domains


def test_a_disk_that_changes_while_it_is_sent_is_not_kept(two_hosts, controller, image, monkeypatch):
    def written_meanwhile(view, write, root):
        with root.open("r+b") as disk:
            disk.seek(2 * MIB)
            disk.write(b"written while the disk is sent")
        # Past the file system's timestamp granularity, whatever it is.
        os.utime(root, ns=(0, time.time_ns() + 10**9))
        write(view)

    report, spec = receive_while_the_source_sends_through(
        two_hosts, controller, image, monkeypatch, written_meanwhile
    )

    assert report.error.code == protocol.ERR_DISK_CHECKSUM_MISMATCH
    assert not two_hosts[1].files(spec).dir.exists()
    assert spec.instance_id not in two_hosts[1].driver.domains


def test_a_disk_shorter_than_the_ticket_says_is_not_served(two_hosts, controller, image):
    source, destination = two_hosts
    spec, migration_id, prepared = handed_over_guest(source, image)
    with (handed_over(source.data_dir, migration_id) / "root.qcow2").open("r+b") as disk:
        disk.truncate(MIB)

    report = receive(
        destination, spec, migration_id, source, tickets(controller, prepared, source, destination)
    )

    assert report.error.code == protocol.ERR_TRANSFER_FAILED
    assert not destination.files(spec).dir.exists()
    assert spec.instance_id not in destination.driver.domains


@pytest.mark.parametrize("backing", ["shadow", "images/" + "0" * 64], ids=["a host file", "another image"])
def test_a_disk_backed_by_anything_but_its_own_base_is_refused(
    two_hosts, controller, image, tmp_path, backing
):
    # Only the name goes in the header (`rebase -u` opens nothing): a file of the test's, never the host's.
    backing = tmp_path / backing
    source, destination = two_hosts
    spec, migration_id, _ = handed_over_guest(source, image)
    root = handed_over(source.data_dir, migration_id) / "root.qcow2"
    # A hostile source rewrites what it hands over, then reports the checksum of that.
    qemu_img.rebase_unsafe(root, backing, "raw")
    prepared = prepare(source, spec, migration_id)

    report = receive(
        destination, spec, migration_id, source, tickets(controller, prepared, source, destination)
    )

    assert report.error.code == protocol.ERR_DISK_REFUSED, report.error
    assert not destination.files(spec).dir.exists()


def test_a_disk_with_an_external_data_file_is_refused(two_hosts, controller, image, tmp_path):
    source, destination = two_hosts
    spec, migration_id, _ = handed_over_guest(source, image)
    root = handed_over(source.data_dir, migration_id) / "root.qcow2"
    root.unlink()
    # qemu-img creates (and truncates) the data file: one of the test's own, never a host file.
    outside = tmp_path / "outside-the-disk"
    qemu_img._run(["create", "-q", "-f", "qcow2", "-o", f"data_file={outside}", str(root), "1M"])
    prepared = prepare(source, spec, migration_id)

    report = receive(
        destination, spec, migration_id, source, tickets(controller, prepared, source, destination)
    )

    assert report.error.code == protocol.ERR_DISK_REFUSED, report.error


def test_the_transfer_server_refuses_a_ticket_for_another_peer_a_second_use_and_an_expired_one(
    two_hosts, controller, image, tmp_path
):
    source, destination = two_hosts
    thief = Host(tmp_path, controller, "compute-c")
    try:
        spec, migration_id, prepared = handed_over_guest(source, image)
        for_destination = tickets(controller, prepared, source, destination)

        stolen = receive(thief, spec, migration_id, source, for_destination)
        assert stolen.error.code == protocol.ERR_TRANSFER_FAILED
        assert "wrong_peer" in stolen.error.message or "not 'compute-c'" in stolen.error.message

        succeeded(receive(destination, spec, migration_id, source, for_destination))
        discard = protocol.DiscardMigrationTarget(spec.instance_id, migration_id)
        succeeded(destination.run(protocol.DISCARD_MIGRATION_TARGET, discard))
        again = receive(destination, spec, migration_id, source, for_destination)
        assert "already used" in again.error.message

        expired = receive(
            destination, spec, migration_id, source, tickets(controller, prepared, source, destination, -1)
        )
        assert "expired" in expired.error.message
        forged = [
            signing.sign_ticket(signing.generate_private_key(), signed.ticket)
            for signed in tickets(controller, prepared, source, destination)
        ]
        assert "signature" in receive(destination, spec, migration_id, source, forged).error.message
    finally:
        thief.server.close()


def test_discarding_leaves_a_copy_that_another_migration_did_not_make(two_hosts, image):
    host, _ = two_hosts
    spec = make_spec(image)
    spawned(host, spec)

    discard = protocol.DiscardMigrationTarget(spec.instance_id, str(uuid.uuid4()))
    result = succeeded(host.run(protocol.DISCARD_MIGRATION_TARGET, discard))

    assert result.discarded
    assert host.files(spec).root_disk.exists()
    assert host.driver.status(spec.instance_id).power_state == "running"


def test_finishing_the_source_never_removes_a_guest_that_came_back_and_runs(two_hosts, image):
    host, _ = two_hosts
    spec, migration_id, _ = handed_over_guest(host, image)
    restore(host, spec, migration_id)

    finish_source(host, spec, migration_id)

    assert host.driver.status(spec.instance_id).power_state == "running"
    assert host.files(spec).root_disk.exists()


def test_preparing_an_instance_with_no_files_here_says_there_is_nothing_to_move(two_hosts, image):
    host, _ = two_hosts
    with pytest.raises(AgentError) as refused:
        host.operations.run(
            protocol.PREPARE_MIGRATION,
            protocol.PrepareMigration(new_id(), new_id()),
            lambda *_: None,
            None,
        )
    assert refused.value.code == protocol.ERR_NOTHING_TO_MOVE
