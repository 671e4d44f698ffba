"""The network driver's pure parts: rule boxes, rules, dnsmasq files, validation, metadata answers."""

import itertools
import random
import struct

import pytest

from agent import instance_metadata, protocol
from agent import network_protocol as net
from agent.network import boxes, dhcp, nft_filter, vlan_tagger
from agent.network.plan import HostPlan, NetworkConfig
from agent.tests.netlab import StateBuilder


def covered(box_list, point):
    return any(
        all(low <= value <= high for value, (low, high) in zip(point, box, strict=True)) for box in box_list
    )


def test_disjoint_boxes_cover_exactly_the_union_and_never_overlap():
    chooser = random.Random(14)
    for _ in range(50):
        made = []
        for _ in range(chooser.randint(1, 8)):
            a, b = sorted(chooser.randint(0, 12) for _ in range(2))
            c, d = sorted(chooser.randint(0, 12) for _ in range(2))
            made.append(((a, b), (c, d)))
        result = boxes.disjoint(made)
        for point in itertools.product(range(13), repeat=2):
            assert covered(made, point) == covered(result, point)
            assert sum(covered([box], point) for box in result) <= 1


def group_state(rule_count):
    builder = StateBuilder()
    network = builder.network("10.0.0.0/24")
    group = builder.group()
    for number in range(rule_count):
        builder.allow(group, "ingress", "tcp", ports=(1000 + number, 1000 + number), remote="10.0.0.0/8")
    builder.port(network, "10.0.0.10", [group])
    return builder.state("h1")


def chain_of(text, name):
    body = text.split(f"\tchain {name} {{\n", 1)[1].split("\n\t}", 1)[0]
    return body.splitlines()


def test_a_ports_chain_has_as_many_rules_with_one_group_rule_as_with_a_thousand():
    states = [group_state(n) for n in (1, 1000)]
    texts = [nft_filter.render(HostPlan(state, NetworkConfig("h1"))) for state in states]

    one, thousand = (
        chain_of(text, f"ingress-{state.ports[0].device_name}")
        for text, state in zip(texts, states, strict=True)
    )

    assert len(one) == len(thousand)
    assert "10.0.0.0/8 . 6 . 1000-1999" in texts[1], "adjacent rules merge into one element"


def test_anti_spoofing_names_only_the_ports_own_mac_and_addresses():
    state = group_state(1)
    port = state.ports[0]

    rules = nft_filter.anti_spoofing_rules(HostPlan(state, NetworkConfig("h1")).ports[0])

    assert f"ether saddr != {port.mac} drop" in rules
    assert "ip saddr != { 10.0.0.10 } drop" in rules
    assert "udp sport 67 drop" in rules
    assert "icmpv6 type { nd-router-advert, nd-redirect } drop" in rules


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: {"networks": s["networks"] * 2}, "network ids must be unique"),
        (
            lambda s: {
                "ports": [
                    {
                        **s["ports"][0],
                        "fixed_ips": [{**s["ports"][0]["fixed_ips"][0], "ip_address": "10.9.9.9"}],
                    }
                ]
            },
            "not in its subnet",
        ),
        (
            lambda s: {"ports": [{**s["ports"][0], "security_group_ids": [StateBuilder().group()]}]},
            "unknown security group",
        ),
        (lambda s: {"ports": [{**s["ports"][0], "device_name": "vnet0"}]}, "device_name"),
        (lambda s: {"ports": [{**s["ports"][0], "mac": "01:00:5e:00:00:01"}]}, "unicast"),
    ],
)
def test_an_inconsistent_network_state_is_refused_whole(change, message):
    data = group_state(1).to_dict()
    data.update(change(data))

    with pytest.raises(protocol.ProtocolError, match=message):
        net.NetworkState.from_dict(data)


def test_two_vlan_networks_with_one_vlan_id_on_a_host_are_refused():
    builder = StateBuilder()
    builder.network("10.0.0.0/24", type="vlan", vlan_id=7)
    builder.network("10.0.1.0/24", type="vlan", vlan_id=7)

    with pytest.raises(protocol.ProtocolError, match="VLAN ids"):
        builder.state("h1")


def test_dnsmasq_serves_only_reservations_and_sends_no_router_when_the_subnet_has_no_gateway():
    builder = StateBuilder()
    network = builder.network("10.1.0.0/24", gateway=False, ipv6="2001:db8:1::/64")
    builder.port(network, "10.1.0.20")
    state = builder.state("h1")
    plan = HostPlan(state, NetworkConfig("h1"))

    conf = dhcp.render_conf(plan.networks[network], {k: f"/d/{k}" for k in ("log", "pid", "leases", "hosts")})

    assert "dhcp-range=set:v4,10.1.0.0,static,255.255.255.0,86400s" in conf
    assert "dhcp-option=tag:v4,option:router\n" in conf
    assert "classless-static-route,169.254.169.254/32,0.0.0.0\n" in conf
    assert "ra-param=ns-dhcp,mtu:1500,30,0" in conf
    assert (
        dhcp.render_hosts(state.networks[0])
        == f"{state.ports[0].mac},10.1.0.20,host-{state.ports[0].port_id[:8]}\n"
    )


def test_the_vlan_taggers_jumps_land_inside_their_programs():
    for program in (vlan_tagger.push_program(100, 4), vlan_tagger.pop_program(100, 5)):
        for index, instruction in enumerate(program):
            code, _, offset, _ = struct.unpack("<BBhi", instruction)
            if code in (0x15, 0x55):
                assert 0 <= index + 1 + offset < len(program)
        assert program[-1] == vlan_tagger._exit()


def test_the_metadata_answers_list_directories_and_refuse_unknown_versions():
    state = group_state(1)
    port = state.ports[0]
    meta = net.InstanceMetadata(
        port.instance_id,
        "web",
        "web-1",
        port.instance_id,
        public_keys=[net.PublicKey("k", "ssh-ed25519 AAAA k")],
    )

    status, _, body = instance_metadata.answer("/latest/meta-data/", meta, state)
    assert status == 200
    assert "public-keys/" in body.decode().splitlines()
    assert instance_metadata.answer("/latest/meta-data/public-keys/", meta, state)[2] == b"0=k"
    assert instance_metadata.answer("/1999-01-01/meta-data/", meta, state)[0] == 404
    assert instance_metadata.answer("/latest/user-data", meta, state)[0] == 404
