"""Guests on a real kernel: DHCP leases from dnsmasq, security groups with real traffic, dnsmasq supervision.

Each test runs an in-process agent (fake hypervisor, Linux network driver) whose
host is a lab namespace; its guests are the fake driver's veths into namespaces of
their own. All traffic stays inside the lab (netlab.py).
"""

import os
import signal

from agent import protocol
from agent.tests.builders import make_spec, qcow2_bytes
from agent.tests.netlab import StateBuilder, dhcp_lease, ping, tcp_connects, tcp_server, wait_for


def sync(agent, controller, builder, generation):
    controller.network_states[agent.host] = builder.state(agent.host, generation)
    report = agent.run(protocol.SYNC_NETWORK, protocol.SyncNetwork(generation))
    assert report.state == "succeeded", report.error
    return protocol.parse_result(report.task, report.result)


def spawn_guest(agent, controller, tmp_path, port):
    nic = protocol.NicSpec(port.port_id, port.network_id, port.mac, port.device_name)
    spec = make_spec(
        controller.add_image(qcow2_bytes(tmp_path), "qcow2"), instance_id=port.instance_id, nics=[nic]
    )
    report = agent.run(protocol.SPAWN_INSTANCE, protocol.SpawnInstance(spec))
    assert report.state == "succeeded", report.error
    return agent.lab.guest(agent.netns, port.instance_id)


def two_guests(lab, controller, network_agent, tmp_path, client_rules=()):
    agent = network_agent()
    agent.lab = lab
    builder = StateBuilder()
    network = builder.network("10.50.0.0/24")
    web = builder.group()
    builder.allow(web, "ingress", "tcp", ports=(8080, 8080))
    builder.allow(web, "egress")
    others = builder.group()
    builder.allow(others, "egress")
    for rule in client_rules:
        builder.allow(others, **rule)
    server = builder.port(network, "10.50.0.10", [web])
    client = builder.port(network, "10.50.0.11", [others])
    sync(agent, controller, builder, 1)
    guests = [spawn_guest(agent, controller, tmp_path, port) for port in (server, client)]
    return agent, builder, guests


def test_a_guest_leases_exactly_its_assigned_address_from_the_networks_dnsmasq(
    lab, controller, network_agent, tmp_path
):
    _, _, (server, client) = two_guests(lab, controller, network_agent, tmp_path)

    lease = dhcp_lease(lab, server)

    assert lease["ip"] == "10.50.0.10"
    assert lease["router"] == "10.50.0.1"
    assert lease["mtu"] == "1500"
    assert lease["staticroutes"] == "169.254.169.254/32,0.0.0.0,0.0.0.0/0,10.50.0.1"
    assert dhcp_lease(lab, client)["ip"] == "10.50.0.11"


def test_tcp_passes_only_to_a_port_a_rule_opens_and_ping_only_once_a_rule_allows_it(
    lab, controller, network_agent, tmp_path
):
    agent, builder, (server, client) = two_guests(lab, controller, network_agent, tmp_path)
    for guest in (server, client):
        assert dhcp_lease(lab, guest)
    tcp_server(lab, server, 8080)
    tcp_server(lab, server, 9090)

    assert tcp_connects(client, "10.50.0.10", 8080)
    assert not tcp_connects(client, "10.50.0.10", 9090)
    assert not ping(client, "10.50.0.10")

    web = builder.ports[0].security_group_ids[0]
    builder.allow(web, "ingress", "icmp", icmp_type=8)
    sync(agent, controller, builder, 2)

    assert ping(client, "10.50.0.10")
    assert not tcp_connects(client, "10.50.0.10", 9090)
    # The client opens no ingress: only replies to its own traffic reach it (stateful).
    assert not ping(server, "10.50.0.11")


def test_a_remote_group_rule_follows_the_groups_membership(lab, controller, network_agent, tmp_path):
    agent = network_agent()
    agent.lab = lab
    builder = StateBuilder()
    network = builder.network("10.51.0.0/24")
    friends = builder.group(name="friends")
    builder.allow(friends, "egress")
    db = builder.group(name="db")
    builder.allow(db, "ingress", "tcp", ports=(5432, 5432), remote_group=friends)
    database = builder.port(network, "10.51.0.10", [db])
    stranger = builder.port(network, "10.51.0.11", [])
    sync(agent, controller, builder, 1)
    guests = [spawn_guest(agent, controller, tmp_path, port) for port in (database, stranger)]
    for guest in guests:
        assert dhcp_lease(lab, guest)
    tcp_server(lab, guests[0], 5432)
    assert not tcp_connects(guests[1], "10.51.0.10", 5432)

    stranger_index = builder.ports.index(stranger)
    builder.ports[stranger_index] = stranger.__class__(
        **{**stranger.__dict__, "security_group_ids": [friends]}
    )
    sync(agent, controller, builder, 2)

    assert tcp_connects(guests[1], "10.51.0.10", 5432)


def test_a_killed_dnsmasq_comes_back_and_a_new_reservation_is_a_reload_not_a_restart(
    lab, controller, network_agent, tmp_path
):
    agent, builder, (server, _) = two_guests(lab, controller, network_agent, tmp_path)
    network_id = builder.ports[0].network_id
    dhcp = agent.network.driver.dhcp
    first = dhcp.pid(network_id)
    late = builder.port(network_id, "10.50.0.12", [])
    sync(agent, controller, builder, 2)
    assert dhcp.pid(network_id) == first
    late_guest = spawn_guest(agent, controller, tmp_path, late)
    assert dhcp_lease(lab, late_guest)["ip"] == "10.50.0.12"

    os.kill(first, signal.SIGKILL)
    assert wait_for(lambda: dhcp.pid(network_id) is None)
    agent.network.supervise()

    assert wait_for(lambda: dhcp.pid(network_id) not in (None, first))
    assert dhcp_lease(lab, server)["ip"] == "10.50.0.10"
    restarted = [r for r in agent.controller.network_reports if any(d.kind == "dhcp_server" for d in r.drift)]
    assert restarted[-1].drift[0].repaired
