"""Instances on networks, the whole path: API -> controller -> Redis -> agent process -> kernel.

The agent runs the fake hypervisor driver (each NIC a veth into a namespace of
its own, standing in for the guest) and the Linux network driver inside a lab
host namespace (agent/tests/netlab.py): the controller is the test's live
server, whose agent endpoint the host pulls its network state from and asks for
its instances' metadata. Everything is contained in the lab's namespaces.
"""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from agent.network import names
from agent.tests.netlab import Lab, dhcp_lease, ping, python_in
from apps.compute.models import Instance
from apps.core.actor import Actor
from apps.core.tests.controllers import wait_until
from apps.infrastructure.models import Host
from apps.infrastructure.tests.factories import ZoneFactory
from apps.jobs.models import Job
from apps.networks.models import Port
from apps.networks.services import host_networks
from apps.networks.tests.factories import SYSTEM, flat_network
from apps.quotas import services as quotas

from .agent_processes import AgentProcess
from .factories import OfferingFactory
from .test_end_to_end import WAIT_SECONDS, act, qcow2_image, settled  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]


@pytest.fixture
def lab():
    with Lab() as made:
        yield made


@pytest.fixture
def networked_host(live_server, signing_key, root, lab):
    """An agent whose network driver works in a lab host namespace; its host a network node of physnet1.

    Its data directory is in the lab's (dnsmasq, running as nobody, reads its files there, and the
    lab's cleanup ends what runs from it).
    """
    host_ns = lab.host("h")
    agent = AgentProcess(
        Actor.system("test"),
        f"{lab.prefix}h",
        ZoneFactory(name="zone-a"),
        live_server.url,
        lab.dir,
        driver="fake",
        network_driver="linux",
        network_namespace=host_ns.name,
    )
    try:
        wait_until(lambda: Host.objects.filter(name=agent.name, state=Host.UP).exists(), WAIT_SECONDS)
        host = Host.objects.get(name=agent.name)
        host_networks.set_host_network(
            SYSTEM, host, network_node=True, physical_networks={"physnet1": "eth1"}
        )
        agent.netns = host_ns
        yield agent, host
    finally:
        agent.stop()


def guest_of(agent, lab, instance_id):
    return lab.guest(agent.netns, str(instance_id))


def launched(api, offering, image, **fields):
    body = {"name": "web-1", "offering_id": str(offering.pk), "image_id": str(image.pk), **fields}
    response = api.post("/api/v1/instances/", body, format="json")
    assert response.status_code == 202, response.content
    wait_until(lambda: settled(response.data["id"]) is not None, WAIT_SECONDS, "the spawn")
    job = Job.objects.get(pk=response.data["job_id"])
    assert job.state == "succeeded", (job.error_code, job.error_message)
    return response.data


def interface_job(api, instance_id, action, body):
    response = api.post(f"/api/v1/instances/{instance_id}/{action}/", body, format="json")
    assert response.status_code == 202, response.content
    wait_until(lambda: settled(instance_id) is not None, WAIT_SECONDS, f"the {action}")
    job = Job.objects.get(pk=response.data["job_id"])
    assert job.state == "succeeded", (job.error_code, job.error_message)
    return response.data


def test_an_instance_on_a_flat_dhcp_network_leases_its_address_reads_its_metadata_and_gives_its_ports_back(
    networked_host,
    lab,
    api,
    project,
    qcow2_image,  # noqa: F811
):
    agent, host = networked_host
    network = flat_network(host.zone, cidr="10.91.0.0/24", shared_with=[project], network_type="flat_dhcp")
    offering = OfferingFactory(name="m1.tiny", vcpus=1, ram_mb=256, root_disk_gb=1)

    created = launched(api, offering, qcow2_image, user_data="aGVsbG8gZnJvbSB1c2VyIGRhdGE=")

    [nic] = created["addresses"]
    address = nic["fixed_ips"][0]["ip_address"]
    assert nic["network_id"] == str(network.pk)
    shown = api.get(f"/api/v1/instances/{created['id']}/").data
    assert shown["addresses"] == created["addresses"]
    guest = guest_of(agent, lab, created["id"])
    lease = dhcp_lease(lab, guest)
    assert lease["ip"] == address
    metadata = python_in(
        guest,
        """
        import urllib.request
        base = "http://169.254.169.254/"
        for path in ("latest/meta-data/instance-id", "latest/user-data", "openstack/latest/meta_data.json"):
            print(urllib.request.urlopen(base + path, timeout=5).read().decode())
        """,
    )
    instance_id, user_data, openstack = metadata.split("\n", 2)
    assert (instance_id, user_data) == (created["id"], "hello from user data")
    assert json.loads(openstack)["uuid"] == created["id"]

    attached = interface_job(api, created["id"], "attach-interface", {"network_id": str(network.pk)})
    second = Port.objects.get(pk=attached["port_id"])
    assert (second.device_index, second.host_id) == (1, host.pk)
    assert dhcp_lease(lab, guest, device="eth1")["ip"] == second.addresses.get().address
    assert ping(guest, "10.91.0.2")  # the network's DHCP server, through both NICs' rules
    assert quotas.usage_of(project)["ports"][1] == 2

    interface_job(api, created["id"], "detach-interface", {"port_id": str(second.pk)})
    assert not Port.objects.filter(pk=second.pk).exists()
    assert "eth1" not in guest.links()
    assert quotas.usage_of(project)["ports"][1] == 1

    act(api, created["id"], "delete")
    assert Instance.objects.get(pk=created["id"]).vm_state == "deleted"
    assert not Port.objects.filter(instance_id=created["id"]).exists()
    assert quotas.usage_of(project)["ports"][1] == 0


def test_an_instance_lands_only_on_a_host_that_carries_its_networks_physical_network(
    networked_host,
    api,
    project,
    qcow2_image,  # noqa: F811
):
    _, host = networked_host
    elsewhere = flat_network(host.zone, cidr="10.92.0.0/24", shared_with=[project])
    elsewhere.physical_network = "physnet9"
    elsewhere.save(update_fields=["physical_network"])
    offering = OfferingFactory(name="m1.tiny", vcpus=1, ram_mb=256, root_disk_gb=1)
    body = {
        "name": "nowhere",
        "offering_id": str(offering.pk),
        "image_id": str(qcow2_image.pk),
        "networks": [{"network_id": str(elsewhere.pk)}],
    }

    response = api.post("/api/v1/instances/", body, format="json")

    assert (response.status_code, response.data["error"]["code"]) == (409, "no_valid_host")
    assert not Port.objects.exists()


def test_the_network_audit_reports_a_bridge_a_rule_and_a_dhcp_entry_deleted_by_hand_and_repairs_them(
    networked_host,
    lab,
    api,
    admin_api,
    project,
    qcow2_image,  # noqa: F811
):
    agent, host = networked_host
    network = flat_network(host.zone, cidr="10.94.0.0/24", shared_with=[project], network_type="flat_dhcp")
    offering = OfferingFactory(name="m1.tiny", vcpus=1, ram_mb=256, root_disk_gb=1)
    created = launched(api, offering, qcow2_image)
    address = created["addresses"][0]["fixed_ips"][0]["ip_address"]
    bridge = names.bridge(str(network.pk))
    hosts_file = agent.data_dir / "network" / "dhcp" / str(network.pk) / "hosts"
    agent.netns.ip("link", "del", bridge)
    agent.netns.run("nft", "flush", "chain", "inet", names.FILTER_TABLE, "egress")
    hosts_file.write_text("")

    out = StringIO()
    call_command("netaudit", "--host", agent.name, stdout=out)

    lines = out.getvalue().splitlines()
    for kind, name in [
        ("bridge", bridge),
        ("nftables", f"inet {names.FILTER_TABLE}"),
        ("dhcp_hosts", str(network.pk)),
    ]:
        [line] = [line for line in lines if f" {kind} " in line and f" {name} " in line]
        assert line.split()[1] == "repaired", out.getvalue()
    assert bridge in agent.netns.links()
    assert address in hosts_file.read_text()
    assert dhcp_lease(lab, guest_of(agent, lab, created["id"]))["ip"] == address
    findings = admin_api.get("/api/v1/host-audit/", {"kind": "network", "resolved": "true"}).data["results"]
    assert {(f["details"]["kind"], f["details"]["name"]) for f in findings} >= {
        ("bridge", bridge),
        ("nftables", f"inet {names.FILTER_TABLE}"),
        ("dhcp_hosts", str(network.pk)),
    }
    assert admin_api.get("/api/v1/host-audit/", {"kind": "network"}).data["results"] == []
