"""A host's desired network state: what its NICs, routers and DHCP servers need, as plain dicts."""

import uuid
from dataclasses import dataclass, field

import pytest

from agent import protocol
from apps.networks.host_state import desired_state
from apps.networks.services import floating_ips, routers, security_groups

from .factories import SYSTEM, compute_host, nics_for, project_network, public_pool


@dataclass
class Instance:
    """Stands in for compute's instance: the networks app knows an instance by its id and name only."""

    name: str
    pk: uuid.UUID = field(default_factory=uuid.uuid4)


@pytest.fixture
def cloud(project, zone, node, pool):
    network = project_network(project, zone, cidr="192.168.1.0/24")
    public = public_pool(zone)
    web = security_groups.create_security_group(SYSTEM, project, name="web")
    security_groups.create_rule(
        SYSTEM, web, direction="ingress", protocol="tcp", port_min=22, remote_group_id=web.pk
    )
    default = security_groups.default_group(project)
    first, second = compute_host(zone), compute_host(zone)
    [nic] = nics_for(
        project,
        [{"network_id": network.pk, "security_group_ids": [web.pk, default.pk]}],
        Instance("Web Server #1"),
        host=first,
    )
    [other] = nics_for(project, [{"network_id": network.pk}], Instance("db"), host=second)
    router = routers.create_router(SYSTEM, project, name="edge", zone=zone, external_network_id=public.pk)
    routers.add_interface(SYSTEM, router, subnet_id=network.subnets.get().pk)
    floating = floating_ips.allocate_floating_ip(SYSTEM, project, network_id=public.pk)
    floating_ips.associate(SYSTEM, floating, port_id=nic.pk)
    return {
        "network": network,
        "public": public,
        "web": web,
        "default": default,
        "first": first,
        "nic": nic,
        "other": other,
        "router": router,
        "floating": floating,
        "node": node,
    }


def test_a_compute_host_gets_its_nics_networks_and_the_groups_they_need(cloud):
    state = desired_state(cloud["first"]).to_dict()
    nic, network = cloud["nic"], cloud["network"]
    subnet_id = str(network.subnets.get().pk)
    assert (state["host"], state["protocol_version"]) == (cloud["first"].name, protocol.PROTOCOL_VERSION)
    [entry] = state["networks"]
    assert entry == {
        "network_id": str(network.pk),
        "type": "vlan",
        "physical_network": "physnet1",
        "mtu": 1500,
        "vlan_id": network.vlan_id,
        "subnets": [
            {
                "subnet_id": subnet_id,
                "cidr": "192.168.1.0/24",
                "ip_version": 4,
                "gateway_ip": "192.168.1.1",
                "dns_nameservers": [],
                "dhcp_enabled": True,
                "ipv6_mode": None,
            }
        ],
        "dhcp_server": None,
        "dhcp_hosts": [],
    }
    assert state["ports"] == [
        {
            "port_id": str(nic.pk),
            "instance_id": str(nic.instance_id),
            "network_id": str(network.pk),
            "mac": nic.mac_address,
            "device_name": "tap" + nic.pk.hex[:11],
            "fixed_ips": [{"subnet_id": subnet_id, "ip_address": "192.168.1.3"}],
            "security_group_ids": sorted([str(cloud["web"].pk), str(cloud["default"].pk)]),
            "floating_ips": ["203.0.113.3"],
        }
    ]
    assert nic.device_name == state["ports"][0]["device_name"]
    groups = {g["security_group_id"]: g for g in state["security_groups"]}
    assert set(groups) == {str(cloud["web"].pk), str(cloud["default"].pk)}
    [rule] = groups[str(cloud["web"].pk)]["rules"]
    assert {k: v for k, v in rule.items() if k != "rule_id"} == {
        "direction": "ingress",
        "ethertype": "IPv4",
        "protocol": "tcp",
        "port_range_min": 22,
        "port_range_max": 22,
        "icmp_type": None,
        "icmp_code": None,
        "remote_ip_prefix": None,
        "remote_group_id": str(cloud["web"].pk),
    }
    assert groups[str(cloud["web"].pk)]["member_ips"] == ["192.168.1.3"]
    assert groups[str(cloud["default"].pk)]["member_ips"] == ["192.168.1.3", "192.168.1.4"]
    assert state["routers"] == []


def test_the_network_node_gets_the_dhcp_entries_the_router_and_its_floating_ips(cloud):
    state = desired_state(cloud["node"]).to_dict()
    networks = {n["network_id"]: n for n in state["networks"]}
    private = networks[str(cloud["network"].pk)]
    assert [f["ip_address"] for f in private["dhcp_server"]["fixed_ips"]] == ["192.168.1.2"]
    assert private["dhcp_hosts"] == [
        {"mac": cloud["nic"].mac_address, "ip_address": "192.168.1.3", "hostname": "web-server--1"},
        {"mac": cloud["other"].mac_address, "ip_address": "192.168.1.4", "hostname": "db"},
    ]
    assert networks[str(cloud["public"].pk)]["type"] == "flat"
    assert state["ports"] == []
    [router] = state["routers"]
    assert [i["ip_addresses"] for i in router["interfaces"]] == [["192.168.1.1/24"]]
    external = router["external_gateway"]
    assert (external["network_id"], external["ip_address"], external["gateway_ip"], external["snat"]) == (
        str(cloud["public"].pk),
        "203.0.113.2/24",
        "203.0.113.1",
        True,
    )
    assert router["floating_ips"] == [{"floating_ip": "203.0.113.3", "fixed_ip": "192.168.1.3"}]


def test_each_read_of_a_state_has_a_larger_generation(cloud):
    first = desired_state(cloud["first"]).generation
    assert desired_state(cloud["first"]).generation > first


def test_a_state_is_read_with_two_statements_however_much_it_holds(cloud, django_assert_num_queries):
    with django_assert_num_queries(2):
        desired_state(cloud["node"])
