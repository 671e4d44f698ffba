"""Live migration on the agent: the orchestration between two hosts with the fake driver, the exact call the
libvirt driver makes (a recording connection stands in for libvirtd: one machine cannot host two libvirtds
that migrate to each other), and the gateway that admits only the expected source.
"""

import socket
import ssl
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt
import pytest

from agent import pki, protocol
from agent.drivers import domain_xml
from agent.drivers.base import PluggedNic
from agent.drivers.fake import FakeDriver
from agent.drivers.libvirt_driver import LibvirtDriver
from agent.errors import AgentError
from agent.instance_files import InstanceFiles
from agent.migration_gateway import MigrationGateway
from agent.tests.builders import make_spec, new_id, succeeded
from agent.tests.conftest import InProcessAgent
from agent.watchdog import Deadline


@pytest.fixture
def fake_pair(tmp_path, controller):
    fabric = tmp_path / "fabric"
    return [
        InProcessAgent(tmp_path / name, controller, FakeDriver(fabric_dir=fabric), host=name)
        for name in ("compute-a", "compute-b")
    ]


def peer(name="compute-b", address="192.0.2.7"):
    return protocol.MigrationPeer(host=name, address=address, gateway_port=16514)


def migrate(source, spec, migration_id, target, ttl=30):
    payload = protocol.LiveMigrate(spec, migration_id, peer(), target.data_dir)
    return source.run(protocol.LIVE_MIGRATE, payload, ttl=ttl)


def running_and_prepared(source, destination, image):
    """A guest running on the source, the destination prepared for it: (spec, migration id, target)."""
    spec = make_spec(image)
    succeeded(source.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec)))
    migration_id = new_id()
    target = succeeded(
        destination.run(
            protocol.PREPARE_LIVE_MIGRATION, protocol.PrepareLiveMigration(spec, migration_id, source.host)
        )
    )
    return spec, migration_id, target


def test_a_guest_migrates_live_from_one_fake_host_to_the_other(fake_pair, image):
    source, destination = fake_pair
    spec, migration_id, target = running_and_prepared(source, destination, image)

    succeeded(migrate(source, spec, migration_id, target))
    arrived = succeeded(
        destination.run(
            protocol.FINISH_LIVE_MIGRATION, protocol.FinishLiveMigration(spec.instance_id, migration_id)
        )
    )

    assert target.data_dir == str(destination.data_dir)
    assert arrived.instance.power_state == "running"
    assert spec.instance_id not in source.driver.domains
    assert not InstanceFiles(source.data_dir, spec.instance_id).dir.exists()
    assert InstanceFiles(destination.data_dir, spec.instance_id).root_disk.exists()


def test_a_migration_that_does_not_converge_is_aborted_at_its_deadline_and_the_guest_runs_on_here(
    fake_pair, image
):
    source, destination = fake_pair
    spec, migration_id, target = running_and_prepared(source, destination, image)
    source.driver.faults["live_migrate"] = "stall"

    report = migrate(source, spec, migration_id, target, ttl=2)

    assert report.error.code == protocol.ERR_MIGRATION_ABORTED
    assert source.driver.status(spec.instance_id).power_state == "running"
    assert InstanceFiles(source.data_dir, spec.instance_id).root_disk.exists()
    discarded = succeeded(
        destination.run(
            protocol.DISCARD_MIGRATION_TARGET,
            protocol.DiscardMigrationTarget(spec.instance_id, migration_id, keep_if_running=True),
        )
    )
    assert (discarded.running_here, discarded.discarded) == (False, True)
    assert not InstanceFiles(destination.data_dir, spec.instance_id).dir.exists()


def test_a_destination_whose_hypervisor_cannot_migrate_refuses_to_prepare(tmp_path, controller, image):
    class Unmovable(FakeDriver):
        supports_live_migration = False

    host = InProcessAgent(tmp_path, controller, Unmovable())
    spec = make_spec(image)

    report = host.run(
        protocol.PREPARE_LIVE_MIGRATION, protocol.PrepareLiveMigration(spec, new_id(), "compute-a")
    )

    assert report.error.code == protocol.ERR_LIVE_MIGRATION_UNSUPPORTED
    assert not InstanceFiles(tmp_path, spec.instance_id).dir.exists()


# --- the libvirt driver's call, recorded ------------------------------------------------------------


class RecordingDomain:
    def __init__(self, spec, block=False):
        self.spec = spec
        self.calls = []
        self.block = block
        self.aborted = threading.Event()
        self.migrated = False

    def UUIDString(self):
        return self.spec.instance_id

    def name(self):
        return f"cloudmgr-{self.spec.instance_id}"

    def state(self):
        return [libvirt.VIR_DOMAIN_RUNNING, 1]

    def metadata(self, *_):
        return ET.tostring(domain_xml.metadata_element(self.spec), encoding="unicode")

    def migrateSetMaxDowntime(self, downtime, flags):
        self.calls.append(("migrateSetMaxDowntime", downtime, flags))

    def migrateToURI3(self, uri, params, flags):
        self.calls.append(("migrateToURI3", uri, params, flags))
        if self.block and self.aborted.wait(10):
            raise libvirt.libvirtError("operation aborted: migration job: canceled by client")
        self.migrated = True

    def jobStats(self, flags):
        return {"data_total": 100 * 1024 * 1024, "data_processed": 40 * 1024 * 1024}

    def abortJob(self):
        self.calls.append(("abortJob",))
        self.aborted.set()


class RecordingConnection:
    """Stands for LibvirtDriver's SharedConnection to a qemu:///system, recording what is asked of it."""

    uri = "qemu:///system"

    def __init__(self, dom):
        self.dom = dom

    def lookupByUUIDString(self, instance_id):
        return self.dom

    def get(self):
        return self

    def call(self, function):
        return function(self)


@pytest.fixture
def certified(tmp_path, controller):
    agent = InProcessAgent(tmp_path, controller, FakeDriver(), host="compute-a")
    agent.certify()
    return pki.pki_dir(tmp_path)


def recording_driver(pki_dir, dom):
    driver = LibvirtDriver("qemu:///system", "qemu", pki_dir=pki_dir)
    driver.connection = RecordingConnection(dom)
    return driver


def migrate_recorded(driver, spec, options, seconds):
    """The driver's live migration of `spec` to peer(), files under /srv/agent, within `seconds`."""
    progress = []
    files = InstanceFiles("/srv/agent", spec.instance_id)
    driver.live_migrate(
        spec, files, peer(), options, lambda *report: progress.append(report), Deadline(time.time() + seconds)
    )
    return progress


def test_the_libvirt_driver_migrates_peer_to_peer_over_tls_with_the_hosts_certificates(certified, image):
    spec = make_spec(image, ephemeral_disk_mb=16)
    dom = RecordingDomain(spec)
    driver = recording_driver(certified, dom)
    options = protocol.LiveMigrate(
        spec, new_id(), peer(), "/srv/agent", max_downtime_ms=300, bandwidth_mib_s=800
    )

    migrate_recorded(driver, spec, options, seconds=60)

    (downtime, migration) = dom.calls
    assert downtime == ("migrateSetMaxDowntime", 300, 0)
    _, uri, params, flags = migration
    assert uri == f"qemu+tls://192.0.2.7:16514/system?pkipath={certified}"
    assert flags == (
        libvirt.VIR_MIGRATE_LIVE
        | libvirt.VIR_MIGRATE_PEER2PEER
        | libvirt.VIR_MIGRATE_PERSIST_DEST
        | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
        | libvirt.VIR_MIGRATE_NON_SHARED_INC
        | libvirt.VIR_MIGRATE_TLS
    )
    assert not flags & libvirt.VIR_MIGRATE_TUNNELLED
    assert params[libvirt.VIR_MIGRATE_PARAM_URI] == "tcp://192.0.2.7"
    assert params[libvirt.VIR_MIGRATE_PARAM_TLS_DESTINATION] == "compute-b"
    assert params[libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS] == ["vda", "vdb"]
    assert params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] == 800
    xml = params[libvirt.VIR_MIGRATE_PARAM_DEST_XML]
    assert params[libvirt.VIR_MIGRATE_PARAM_PERSIST_XML] == xml
    assert f"/srv/agent/instances/{spec.instance_id}/root.qcow2" in xml
    assert f"/srv/agent/instances/{spec.instance_id}/ephemeral.qcow2" in xml
    for name in ("cacert.pem", "clientcert.pem", "clientkey.pem"):
        assert (Path(certified) / name).exists(), name
    for name in ("ca-cert.pem", "server-cert.pem", "server-key.pem", "client-cert.pem", "client-key.pem"):
        assert (Path(certified) / "qemu" / name).exists(), name
    assert oct((Path(certified) / "clientkey.pem").stat().st_mode & 0o777) == "0o600"


def test_the_libvirt_driver_aborts_the_job_near_the_deadline_and_reports_it(certified, image):
    spec = make_spec(image)
    dom = RecordingDomain(spec, block=True)
    driver = recording_driver(certified, dom)
    options = protocol.LiveMigrate(spec, new_id(), peer(), "/srv/agent")

    with pytest.raises(AgentError) as aborted:
        # Within the abort margin from the start: the job is aborted at the first look.
        migrate_recorded(driver, spec, options, seconds=6)

    assert aborted.value.code == protocol.ERR_MIGRATION_ABORTED
    assert ("abortJob",) in dom.calls
    assert not dom.migrated


def test_without_a_certificate_the_libvirt_driver_does_not_migrate_live():
    assert not LibvirtDriver("qemu:///system", "qemu").supports_live_migration
    assert not LibvirtDriver("test:///default", "qemu", pki_dir="/srv/pki").supports_live_migration


# --- the gateway ----------------------------------------------------------------------------------


class EchoLibvirtd:
    """A stream socket standing in for libvirtd's: it answers each message with "ack:" and the message."""

    def __init__(self, path):
        self.path = str(path)
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            with connection:
                while data := connection.recv(1024):
                    connection.sendall(b"ack:" + data)


@pytest.fixture
def gateway(tmp_path, controller):
    destination = InProcessAgent(tmp_path / "dest", controller, FakeDriver(), host="compute-b")
    destination.certify()
    libvirtd = EchoLibvirtd(tmp_path / "libvirt-sock")
    gateway = MigrationGateway(destination.data_dir, ("127.0.0.1", 0), libvirtd.path).start()
    yield gateway
    gateway.close()
    libvirtd.server.close()


def source_context(tmp_path, controller, name):
    host = InProcessAgent(tmp_path / name, controller, FakeDriver(), host=name)
    host.certify()
    return pki.client_context(host.data_dir)


def talk(gateway, context):
    """What comes back through the gateway for b"hello" (nothing: refused, at the handshake or after)."""
    try:
        with (
            socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="compute-b") as tls,
        ):
            tls.sendall(b"hello")
            return tls.recv(1024)
    except (ssl.SSLError, ConnectionError):
        return b""


def test_the_gateway_relays_the_expected_source_to_libvirtd_and_no_one_else(gateway, tmp_path, controller):
    migration_id = new_id()
    gateway.expect("compute-a", migration_id, time.time() + 60)

    assert talk(gateway, source_context(tmp_path, controller, "compute-a")) == b"ack:hello"
    assert talk(gateway, source_context(tmp_path, controller, "compute-c")) == b""

    gateway.forget(migration_id)
    assert talk(gateway, source_context(tmp_path, controller, "compute-a")) == b""


def test_the_gateway_admits_no_one_after_the_deadline_nor_without_a_certificate(
    gateway, tmp_path, controller
):
    gateway.expect("compute-a", new_id(), time.time() - 1)
    assert talk(gateway, source_context(tmp_path, controller, "compute-a")) == b""

    gateway.expect("compute-a", new_id(), time.time() + 60)
    anonymous = ssl.create_default_context(cafile=str(pki.pki_dir(tmp_path / "dest") / "cacert.pem"))
    assert talk(gateway, anonymous) == b""


class ArrivedDomain(RecordingDomain):
    """A guest a live migration brought, whose XML the source chose."""

    def __init__(self, spec, xml):
        super().__init__(spec)
        self.xml = xml
        self.active = True

    def XMLDesc(self, flags):
        return self.xml

    def isActive(self):
        return self.active

    def hasManagedSaveImage(self, flags):
        return 0

    def destroy(self):
        self.calls.append(("destroy",))
        self.active = False

    def undefineFlags(self, flags):
        self.calls.append(("undefine",))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda xml, files: xml.replace(
            str(files.root_disk), "/var/lib/cloudmgr-agent/instances/other/root.qcow2"
        ),
        lambda xml, files: xml.replace("</devices>", "<hostdev mode='subsystem' type='pci'/></devices>"),
        lambda xml, files: xml.replace(
            "</devices>", "<filesystem type='mount'><source dir='/'/></filesystem></devices>"
        ),
    ],
    ids=["another instance's disk", "a host device", "the host's filesystem"],
)
def test_a_migrated_guest_that_is_not_the_instances_own_is_destroyed_and_undefined(certified, image, tamper):
    spec = make_spec(image)
    files = InstanceFiles("/srv/agent", spec.instance_id)
    xml = tamper(domain_xml.build_domain_xml(spec, files, "qemu"), files)
    dom = ArrivedDomain(spec, xml)

    with pytest.raises(AgentError) as refused:
        recording_driver(certified, dom).finish_incoming(spec.instance_id, files)

    assert refused.value.code == protocol.ERR_SPEC_CONFLICT
    assert ("destroy",) in dom.calls
    assert ("undefine",) in dom.calls


def test_a_migrated_guest_of_its_own_files_is_accepted(certified, image):
    spec = make_spec(image, ephemeral_disk_mb=16)
    files = InstanceFiles("/srv/agent", spec.instance_id)
    dom = ArrivedDomain(spec, domain_xml.build_domain_xml(spec, files, "qemu"))

    status = recording_driver(certified, dom).finish_incoming(spec.instance_id, files)

    assert status.power_state == "running"
    assert dom.calls == []


OWN_NIC = PluggedNic(
    "9c5e6a8e-0b1f-4b47-9f5f-0d7a3c2b1a01", "tap9c5e6a8e0b1", "fa:16:3e:00:00:01", "cmb-5f1", 1500
)


@pytest.mark.parametrize(
    "nic",
    [
        PluggedNic(OWN_NIC.port_id, OWN_NIC.device_name, "fa:16:3e:00:00:99", OWN_NIC.bridge, 1500),
        PluggedNic(OWN_NIC.port_id, OWN_NIC.device_name, OWN_NIC.mac, "br-host", 1500),
        PluggedNic(OWN_NIC.port_id, "tapsomeoneelse", OWN_NIC.mac, OWN_NIC.bridge, 1500),
    ],
    ids=["another port's MAC", "a bridge that is not its network's", "another port's tap"],
)
def test_a_migrated_guest_with_a_nic_that_is_not_one_of_its_ports_here_is_destroyed(certified, image, nic):
    spec = make_spec(image)
    files = InstanceFiles("/srv/agent", spec.instance_id)
    dom = ArrivedDomain(spec, domain_xml.build_domain_xml(spec, files, "qemu", [OWN_NIC, nic]))

    with pytest.raises(AgentError) as refused:
        recording_driver(certified, dom).finish_incoming(spec.instance_id, files, [OWN_NIC])

    assert refused.value.code == protocol.ERR_SPEC_CONFLICT
    assert ("undefine",) in dom.calls


def test_a_migrated_guest_with_its_own_nics_and_config_drive_is_accepted(certified, image):
    spec = make_spec(image, config_drive=True)
    files = InstanceFiles("/srv/agent", spec.instance_id)
    dom = ArrivedDomain(spec, domain_xml.build_domain_xml(spec, files, "qemu", [OWN_NIC]))

    status = recording_driver(certified, dom).finish_incoming(spec.instance_id, files, [OWN_NIC])

    assert status.power_state == "running"
    assert dom.calls == []
