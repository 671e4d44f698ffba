"""Whole operations in-process on libvirt's test driver, with images fetched over HTTP from a stub controller.

The stub (agent/tests/stub_controller.py) stands in for the controller's
internal agent endpoint, which is Django code the agent must not import.
"""

import hashlib

import pytest

from agent import protocol, qemu_img
from agent.drivers.libvirt_driver import LibvirtDriver
from agent.errors import AgentError
from agent.instance_files import InstanceFiles
from agent.tests.builders import SteppedClock, make_spec, qcow2_bytes, spawn_with
from agent.tests.conftest import InProcessAgent

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def libvirt_driver():
    driver = LibvirtDriver("test:///default", "qemu")
    yield driver
    driver.close()


@pytest.fixture
def agent(tmp_path, controller, libvirt_driver):
    return InProcessAgent(tmp_path, controller, libvirt_driver)


@pytest.fixture
def image(controller, tmp_path):
    return controller.add_image(qcow2_bytes(tmp_path, "32M"), "qcow2")


def succeeded(report):
    assert report.state == "succeeded", report.error
    return protocol.parse_result(report.task, report.result)


def test_spawn_builds_the_disks_from_the_cache_and_boots_the_kernel(agent, controller, image, tmp_path):
    kernel = controller.add_image(b"kernel bytes", "aki")
    ramdisk = controller.add_image(b"ramdisk bytes", "ari")
    spec = make_spec(
        image,
        root_disk_mb=128,
        ephemeral_disk_mb=16,
        kernel=kernel,
        ramdisk=ramdisk,
        kernel_cmdline="console=ttyS0",
    )

    result = succeeded(agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec)))

    files = InstanceFiles(tmp_path, spec.instance_id)
    assert result.instance.power_state == "running"
    root = qemu_img.info(files.root_disk, "qcow2")
    assert root["virtual-size"] == 128 * MIB
    assert root["full-backing-filename"] == str(tmp_path / "images" / image.sha256)
    assert qemu_img.info(files.ephemeral_disk, "qcow2")["virtual-size"] == 16 * MIB
    assert files.kernel.read_bytes() == b"kernel bytes"
    assert files.ramdisk.read_bytes() == b"ramdisk bytes"
    assert oct(files.dir.stat().st_mode & 0o777) == "0o711"
    for private in (files.root_disk, files.ephemeral_disk, files.kernel, tmp_path / "images" / image.sha256):
        assert oct(private.stat().st_mode & 0o777) == "0o600", private


def test_spawning_twice_keeps_the_disk_the_guest_already_wrote(agent, image, tmp_path):
    spec = make_spec(image)
    succeeded(agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec)))
    root = InstanceFiles(tmp_path, spec.instance_id).root_disk
    inode = root.stat().st_ino

    succeeded(agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec)))

    assert root.stat().st_ino == inode
    assert len(agent.cache.entries()) == 1


def test_a_spawn_that_started_after_its_deadline_undefines_the_domain_and_removes_its_files(
    agent, libvirt_driver, image, tmp_path
):
    spec = make_spec(image)

    with pytest.raises(AgentError) as late:
        spawn_with(agent, spec, SteppedClock(at="starting the domain"))

    assert late.value.code == protocol.ERR_TIMEOUT
    assert spec.instance_id not in {i.instance_id for i in libvirt_driver.inventory().instances}
    assert not InstanceFiles(tmp_path, spec.instance_id).dir.exists()


def test_a_root_disk_smaller_than_the_image_fails_the_spawn_with_its_code(agent, image):
    spec = make_spec(image, root_disk_mb=16)

    report = agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec))

    assert (report.state, report.error.code) == ("failed", protocol.ERR_ROOT_DISK_TOO_SMALL)


def test_rebuild_gives_a_new_root_disk_from_the_new_image_and_keeps_the_ephemeral_disk(
    agent, controller, image, tmp_path
):
    spec = make_spec(image, ephemeral_disk_mb=16)
    succeeded(agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec)))
    files = InstanceFiles(tmp_path, spec.instance_id)
    ephemeral_inode = files.ephemeral_disk.stat().st_ino
    new_image = controller.add_image(qcow2_bytes(tmp_path, "48M"), "qcow2")
    rebuilt = make_spec(
        new_image, **{k: v for k, v in spec.to_dict().items() if k not in ("image", "kernel", "ramdisk")}
    )

    result = succeeded(agent.run(protocol.REBUILD_INSTANCE, protocol.RebuildInstance(rebuilt)))

    assert result.instance.power_state == "running"
    assert result.instance.spec_sha256 == rebuilt.spec_sha256()
    assert qemu_img.info(files.root_disk, "qcow2")["full-backing-filename"].endswith(new_image.sha256)
    assert files.ephemeral_disk.stat().st_ino == ephemeral_inode


def test_snapshot_uploads_a_flattened_qcow2_of_the_root_disk(agent, controller, image, tmp_path):
    spec = make_spec(image)
    succeeded(agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec)))
    target = make_spec(image).instance_id  # any fresh UUID names the new image

    result = succeeded(
        agent.run(protocol.SNAPSHOT_INSTANCE, protocol.SnapshotInstance(spec.instance_id, target))
    )

    (uploaded,) = controller.uploads[target]
    assert hashlib.sha256(uploaded).hexdigest() == result.sha256
    assert result.size_bytes == len(uploaded)
    assert uploaded.startswith(b"QFI\xfb")
    assert result.virtual_size_bytes == 64 * MIB
    assert list((tmp_path / "snapshots").iterdir()) == []


def test_the_console_log_is_read_from_its_tail_with_plain_newlines(agent, image, tmp_path):
    spec = make_spec(image)
    succeeded(agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec)))
    InstanceFiles(tmp_path, spec.instance_id).console_log.write_bytes(b"boot\r\n" * 100 + b"TOKEN-42\r\n")

    whole = succeeded(agent.run(protocol.CONSOLE_LOG, protocol.ConsoleLogRequest(spec.instance_id)))
    tail = succeeded(
        agent.run(protocol.CONSOLE_LOG, protocol.ConsoleLogRequest(spec.instance_id, max_bytes=10))
    )

    assert whole.text.endswith("boot\nTOKEN-42\n")
    assert not whole.truncated
    assert (tail.text, tail.truncated, tail.size_bytes) == ("TOKEN-42\n", True, 610)


def test_delete_removes_the_domain_and_the_instance_files(agent, image, tmp_path):
    spec = make_spec(image)
    succeeded(agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec)))

    first = succeeded(agent.run(protocol.DELETE_INSTANCE, protocol.InstanceTask(spec.instance_id)))
    again = succeeded(agent.run(protocol.DELETE_INSTANCE, protocol.InstanceTask(spec.instance_id)))

    assert (first.existed, again.existed) == (True, False)
    assert not InstanceFiles(tmp_path, spec.instance_id).dir.exists()
    status = agent.run(protocol.START_INSTANCE, protocol.InstanceTask(spec.instance_id))
    assert status.error.code == protocol.ERR_INSTANCE_DELETED


def test_prefetch_warms_the_cache_once(agent, image):
    first = succeeded(agent.run(protocol.PREFETCH_IMAGE, protocol.PrefetchImage(image)))
    second = succeeded(agent.run(protocol.PREFETCH_IMAGE, protocol.PrefetchImage(image)))

    assert (first.already_cached, second.already_cached) == (False, True)


def test_every_power_action_reports_the_resulting_state(agent, image):
    spec = make_spec(image)
    succeeded(agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec)))
    steps = [
        (protocol.STOP_INSTANCE, protocol.StopInstance(spec.instance_id, 5), "shutoff"),
        (protocol.START_INSTANCE, protocol.InstanceTask(spec.instance_id), "running"),
        (protocol.REBOOT_INSTANCE, protocol.RebootInstance(spec.instance_id, hard=True), "running"),
        (protocol.PAUSE_INSTANCE, protocol.InstanceTask(spec.instance_id), "paused"),
        (protocol.UNPAUSE_INSTANCE, protocol.InstanceTask(spec.instance_id), "running"),
        (protocol.SUSPEND_INSTANCE, protocol.InstanceTask(spec.instance_id), "shutoff"),
        (protocol.RESUME_INSTANCE, protocol.InstanceTask(spec.instance_id), "running"),
    ]

    states = [succeeded(agent.run(task, payload)).instance.power_state for task, payload, _ in steps]

    assert states == [expected for _, _, expected in steps]


def test_an_image_the_controller_cannot_serve_fails_the_spawn_as_a_fetch_failure(agent, controller, image):
    del controller.images[image.image_id]

    report = agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(make_spec(image)))

    assert (report.state, report.error.code) == ("failed", protocol.ERR_IMAGE_FETCH_FAILED)
