"""IPAM: addresses given in order, never twice, held after release, refused with a 409 naming the network."""

import ipaddress

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.errors import Conflict, ValidationFailed
from apps.networks import ipam
from apps.networks.addressing import slaac_address
from apps.networks.models import Port, SubnetAddress
from apps.networks.services import ports

from .factories import SYSTEM, flat_network


def new_port(project, network, **options):
    return ports.create_port(SYSTEM, project, network_id=network.pk, **options)


def addresses(port):
    return [f["ip_address"] for f in port.fixed_ips]


@pytest.fixture
def shared(zone, project):
    return flat_network(zone, cidr="10.30.0.0/29", shared_with=[project])


def test_addresses_come_from_the_pool_in_order_and_skip_the_gateway_and_reserved(zone, project):
    network = flat_network(zone, cidr="10.31.0.0/28", shared_with=[project], reserved_addresses=["10.31.0.3"])
    given = [addresses(new_port(project, network))[0] for _ in range(3)]
    assert given == ["10.31.0.2", "10.31.0.4", "10.31.0.5"]


def test_an_exhausted_network_is_a_409_that_names_it(shared, project):
    for _ in range(5):  # a /29: .1 is the gateway, .2-.6 the pool
        new_port(project, shared)
    with pytest.raises(Conflict) as refused:
        new_port(project, shared)
    assert refused.value.code == "ip_addresses_exhausted"
    assert shared.name in refused.value.message
    assert refused.value.details["network_id"] == str(shared.pk)
    assert Port.objects.filter(network=shared).count() == 5


def test_a_released_address_is_held_and_not_given_again_while_held(shared, project, settings):
    settings.CLOUDMGR_IP_HOLD_SECONDS = 3600
    first = new_port(project, shared)
    ports.delete_port(SYSTEM, Port.objects.get(pk=first.pk))
    assert addresses(new_port(project, shared)) != addresses(first)
    with pytest.raises(Conflict) as refused:
        new_port(project, shared, fixed_ips=[{"ip_address": addresses(first)[0]}])
    assert refused.value.code == "ip_address_held"
    for _ in range(3):
        new_port(project, shared)
    with pytest.raises(Conflict) as exhausted:
        new_port(project, shared)
    assert exhausted.value.details["held"] == 1


def test_without_a_hold_the_least_recently_released_address_comes_back_first(shared, project, settings):
    settings.CLOUDMGR_IP_HOLD_SECONDS = 0
    made = [new_port(project, shared) for _ in range(5)]
    for port in (made[3], made[1]):
        ports.delete_port(SYSTEM, Port.objects.get(pk=port.pk))
    assert addresses(new_port(project, shared)) == addresses(made[3])
    assert addresses(new_port(project, shared)) == addresses(made[1])


def test_a_named_address_in_use_is_refused(shared, project):
    new_port(project, shared, fixed_ips=[{"ip_address": "10.30.0.4"}])
    with pytest.raises(Conflict) as refused:
        new_port(project, shared, fixed_ips=[{"ip_address": "10.30.0.4"}])
    assert refused.value.code == "ip_address_in_use"


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("10.30.0.1", "ip_address_reserved"),
        ("10.30.0.0", "ip_address_not_in_network"),
        ("10.30.0.7", "ip_address_not_in_network"),
        ("10.99.0.5", "ip_address_not_in_network"),
        ("not-an-ip", "bad_ip_address"),
    ],
)
def test_no_one_takes_the_gateway_or_an_address_the_subnet_does_not_give(shared, project, address, code):
    with pytest.raises(ValidationFailed) as refused:
        new_port(project, shared, fixed_ips=[{"ip_address": address}])
    assert refused.value.code == code


def test_a_tenant_names_no_address_outside_the_pools_of_a_network_it_does_not_own(zone, project, member):
    from apps.core.actor import Actor
    from apps.core.policy import Principal

    network = flat_network(
        zone, cidr="10.32.0.0/24", shared_with=[project], allocation_pools=[("10.32.0.10", "10.32.0.20")]
    )
    tenant = Actor(Principal(member))
    with pytest.raises(ValidationFailed) as refused:
        ports.create_port(tenant, project, network_id=network.pk, fixed_ips=[{"ip_address": "10.32.0.200"}])
    assert refused.value.code == "ip_address_outside_pool"
    inside = ports.create_port(
        tenant, project, network_id=network.pk, fixed_ips=[{"ip_address": "10.32.0.15"}]
    )
    assert addresses(inside) == ["10.32.0.15"]


def test_an_ipv6_subnet_gives_each_port_its_slaac_address(zone, project):
    network = flat_network(zone, cidr="10.33.0.0/24", shared_with=[project])
    from apps.networks.services.subnets import create_subnet

    create_subnet(SYSTEM, network, cidr="2001:db8:33::/64")
    port = new_port(project, network)
    expected = slaac_address(ipaddress.ip_network("2001:db8:33::/64"), port.mac_address)
    assert addresses(port) == ["10.33.0.2", str(expected)]
    ports.delete_port(SYSTEM, Port.objects.get(pk=port.pk))
    assert not SubnetAddress.objects.filter(subnet__ip_version=6).exists()


def test_allocating_on_a_half_full_slash_16_reads_one_index_entry_not_the_range(zone, project):
    network = flat_network(zone, cidr="10.40.0.0/16", shared_with=[project])
    subnet = network.subnets.get()
    holder = new_port(project, network)
    SubnetAddress.objects.filter(subnet=subnet, address__lt="10.40.128.0").update(port_id=holder.pk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE networks_subnetaddress")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + ipam._TAKE_FREE_SQL, [holder.pk, subnet.pk])
        plan = cursor.fetchone()[0][0]
    scans = list(_nodes(plan["Plan"]))
    assert all(node["Node Type"] != "Seq Scan" for node in scans), scans
    assert any(node.get("Index Name") == "subnet_address_free" for node in scans)
    assert max(node.get("Actual Rows", 0) for node in scans) <= 1
    with CaptureQueriesContext(connection) as queries:
        new_port(project, network)
    assert len(queries) < 25


def _nodes(node):
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)
