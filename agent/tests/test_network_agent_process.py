"""Networking through a real agent process: signed tasks on its Redis queue, its network driver in a lab host.

The agent process stays in the root namespace (the broker is on loopback) and its
network driver works in the lab's host namespace (``CLOUDMGR_AGENT_NETWORK_NAMESPACE``).
"""

import os
import signal

import pytest

from agent import protocol
from agent.tests.builders import make_spec, qcow2_bytes
from agent.tests.netlab import StateBuilder, dhcp_lease, ping, wait_for
from agent.tests.test_worker_process import AgentProcess

pytestmark = pytest.mark.processes


@pytest.fixture
def network_process(lab, controller):
    started = []

    def start():
        host_ns = lab.host("p")
        agent = AgentProcess(
            lab.dir,
            controller,
            "fake",
            NETWORK_DRIVER="linux",
            NETWORK_NAMESPACE=host_ns.name,
            DHCP_CHECK_SECONDS="1",
        )
        agent.netns = host_ns
        started.append(agent)
        return agent

    yield start
    for agent in started:
        agent.stop()


def test_an_agent_process_syncs_its_network_spawns_a_guest_with_a_nic_and_restarts_a_killed_dnsmasq(
    lab, controller, network_process, tmp_path
):
    agent = network_process()
    builder = StateBuilder()
    network = builder.network("10.95.0.0/24")
    group = builder.group()
    builder.allow(group, "ingress", "icmp", icmp_type=8)
    builder.allow(group, "egress")
    ports = [builder.port(network, f"10.95.0.{10 + i}", [group]) for i in range(2)]
    controller.network_states[agent.host] = builder.state(agent.host, 3)
    agent.wait_until_consuming()

    synced = controller.final_report(agent.send(protocol.SYNC_NETWORK, protocol.SyncNetwork(3)), 60)
    assert synced.state == "succeeded", (synced.error, agent.log())
    image = controller.add_image(qcow2_bytes(tmp_path), "qcow2")
    guests = []
    for port in ports:
        nic = protocol.NicSpec(port.port_id, port.network_id, port.mac, port.device_name)
        spec = make_spec(image, instance_id=port.instance_id, nics=[nic])
        report = controller.final_report(
            agent.send(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec)), 60
        )
        assert report.state == "succeeded", (report.error, agent.log())
        guests.append(lab.guest(agent.netns, port.instance_id))

    assert dhcp_lease(lab, guests[0])["ip"] == "10.95.0.10"
    assert dhcp_lease(lab, guests[1])["ip"] == "10.95.0.11"
    assert ping(guests[0], "10.95.0.11")

    pid_file = lab.dir / agent.host / "network" / "dhcp" / network / "dnsmasq.pid"
    first = int(pid_file.read_text())
    os.kill(first, signal.SIGKILL)
    assert wait_for(lambda: pid_file.exists() and int(pid_file.read_text() or 0) != first, timeout=20)
    assert dhcp_lease(lab, guests[0])["ip"] == "10.95.0.10"
    reports = controller.wait_for(
        lambda: [r for r in controller.network_reports if r.host == agent.host] or None
    )
    assert reports[0].generation == 3
