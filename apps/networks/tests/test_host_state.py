"""A host's desired network state: what its NICs, routers and DHCP servers need, as plain dicts."""

import uuid
from dataclasses import dataclass, field

import pytest

from apps.networks.host_state import desired_state
from apps.networks.services import floating_ips, routers, security_groups
from apps.networks.services.instance_ports import allocate_ports_for_instance

from .factories import SYSTEM, compute_host, project_network, public_pool


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
    [nic] = allocate_ports_for_instance(
        SYSTEM,
        project,
        [{"network_id": network.pk, "security_group_ids": [web.pk, default.pk]}],
        Instance("Web Server #1"),
        host=first,
    )
    [other] = allocate_ports_for_instance(
        SYSTEM, project, [{"network_id": network.pk}], Instance("db"), host=second
    )
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
    state = desired_state(cloud["first"])
    nic, network = cloud["nic"], cloud["network"]
    assert state["physical_networks"] == {"physnet1": "eth1"}
    assert state["network_node"] is False
    [entry] = state["networks"]
    assert (entry["id"], entry["type"], entry["vlan_id"], entry["mtu"]) == (
        str(network.pk),
        "vlan",
        network.vlan_id,
        1500,
    )
    assert entry["subnets"] == [
        {
            "id": str(network.subnets.get().pk),
            "cidr": "192.168.1.0/24",
            "ip_version": 4,
            "gateway": "192.168.1.1",
            "dns": [],
            "ipv6_mode": None,
            "dhcp": True,
        }
    ]
    assert (entry["dhcp_server"], entry["dhcp_hosts"]) == (None, [])
    assert state["ports"] == [
        {
            "id": str(nic.pk),
            "instance_id": str(nic.instance_id),
            "network_id": str(network.pk),
            "mac": nic.mac_address,
            "fixed_ips": [{"subnet_id": str(network.subnets.get().pk), "ip": "192.168.1.3"}],
            "device": "tap" + nic.pk.hex[:12],
            "security_group_ids": sorted([str(cloud["web"].pk), str(cloud["default"].pk)]),
        }
    ]
    groups = {g["id"]: g for g in state["security_groups"]}
    assert set(groups) == {str(cloud["web"].pk), str(cloud["default"].pk)}
    assert groups[str(cloud["web"].pk)]["rules"] == [
        {
            "direction": "ingress",
            "ethertype": "IPv4",
            "protocol": "tcp",
            "port_min": 22,
            "port_max": 22,
            "icmp_type": None,
            "icmp_code": None,
            "remote_cidr": None,
            "remote_group_id": str(cloud["web"].pk),
        }
    ]
    assert groups[str(cloud["web"].pk)]["member_ips"] == ["192.168.1.3"]
    assert groups[str(cloud["default"].pk)]["member_ips"] == ["192.168.1.3", "192.168.1.4"]
    assert state["routers"] == []


def test_the_network_node_gets_the_dhcp_entries_the_router_and_its_floating_ips(cloud):
    state = desired_state(cloud["node"])
    networks = {n["id"]: n for n in state["networks"]}
    private = networks[str(cloud["network"].pk)]
    assert private["dhcp_server"]["ips"] == ["192.168.1.2"]
    assert private["dhcp_hosts"] == [
        {"mac": cloud["nic"].mac_address, "ip": "192.168.1.3", "hostname": "web-server--1"},
        {"mac": cloud["other"].mac_address, "ip": "192.168.1.4", "hostname": "db"},
    ]
    assert networks[str(cloud["public"].pk)]["external"] is True
    assert state["ports"] == []
    [router] = state["routers"]
    assert [(i["ip"], i["prefixlen"]) for i in router["interfaces"]] == [("192.168.1.1", 24)]
    external = router["external"]
    assert (external["network_id"], external["ip"], external["prefixlen"], external["gateway"]) == (
        str(cloud["public"].pk),
        "203.0.113.2",
        24,
        "203.0.113.1",
    )
    assert router["snat"] is True
    assert router["floating"] == [{"floating_ip": "203.0.113.3", "fixed_ip": "192.168.1.3"}]


def test_each_read_of_a_state_has_a_larger_generation(cloud):
    first = desired_state(cloud["first"])["generation"]
    assert desired_state(cloud["first"])["generation"] > first


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_state_is_read_in_one_snapshot_under_the_hosts_lock(
    root, zone, node, pool, project
):
    from django.db import connection

    project_network(project, zone)
    assert not connection.in_atomic_block
    states = [desired_state(node) for _ in range(3)]
    assert [s["generation"] for s in states] == sorted({s["generation"] for s in states})
    assert states[0]["networks"] == states[2]["networks"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        assert cursor.fetchone()[0] == 0
