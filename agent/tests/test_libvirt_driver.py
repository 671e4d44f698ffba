"""The libvirt driver against libvirt's in-process test driver (test:///default), and its domain XML.

test:///default keeps one state per process and comes with an untagged domain
named "test": every test uses fresh instance UUIDs and that domain stands for
"something cloudmgr did not make".
"""

import xml.etree.ElementTree as ET

import libvirt
import pytest

from agent import protocol, qemu_img
from agent.drivers import domain_xml
from agent.drivers.base import PluggedNic
from agent.drivers.libvirt_driver import LibvirtDriver, resolve_domain_type
from agent.errors import AgentError
from agent.instance_files import InstanceFiles
from agent.tests.builders import make_spec, new_id

URI = "test:///default"


@pytest.fixture(scope="module")
def hypervisor():
    """A connection of the test's own: test:///default's state lives while any connection to it is open,
    as a real hypervisor outlives the agent's connection."""
    conn = libvirt.open(URI)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def driver(hypervisor):
    driver = LibvirtDriver(URI, "qemu")
    yield driver
    driver.close()


@pytest.fixture
def image():
    return protocol.ImageRef(new_id(), "d" * 64, 4096, "qcow2")


@pytest.fixture
def files(tmp_path):
    return lambda spec: InstanceFiles(tmp_path, spec.instance_id)


def spawned(driver, files, spec):
    """What a spawn does: define, then start."""
    assert driver.define(spec, files(spec)).power_state == "shutoff"
    status = driver.start(spec.instance_id)
    assert status.power_state == "running"
    return status


def test_the_domain_xml_has_the_spec_the_metadata_and_no_nic_or_graphics(tmp_path):
    kernel = protocol.ImageRef(new_id(), "e" * 64, 10, "aki")
    ramdisk = protocol.ImageRef(new_id(), "f" * 64, 10, "ari")
    image = protocol.ImageRef(new_id(), "d" * 64, 10, "qcow2")
    spec = make_spec(
        image,
        vcpus=2,
        ram_mb=512,
        ephemeral_disk_mb=100,
        kernel=kernel,
        ramdisk=ramdisk,
        kernel_cmdline="quiet",
    )
    files = InstanceFiles(tmp_path, spec.instance_id)

    root = ET.fromstring(domain_xml.build_domain_xml(spec, files, "qemu"))  # noqa: S314 (our own XML)

    assert root.get("type") == "qemu"
    assert root.findtext("uuid") == spec.instance_id
    assert root.findtext("vcpu") == "2"
    assert root.find("memory").attrib == {"unit": "MiB"}
    assert root.findtext("memory") == "512"
    assert root.findtext("os/kernel") == str(files.kernel)
    assert root.findtext("os/initrd") == str(files.ramdisk)
    assert root.findtext("os/cmdline") == "quiet"
    disks = {d.find("target").get("dev"): d.find("source").get("file") for d in root.iter("disk")}
    assert disks == {"vda": str(files.root_disk), "vdb": str(files.ephemeral_disk)}
    assert root.find("devices/serial/log").attrib == {"file": str(files.console_log), "append": "on"}
    assert root.find("devices/interface") is None
    assert root.find("devices/graphics") is None
    metadata = root.find(f"metadata/{{{domain_xml.METADATA_NS}}}instance")
    assert metadata.findtext(f"{{{domain_xml.METADATA_NS}}}spec-sha256") == spec.spec_sha256()
    assert metadata.findtext(f"{{{domain_xml.METADATA_NS}}}project") == spec.project_id


@pytest.mark.parametrize(
    ("flags", "expected"),
    [("fpu vme sse2 vmx", "kvm"), ("fpu svm sse2", "kvm"), ("fpu vme sse2 hypervisor", "qemu")],
)
def test_auto_picks_kvm_only_when_the_cpu_flags_show_hardware_virtualisation(tmp_path, flags, expected):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: {flags}\n")

    assert resolve_domain_type("auto", cpuinfo) == expected
    assert resolve_domain_type("qemu", cpuinfo) == "qemu"


def test_spawn_defines_a_persistent_tagged_domain_and_starts_it(hypervisor, driver, files, image):
    spec = make_spec(image)

    status = spawned(driver, files, spec)

    dom = hypervisor.lookupByUUIDString(spec.instance_id)
    assert dom.isPersistent()
    assert dom.isActive()
    assert status.spec_sha256 == spec.spec_sha256()
    assert status.domain_name == f"cloudmgr-{spec.instance_id}"


def test_spawning_the_same_spec_twice_does_no_harm(driver, files, image):
    spec = make_spec(image)
    first = spawned(driver, files, spec)

    assert driver.define(spec, files(spec)) == first
    second = driver.start(spec.instance_id)

    assert second == first
    ours = [i for i in driver.inventory().instances if i.instance_id == spec.instance_id]
    assert len(ours) == 1


def test_spawning_another_spec_over_an_existing_instance_is_a_conflict(driver, files, image):
    spec = make_spec(image)
    spawned(driver, files, spec)
    other = make_spec(image, instance_id=spec.instance_id, vcpus=4)

    with pytest.raises(AgentError) as error:
        driver.define(other, files(other))
    assert error.value.code == protocol.ERR_SPEC_CONFLICT


def test_a_graceful_stop_leaves_the_domain_off_with_reason_shutdown(driver, files, image):
    spec = make_spec(image)
    spawned(driver, files, spec)

    status = driver.stop(spec.instance_id, graceful_timeout_seconds=5)

    assert (status.power_state, status.reason) == ("shutoff", "shutdown")
    assert driver.stop(spec.instance_id, 5) == status


def test_a_forced_stop_is_reported_as_destroyed_not_as_a_guest_shutdown(driver, files, image):
    spec = make_spec(image)
    spawned(driver, files, spec)

    status = driver.stop(spec.instance_id, graceful_timeout_seconds=0)

    assert (status.power_state, status.reason) == ("shutoff", "destroyed")


def test_start_soft_and_hard_reboot_leave_the_domain_running(driver, files, image):
    spec = make_spec(image)
    spawned(driver, files, spec)
    driver.stop(spec.instance_id, 0)

    assert driver.start(spec.instance_id).power_state == "running"
    assert driver.reboot(spec.instance_id, hard=False, graceful_timeout_seconds=5).power_state == "running"
    assert driver.reboot(spec.instance_id, hard=True, graceful_timeout_seconds=5).power_state == "running"


def test_pause_and_unpause(driver, files, image):
    spec = make_spec(image)
    spawned(driver, files, spec)

    assert driver.pause(spec.instance_id).power_state == "paused"
    assert driver.pause(spec.instance_id).power_state == "paused"
    assert driver.unpause(spec.instance_id).power_state == "running"


def test_suspend_is_a_managed_save_that_resume_restores(driver, files, image):
    spec = make_spec(image)
    spawned(driver, files, spec)

    suspended = driver.suspend(spec.instance_id)
    assert (suspended.power_state, suspended.reason, suspended.has_managed_save) == ("shutoff", "saved", True)
    assert driver.suspend(spec.instance_id) == suspended

    resumed = driver.resume(spec.instance_id)
    assert (resumed.power_state, resumed.has_managed_save) == ("running", False)


def test_pausing_a_stopped_instance_is_an_invalid_state(driver, files, image):
    spec = make_spec(image)
    spawned(driver, files, spec)
    driver.stop(spec.instance_id, 0)

    with pytest.raises(AgentError) as error:
        driver.pause(spec.instance_id)
    assert error.value.code == protocol.ERR_INVALID_STATE


def test_rebuild_redefines_a_stopped_domain_with_the_new_spec(driver, files, image):
    spec = make_spec(image)
    spawned(driver, files, spec)
    driver.stop(spec.instance_id, 0)
    new_image = protocol.ImageRef(new_id(), "0" * 64, 4096, "qcow2")
    rebuilt = make_spec(new_image, instance_id=spec.instance_id, project_id=spec.project_id)

    driver.define(rebuilt, files(rebuilt), replace=True)
    status = driver.start(spec.instance_id)

    assert status.power_state == "running"
    assert status.spec_sha256 == rebuilt.spec_sha256()


def test_delete_undefines_the_domain_and_is_idempotent(driver, files, image):
    spec = make_spec(image)
    spawned(driver, files, spec)
    driver.suspend(spec.instance_id)

    assert driver.delete(spec.instance_id) is True
    assert driver.delete(spec.instance_id) is False
    with pytest.raises(AgentError) as error:
        driver.status(spec.instance_id)
    assert error.value.code == protocol.ERR_INSTANCE_NOT_FOUND


def test_inventory_lists_only_tagged_domains_and_reports_untagged_ones_untouched(
    hypervisor, driver, files, image
):
    spec = make_spec(image)
    spawned(driver, files, spec)
    untagged = hypervisor.lookupByName("test")
    state_before = untagged.state()

    inventory = driver.inventory()

    assert spec.instance_id in {i.instance_id for i in inventory.instances}
    assert "test" in {d.name for d in inventory.unmanaged_domains}
    assert "test" not in {i.domain_name for i in inventory.instances}
    assert untagged.state() == state_before


def test_an_untagged_domain_is_never_acted_on_even_by_its_uuid(hypervisor, driver):
    untagged = hypervisor.lookupByName("test")
    state_before = untagged.state()

    for action in (lambda i: driver.stop(i, 0), driver.delete, driver.pause):
        with pytest.raises(AgentError) as error:
            action(untagged.UUIDString())
        assert error.value.code == protocol.ERR_SPEC_CONFLICT
    assert untagged.state() == state_before
    assert untagged.isPersistent()


def test_export_disk_writes_a_standalone_copy_and_leaves_the_guest_running(driver, files, image, tmp_path):
    spec = make_spec(image)
    instance_files = files(spec)
    instance_files.create()
    base = tmp_path / "base.qcow2"
    qemu_img.create_blank(base, 32 * 1024 * 1024)
    qemu_img.create_overlay(base, "qcow2", instance_files.root_disk, 64 * 1024 * 1024)
    spawned(driver, files, spec)
    dest = tmp_path / "export.qcow2"

    driver.export_disk(spec.instance_id, instance_files.root_disk, dest)

    details = qemu_img.info(dest, "qcow2")
    assert "backing-filename" not in details
    assert details["virtual-size"] == 64 * 1024 * 1024
    assert driver.status(spec.instance_id).power_state == "running"


def test_the_shared_connection_is_reopened_when_it_drops(driver, files, image):
    spec = make_spec(image)
    spawned(driver, files, spec)
    driver.connection.get().close()

    assert driver.status(spec.instance_id).power_state == "running"


def test_hypervisor_info_names_the_driver_and_the_domain_type(driver):
    info = driver.hypervisor_info()

    assert (info.type, info.domain_type, info.uri) == ("TEST", "qemu", URI)
    cpus, ram_mb = driver.host_cpus_and_ram_mb()
    assert cpus > 0
    assert ram_mb > 0


def plugged(index):
    return PluggedNic(new_id(), f"tap{index:011x}", f"fa:16:3e:00:00:{index:02x}", "cmb-0123456789a", 1450)


def test_the_domain_xml_has_a_virtio_nic_per_port_on_its_bridge_and_the_config_drive_as_a_read_only_cdrom(
    tmp_path,
):
    spec = make_spec(protocol.ImageRef(new_id(), "d" * 64, 10, "qcow2"), config_drive=True)
    files = InstanceFiles(tmp_path, spec.instance_id)
    nics = [plugged(1), plugged(2)]

    root = ET.fromstring(domain_xml.build_domain_xml(spec, files, "qemu", nics))  # noqa: S314 (our own XML)

    interfaces = root.findall("devices/interface")
    assert [i.get("type") for i in interfaces] == ["bridge", "bridge"]
    assert [
        (
            i.find("source").get("bridge"),
            i.find("mac").get("address"),
            i.find("model").get("type"),
            i.find("target").get("dev"),
            i.find("mtu").get("size"),
        )
        for i in interfaces
    ] == [(n.bridge, n.mac, "virtio", n.device_name, "1450") for n in nics]
    [cdrom] = [d for d in root.iter("disk") if d.get("device") == "cdrom"]
    assert cdrom.find("source").get("file") == str(files.config_drive)
    assert (cdrom.find("target").get("dev"), cdrom.find("target").get("bus")) == ("hdc", "ide")
    assert cdrom.find("readonly") is not None
