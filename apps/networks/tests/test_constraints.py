"""The database itself refuses what must never happen, whatever the code above it does."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.identity.tests.factories import ProjectFactory
from apps.networks.models import Network, Port, SecurityGroup, SecurityGroupRule, Subnet, SubnetAddress
from apps.networks.services.security_groups import default_group

from .factories import flat_network, project_network


def violates(constraint, make):
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        make()
    assert constraint in str(caught.value)


def test_an_address_row_exists_once_per_subnet(zone):
    subnet = flat_network(zone, cidr="10.1.0.0/29").subnets.get()
    violates(
        "subnet_address_given_once",
        lambda: SubnetAddress.objects.create(subnet=subnet, address="10.1.0.2", available_at=timezone.now()),
    )


def test_overlapping_subnets_are_refused_within_a_network_and_allowed_across(zone, node, pool, project):
    network = project_network(project, zone, cidr="192.168.0.0/24")
    violates(
        "subnet_no_overlap_in_network",
        lambda: Subnet.objects.create(network=network, ip_version=4, cidr="192.168.0.128/25"),
    )
    other = project_network(project, zone, cidr="192.168.0.0/24", name="twin")
    assert other.subnets.get().cidr == "192.168.0.0/24"


def test_a_vlan_id_is_taken_once_per_zone(zone, node, pool, project):
    network = project_network(project, zone)
    violates(
        "network_unique_vlan_in_zone",
        lambda: Network.objects.create(
            name="copy", zone=zone, network_type="vlan", physical_network="physnet1", vlan_id=network.vlan_id
        ),
    )


def test_a_vlan_network_without_a_vlan_id_is_refused(zone):
    violates(
        "network_vlan_id_iff_vlan",
        lambda: Network.objects.create(name="bad", zone=zone, network_type="vlan", physical_network="p"),
    )


def test_a_mac_is_given_once_across_the_cloud(zone):
    network = flat_network(zone)
    Port.objects.create(network=network, mac_address="fa:16:3e:00:00:01")
    violates("port_unique_mac", lambda: Port.objects.create(network=network, mac_address="FA-16-3E-00-00-01"))


def test_a_port_hostname_is_a_dns_label_so_nothing_else_reaches_the_dhcp_hosts_file(zone):
    network = flat_network(zone)
    violates(
        "port_hostname_is_dns_label",
        lambda: Port.objects.create(network=network, mac_address="fa:16:3e:00:00:02", hostname="x,set:evil"),
    )


def test_a_project_has_one_default_security_group(root):
    project = ProjectFactory()
    default_group(project)
    violates(
        "security_group_one_default",
        lambda: SecurityGroup.objects.create(project=project, name="another", is_default=True),
    )


def test_a_rule_exactly_like_another_is_refused_even_with_empty_fields(root):
    group = default_group(ProjectFactory())
    fields = {"security_group": group, "project": group.project, "direction": "ingress", "ethertype": "IPv4"}
    SecurityGroupRule.objects.create(**fields, protocol="tcp", port_min=22, port_max=22)
    violates(
        "rule_unique_in_group",
        lambda: SecurityGroupRule.objects.create(**fields, protocol="tcp", port_min=22, port_max=22),
    )


@pytest.mark.parametrize(
    ("constraint", "fields"),
    [
        ("rule_port_range_valid", {"protocol": None, "port_min": 22, "port_max": 22}),
        ("rule_port_range_valid", {"protocol": "icmp", "port_min": 1, "port_max": 2}),
        ("rule_port_range_valid", {"protocol": "tcp", "port_min": 30, "port_max": 20}),
        ("rule_port_range_valid", {"protocol": "tcp", "port_min": None, "port_max": 20}),
        ("rule_icmp_valid", {"protocol": None, "icmp_type": 8}),
        ("rule_icmp_valid", {"protocol": "icmp", "icmp_code": 0}),
        ("rule_one_remote", {"remote_cidr": "10.0.0.0/8", "remote_group": "self"}),
    ],
)
def test_a_rule_that_makes_no_sense_is_refused(root, constraint, fields):
    group = default_group(ProjectFactory())
    if fields.get("remote_group") == "self":
        fields["remote_group"] = group
    violates(
        constraint,
        lambda: SecurityGroupRule.objects.create(
            security_group=group, project=group.project, direction="ingress", ethertype="IPv4", **fields
        ),
    )


def test_a_gateway_outside_its_subnet_is_refused(zone):
    network = flat_network(zone)
    violates(
        "subnet_gateway_inside",
        lambda: Subnet.objects.create(
            network=network, ip_version=4, cidr="10.9.0.0/24", gateway_ip="10.8.0.1"
        ),
    )
