"""Every networks resource is claimed by the object it counts, so recalcquota sees what exists."""

from apps.networks.models import Port
from apps.networks.quota_resources import RESOURCES
from apps.networks.services import floating_ips, port_records, ports, routers, security_groups
from apps.quotas import resources
from apps.quotas import services as quotas
from apps.quotas.recalc import recalculate

from .factories import SYSTEM, project_network, public_pool


def test_the_networks_resources_are_in_the_quota_catalogue():
    assert {name for name, *_ in RESOURCES} <= set(resources.resource_types())
    assert {name for name, *_ in RESOURCES} == {
        "networks",
        "subnets",
        "ports",
        "routers",
        "floating_ips",
        "security_groups",
        "security_group_rules",
    }


def test_recalcquota_finds_no_drift_with_everything_made_and_an_orphan_once_a_holder_vanishes(
    project, zone, node, pool
):
    network = project_network(project, zone)
    public = public_pool(zone)
    port = ports.create_port(SYSTEM, project, network_id=network.pk)
    router = routers.create_router(SYSTEM, project, name="r", zone=zone, external_network_id=public.pk)
    routers.add_interface(SYSTEM, router, subnet_id=network.subnets.get().pk)
    floating = floating_ips.allocate_floating_ip(SYSTEM, project, network_id=public.pk)
    floating_ips.associate(SYSTEM, floating, port_id=port.pk)
    group = security_groups.create_security_group(SYSTEM, project, name="web")
    security_groups.create_rule(SYSTEM, group, direction="ingress", protocol="tcp", port_min=80)
    usage = quotas.usage_of(project)
    assert {name: usage[name][1] for name, *_ in RESOURCES} == {
        "networks": 1,
        "subnets": 1,
        "ports": 1,
        "routers": 1,
        "floating_ips": 1,
        "security_groups": 1,
        "security_group_rules": 1,
    }
    assert recalculate().clean

    floating_ips.disassociate(SYSTEM, floating)
    port_records.remove([Port.objects.get(pk=port.pk)])  # the rows go, the claim is not released
    found = recalculate()
    assert [(o.holder, o.resource) for o in found.orphans] == [(f"networks.port:{port.pk}", "ports")]
    assert found.unheld == []


def test_recalcquota_finds_a_port_that_holds_no_claim(project, zone, node, pool):
    network = project_network(project, zone)
    port = ports.create_port(SYSTEM, project, network_id=network.pk)
    quotas.release(port)

    found = recalculate()

    assert [(u.holder, u.resource, u.expected, u.held) for u in found.unheld] == [
        (f"networks.port:{port.pk}", "ports", 1, 0)
    ]
