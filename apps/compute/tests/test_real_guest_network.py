"""A real QEMU guest on a flat-DHCP network: its address by DHCP, its own metadata over HTTP, and a
NIC hot-plugged into it and unplugged again through the API (libvirt's device attach and detach).

The guest of scripts/build_test_guest.py (uploaded through the API, as in
test_real_guest.py) boots on qemu:///system with one NIC. Its init asks DHCP for
an address and http://169.254.169.254/ for its instance id, and prints both on
the serial console, which the test reads back through the console-log API.

libvirt creates the guest's tap in the root network namespace, so the agent's
network driver works there: the network's bridge has no address and no uplink
(the host maps no interface to its physical network), and the DHCP server and
the metadata service run in namespaces of their own on it. Deleting the network
at the end makes the agent remove all of it; whatever a failure leaves is
removed by name afterwards.
"""

import os
import re
import signal
import time
import xml.etree.ElementTree as ET

import pytest

from agent.network import names
from agent.network.commands import Netns
from agent.tests.netlab import pids_mentioning
from apps.compute.models import Instance
from apps.core.tests.controllers import wait_until
from apps.infrastructure.models import Host
from apps.infrastructure.tests.factories import ZoneFactory
from apps.jobs.models import Job
from apps.networks.services import host_networks, networks
from apps.networks.tests.factories import SYSTEM, flat_network

from .test_real_guest import (  # noqa: F401  (fixtures)
    CONSOLE_SECONDS,
    SPAWN_SECONDS,
    SYSTEM_URI,
    agent_home,
    console_text,
    delete_real_guest,
    domains_removed,
    launch_real_guest,
    qemu_agent,
    system_libvirt,
    upload_guest,
    virsh,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]

LEASE = re.compile(r"CLOUDMGR-IP eth0 (\S+)/\S+ router=(\S*)")
METADATA = re.compile(r"CLOUDMGR-METADATA-INSTANCE-ID=(\S+)")


def console_lines(api, instance_id, *patterns):
    """The first match of each pattern on the console, waiting for all of them."""
    deadline = time.monotonic() + CONSOLE_SECONDS
    text = ""
    while time.monotonic() < deadline:
        text = console_text(api, instance_id).replace("\r", "")
        found = [pattern.search(text) for pattern in patterns]
        if all(found) or "CLOUDMGR-READY" in text:
            return found, text
        time.sleep(1)
    return [None] * len(patterns), text


def interfaces(domain, inactive=False):
    """The MACs of the domain's NICs, as libvirt runs it (or, `inactive`, as it is defined)."""
    xml = virsh("dumpxml", *(["--inactive"] if inactive else []), domain).stdout
    root = ET.fromstring(xml)  # noqa: S314 (libvirt's own XML)
    return [i.find("mac").get("address") for i in root.findall("devices/interface")]


def interface_job(api, instance_id, action, body):
    response = api.post(f"/api/v1/instances/{instance_id}/{action}/", body, format="json")
    assert response.status_code == 202, response.content
    wait_until(
        lambda: Instance.objects.filter(pk=instance_id, task_state__isnull=True).exists(),
        SPAWN_SECONDS,
        f"the {action}",
    )
    job = Job.objects.get(pk=response.data["job_id"])
    assert job.state == "succeeded", (job.error_code, job.error_message)
    return response.data


def remove_what_the_network_left(network_id, data_dir):
    """After a failure: the network's namespaces, bridge, dnsmasq and cloudmgr's tables, by name."""
    for pid in pids_mentioning(f"{data_dir}/network/"):
        os.kill(pid, signal.SIGKILL)
    for kind in ("dhcp", "meta"):
        Netns(names.Namespaces("").name(kind, network_id)).delete()
    root = Netns("")
    for device in (names.dhcp_veth(network_id), names.metadata_veth(network_id), names.bridge(network_id)):
        root.ip("link", "del", device, check=False)
    for family in ("bridge", "inet"):
        root.run("nft", "delete", "table", family, names.FILTER_TABLE, check=False)


def test_a_real_guest_leases_its_address_reads_its_own_instance_id_and_gets_a_nic_hot_plugged_and_unplugged(
    system_libvirt,  # noqa: F811
    agent_home,  # noqa: F811
    domains_removed,  # noqa: F811
    live_server,
    signing_key,
    api,
    member,
    project,
    tmp_path,
    capsys,
):
    guest = upload_guest(live_server.url, member, project, tmp_path / "guest")
    zone = ZoneFactory(name="zone-real")
    network = None
    try:
        with qemu_agent(
            live_server.url, agent_home, "real", zone, SYSTEM_URI, network_driver="linux"
        ) as agent:
            host = Host.objects.get(name=agent.name)
            host_networks.set_host_network(
                SYSTEM, host, network_node=True, physical_networks={"physnet1": "eth1"}
            )
            network = flat_network(zone, cidr="10.93.0.0/24", shared_with=[project], network_type="flat_dhcp")
            launched = launch_real_guest(api, guest, "real-guest", domains_removed)
            instance_id = launched["id"]
            assigned = launched["addresses"][0]["fixed_ips"][0]["ip_address"]
            instance = Instance.objects.get(pk=instance_id)
            assert instance.vm_state == "active", (instance.fault_message, agent.log()[-3000:])

            (lease, metadata), text = console_lines(api, instance_id, LEASE, METADATA)

            assert lease is not None, text[-3000:]
            assert (lease.group(1), lease.group(2)) == (assigned, "10.93.0.1")
            assert metadata is not None, text[-3000:]
            assert metadata.group(1) == instance_id
            with capsys.disabled():
                print(
                    f"\nREAL GUEST {instance_id}: DHCP {lease.group(1)},",
                    f"metadata instance-id {metadata.group(1)}",
                )

            delete_real_guest(api, instance_id)
            networks.delete_network(SYSTEM, network)
            wait_until(
                lambda: (
                    not Job.objects.filter(
                        kind="networks.host.sync", state__in=("pending", "running")
                    ).exists()
                ),
                SPAWN_SECONDS,
                "the host to take the network away",
            )
            assert not Netns(names.Namespaces("").dhcp(str(network.pk))).exists()
    finally:
        if network is not None:
            remove_what_the_network_left(str(network.pk), agent.data_dir)
