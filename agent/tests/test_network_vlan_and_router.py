"""Two hosts joined by a trunk (a veth pair), VLAN networks across it, and a router on a network node.

Host A is the network node: it serves DHCP, hosts the router and reaches the
"public" namespace through the interface named for the physical network "public".
Host B is a compute host. Nothing leaves the lab.
"""

import subprocess
import time

from agent import network_protocol as net
from agent import protocol
from agent.tests.netlab import StateBuilder, configure, dhcp_lease, new_id, ping, tcp_connects, tcp_server
from agent.tests.test_network_guests import spawn_guest, sync

PUBLIC = "203.0.113.0/24"


def trunked_hosts(lab, network_agent):
    a = network_agent(
        "a", trunk_interface="trunk0", physical_interfaces={"public": "pub0"}, network_node=True
    )
    b = network_agent("b", trunk_interface="trunk0")
    lab.wire(a.netns, "trunk0", b.netns, "trunk0")
    for agent in (a, b):
        agent.lab = lab
    return a, b


def open_group(builder):
    group = builder.group(name="open")
    builder.allow(group, "ingress")
    builder.allow(group, "egress")
    return group


def test_overlapping_cidrs_on_two_vlans_are_isolated_and_tagged_frames_cross_the_trunk(
    lab, controller, network_agent, tmp_path
):
    a, b = trunked_hosts(lab, network_agent)
    builders = {}
    for project, vlan_id in (("red", 101), ("blue", 102)):
        builder = StateBuilder()
        network = builder.network("10.70.0.0/24", type="vlan", vlan_id=vlan_id, dhcp=False)
        group = open_group(builder)
        builder.port(network, "10.70.0.10", [group])
        builder.port(network, "10.70.0.11", [group])
        builders[project] = builder
    states = {}
    for agent, index in ((a, 0), (b, 1)):
        merged = StateBuilder()
        for builder in builders.values():
            merged.networks.update(builder.networks)
            merged.groups.update(builder.groups)
            merged.ports.append(builder.ports[index])
        states[agent.host] = merged
        sync(agent, controller, merged, 1)
    guests = {}
    for project, builder in builders.items():
        for agent, port in zip((a, b), builder.ports, strict=True):
            guest = spawn_guest(agent, controller, tmp_path, port)
            configure(guest, "eth0", f"{port.fixed_ips[0].ip_address}/24")
            guests[(project, agent.host)] = guest
    capture = subprocess.Popen(
        a.netns.command(["tcpdump", "-e", "-n", "-l", "-i", "trunk0", "-c", "4", "icmp"]),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    time.sleep(1)

    assert ping(guests[("red", a.host)], "10.70.0.11")
    assert ping(guests[("blue", a.host)], "10.70.0.11")
    tcp_server(lab, guests[("red", b.host)], 7000)
    assert tcp_connects(guests[("red", a.host)], "10.70.0.11", 7000)
    assert not tcp_connects(guests[("blue", a.host)], "10.70.0.11", 7000), "blue reached red's guest"

    capture.wait(timeout=10)
    dump = capture.stdout.read()
    assert "vlan 101" in dump, dump
    assert "vlan 102" in dump, dump
    assert "ethertype 802.1Q" in dump


def test_a_floating_ip_is_reachable_from_the_public_network_and_snat_works_out_of_the_router(
    lab, controller, network_agent, tmp_path
):
    a, b = trunked_hosts(lab, network_agent)
    public_ns = lab.host("pub")
    lab.wire(a.netns, "pub0", public_ns, "eth0")
    configure(public_ns, "eth0", "203.0.113.1/24")
    builder = StateBuilder()
    public = builder.network(PUBLIC, type="flat", physical_network="public", dhcp=False)
    private = builder.network("10.80.0.0/24", type="vlan", vlan_id=180, physical_network="physnet1")
    group = open_group(builder)
    served = builder.port(private, "10.80.0.10", [group])
    plain = builder.port(private, "10.80.0.11", [group])
    spec = builder.networks[private]
    router_id = new_id()
    builder.router(
        net.Router(
            router_id,
            [net.RouterInterface(new_id(), private, builder.next_mac(), ["10.80.0.1/24"])],
            net.ExternalGateway(new_id(), public, builder.next_mac(), "203.0.113.10/24", "203.0.113.1"),
            [net.FloatingIp("203.0.113.50", "10.80.0.10")],
        )
    )
    sync(a, controller, builder, 1)
    b_state = builder.state(b.host, 1, ports=[served, plain])
    b_state = net.NetworkState(
        **{
            **b_state.__dict__,
            "networks": [n for n in b_state.networks if n.network_id == private],
            "routers": [],
        }
    )
    controller.network_states[b.host] = b_state
    assert b.run(protocol.SYNC_NETWORK, protocol.SyncNetwork(1)).state == "succeeded"
    guests = [spawn_guest(b, controller, tmp_path, port) for port in (served, plain)]
    for guest in guests:
        lease = dhcp_lease(lab, guest)
        assert lease["router"] == "10.80.0.1"
        guest.ip("route", "replace", "default", "via", "10.80.0.1")
    tcp_server(lab, guests[0], 8000)
    assert spec.dhcp_server is not None

    assert tcp_connects(public_ns, "203.0.113.50", 8000)
    assert ping(public_ns, "203.0.113.50")
    assert not ping(public_ns, "10.80.0.10"), "the private address is not routed from the public network"
    server = lab.background(
        public_ns,
        """
        import socket
        server = socket.create_server(("203.0.113.1", 9000))
        print("listening", flush=True)
        for _ in range(2):
            conn, (address, _) = server.accept()
            print(address, flush=True)
            conn.close()
    """,
    )
    assert server.stdout.readline().strip() == "listening"
    assert tcp_connects(guests[1], "203.0.113.1", 9000)
    assert tcp_connects(guests[0], "203.0.113.1", 9000)
    assert server.stdout.readline().strip() == "203.0.113.10", "SNAT to the router's external address"
    assert server.stdout.readline().strip() == "203.0.113.50", "a guest with a floating IP leaves by it"
