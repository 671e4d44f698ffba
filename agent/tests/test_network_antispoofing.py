"""Anti-spoofing on a real kernel: what a guest may send, whatever its security groups allow.

Every guest here is in a group that opens all ingress, so what stops a frame is
the port's own anti-spoofing chain. Each test sends the forged frame and a control
frame that differs only in the forged part, and a sniffer on another guest shows
that only the control arrived.
"""

import pytest

from agent.network.plan import link_local_address
from agent.tests import frames
from agent.tests.netlab import StateBuilder, dhcp_lease
from agent.tests.test_network_guests import spawn_guest, sync

NETWORK = "10.60.0.0/24"
PREFIX = "2001:db8:60::/64"


@pytest.fixture
def guests(lab, controller, network_agent, tmp_path):
    agent = network_agent()
    agent.lab = lab
    builder = StateBuilder()
    network = builder.network(NETWORK, ipv6=PREFIX)
    open_group = builder.group(name="open")
    builder.allow(open_group, "ingress")
    builder.allow(open_group, "ingress", ethertype="IPv6")
    builder.allow(open_group, "egress")
    builder.allow(open_group, "egress", ethertype="IPv6")
    ports = [builder.port(network, f"10.60.0.{10 + i}", [open_group], ipv6=True) for i in range(3)]
    sync(agent, controller, builder, 1)
    namespaces = [spawn_guest(agent, controller, tmp_path, port) for port in ports]
    return list(zip(ports, namespaces, strict=True))


def test_a_frame_from_another_mac_or_another_ip_address_is_dropped(lab, guests):
    (attacker, attacker_ns), (_, _), (observer, observer_ns) = guests
    own_ip, dst = attacker.fixed_ips[0].ip_address, observer.fixed_ips[0].ip_address
    control = frames.ether(
        observer.mac, attacker.mac, 0x0800, frames.ipv4_udp(own_ip, dst, 4000, 5000, b"control")
    )
    forged_mac = frames.ether(
        observer.mac, "52:54:00:66:66:66", 0x0800, frames.ipv4_udp(own_ip, dst, 4000, 5000, b"forged mac")
    )
    forged_ip = frames.ether(
        observer.mac, attacker.mac, 0x0800, frames.ipv4_udp("10.60.0.99", dst, 4000, 5000, b"forged ip")
    )
    sniffer = frames.Sniffer(lab, observer_ns)

    frames.send(attacker_ns, "eth0", forged_mac, forged_ip, control)

    seen = sniffer.frames()
    assert frames.saw(seen, control)
    assert not frames.saw(seen, forged_mac)
    assert not frames.saw(seen, forged_ip)


def test_an_arp_claim_to_another_guests_address_is_dropped(lab, guests):
    (attacker, attacker_ns), (victim, _), (observer, observer_ns) = guests
    victim_ip = victim.fixed_ips[0].ip_address
    spoof = frames.ether(
        frames.BROADCAST,
        attacker.mac,
        0x0806,
        frames.arp_reply(attacker.mac, victim_ip, observer.mac, "10.60.0.12"),
    )
    own = frames.ether(
        frames.BROADCAST,
        attacker.mac,
        0x0806,
        frames.arp_reply(attacker.mac, attacker.fixed_ips[0].ip_address, observer.mac, "10.60.0.12"),
    )
    sniffer = frames.Sniffer(lab, observer_ns)

    frames.send(attacker_ns, "eth0", spoof, own)

    seen = sniffer.frames()
    assert frames.saw(seen, own)
    assert not frames.saw(seen, spoof)


def test_a_neighbour_advertisement_for_another_guests_ipv6_address_is_dropped(lab, guests):
    (attacker, attacker_ns), (victim, _), (_, observer_ns) = guests
    source = link_local_address(attacker.mac)
    spoof = frames.ether(
        "33:33:00:00:00:01",
        attacker.mac,
        0x86DD,
        frames.icmpv6(
            source, "ff02::1", frames.neighbor_advert(link_local_address(victim.mac), attacker.mac)
        ),
    )
    own = frames.ether(
        "33:33:00:00:00:01",
        attacker.mac,
        0x86DD,
        frames.icmpv6(source, "ff02::1", frames.neighbor_advert(source, attacker.mac)),
    )
    sniffer = frames.Sniffer(lab, observer_ns)

    frames.send(attacker_ns, "eth0", spoof, own)

    seen = sniffer.frames()
    assert frames.saw(seen, own)
    assert not frames.saw(seen, spoof)


def test_a_guest_cannot_send_router_advertisements(lab, guests):
    (attacker, attacker_ns), _, (_, observer_ns) = guests
    source = link_local_address(attacker.mac)
    advert = frames.ether(
        "33:33:00:00:00:01",
        attacker.mac,
        0x86DD,
        frames.icmpv6(source, "ff02::1", frames.router_advert("2001:db8:bad::/64")),
    )
    solicit = frames.ether(
        "33:33:00:00:00:02", attacker.mac, 0x86DD, frames.icmpv6(source, "ff02::2", frames.router_solicit())
    )
    sniffer = frames.Sniffer(lab, observer_ns)

    frames.send(attacker_ns, "eth0", advert, solicit)

    seen = sniffer.frames()
    assert frames.saw(seen, solicit)
    assert not frames.saw(seen, advert)
    addresses = observer_ns.addresses("eth0")
    assert not [a for a in addresses if a.startswith("2001:db8:bad:")]


def test_a_rogue_dhcp_server_in_a_guest_is_never_heard(lab, guests):
    (attacker, attacker_ns), (victim, victim_ns), _ = guests
    assert dhcp_lease(lab, attacker_ns)["ip"] == attacker.fixed_ips[0].ip_address
    rogue_dir = lab.data_dir("rogue")
    attacker_ns.run(
        "dnsmasq",
        "--conf-file=/dev/null",
        "--port=0",
        "--interface=eth0",
        "--bind-interfaces",
        "--dhcp-range=10.60.0.200,10.60.0.210,1h",
        f"--pid-file={rogue_dir}/pid",
        f"--dhcp-leasefile={rogue_dir}/leases",
    )
    offer = frames.ether(
        frames.BROADCAST,
        attacker.mac,
        0x0800,
        frames.ipv4_udp(attacker.fixed_ips[0].ip_address, "255.255.255.255", 67, 68, b"offer"),
    )
    sniffer = frames.Sniffer(lab, victim_ns)

    frames.send(attacker_ns, "eth0", offer)
    lease = dhcp_lease(lab, victim_ns)

    assert not frames.saw(sniffer.frames(), offer)
    assert lease["ip"] == victim.fixed_ips[0].ip_address
    assert lease["serverid"] == "10.60.0.2"
