"""Two hosts with real networking for the tests of moves: their ports must follow the instances they move.

Two agent processes (the fake hypervisor driver: each NIC a veth into a guest
namespace under its tap's name) whose Linux network drivers work in two lab host
namespaces joined by a veth, `eth1` on both, which carries physnet1 (a flat
network's "physical" wire between the hosts). The second host is the network
node: it runs the DHCP server of the networks the test makes. Everything lives
in the lab's namespaces and data directory and goes with it, even after a failure.
"""

import json

from django.db.models import Q

from agent.network import names
from agent.network.commands import Netns
from agent.tests.netlab import dhcp_lease
from apps.core.actor import Actor
from apps.core.tests.controllers import wait_until
from apps.infrastructure.models import Host
from apps.jobs.models import Job
from apps.networks.services import host_networks
from apps.networks.tests.factories import PHYSNET, SYSTEM

from .agent_processes import AgentProcess
from .moving import MOVE_SETTINGS, WAIT_SECONDS

WIRE = "eth1"


class NetworkedAgent:
    """An agent process and the lab namespace its network driver works in."""

    def __init__(self, lab, name, zone, controller_url, fabric_dir):
        self.netns = lab.host(name)
        self.process = AgentProcess(
            Actor.system("test"),
            f"{lab.prefix}{name}",
            zone,
            controller_url,
            lab.dir,
            driver="fake",
            fake_fabric_dir=fabric_dir,
            network_driver="linux",
            network_namespace=self.netns.name,
            physical_interfaces=f"{PHYSNET}:{WIRE}",
            capacity_ram_mb=3072,
            **MOVE_SETTINGS,
        )
        self.name = self.process.name

    @property
    def host(self):
        return Host.objects.get(name=self.name)

    def guest(self, instance_id):
        """The namespace standing in for the instance's guest on this host (its NICs, while it runs here)."""
        return Netns(f"{self.netns.name}-cmi-{instance_id}")

    def applied_ports(self):
        """The ports in the network state this host's agent last pulled and applied."""
        kept = self.process.data_dir / "network" / "desired-state.json"
        return [port["port_id"] for port in json.loads(kept.read_text())["ports"]] if kept.exists() else []

    def filters(self):
        """The bridge filter table as the kernel has it in this host's namespace."""
        return self.netns.run("nft", "list", "table", "bridge", names.FILTER_TABLE)

    def dhcp_hosts(self, network):
        path = self.process.data_dir / "network" / "dhcp" / str(network.pk) / "hosts"
        return path.read_text() if path.exists() else ""


def start_networked_pair(lab, zone, controller_url):
    """(first, second): both up and enrolled for moves, joined by the wire; the second a network node."""
    fabric = lab.data_dir("fabric")
    pair = [NetworkedAgent(lab, name, zone, controller_url, fabric) for name in ("a", "b")]
    lab.wire(pair[0].netns, WIRE, pair[1].netns, WIRE)
    up = Host.objects.filter(name__in=[a.name for a in pair], state=Host.UP, transfer_port__gt=0)
    wait_until(lambda: up.count() == 2, WAIT_SECONDS, "the agents to heartbeat")
    for agent, node in zip(pair, (False, True), strict=True):
        mappings = {PHYSNET: WIRE}
        host_networks.set_host_network(SYSTEM, agent.host, network_node=node, physical_networks=mappings)
    return pair


def network_work_done():
    """Every network sync and move job has ended (what a move set off on both hosts is done)."""
    unfinished = Job.objects.filter(state__in=(Job.PENDING, Job.RUNNING))
    wait_until(
        lambda: (
            not unfinished.filter(
                Q(kind__startswith="networks.") | Q(kind__startswith="compute.move")
            ).exists()
        ),
        WAIT_SECONDS,
        "the network syncs and move jobs",
    )


def nic_of(guest):
    """The MAC of the guest namespace's eth0, or None when it has none."""
    link = guest.links().get("eth0") if guest.exists() else None
    return link["address"] if link is not None else None


def leased(lab, guest):
    return dhcp_lease(lab, guest).get("ip")
