"""Tenant-isolation cases of the networks routes (see apps/core/tests/isolation.py)."""

import uuid
from types import SimpleNamespace

from apps.core.tests.isolation import Case, per_tenant, platform
from apps.infrastructure.tests.factories import ZoneFactory
from apps.networks.models import Network, VlanPool
from apps.networks.services import floating_ips, ports, routers, security_groups

from .factories import SYSTEM, flat_network, network_node, nics_for, project_network, public_pool, vlan_pool


def _zone():
    """A zone with a network node and a VLAN pool, made once per test."""
    zone = ZoneFactory(name="zone-of-the-platform")
    if not VlanPool.objects.filter(zone=zone).exists():
        network_node(zone)
        vlan_pool(zone)
    return zone


def _network(tenants):
    return project_network(tenants.other.project, _zone(), name="network-of-tenant-b")


def _port(tenants, network=None):
    network = network or _network(tenants)
    return ports.create_port(SYSTEM, tenants.other.project, network_id=network.pk, name="port-of-tenant-b")


def _router(tenants, **options):
    public = public_pool(_zone(), name="pool-of-the-platform")
    router = routers.create_router(
        SYSTEM,
        tenants.other.project,
        name="router-of-tenant-b",
        zone=_zone(),
        external_network_id=public.pk,
        **options,
    )
    return router, public


def _floating_ip(tenants, associated=False):
    router, public = _router(tenants)
    network = _network(tenants)
    routers.add_interface(SYSTEM, router, subnet_id=network.subnets.get().pk)
    floating = floating_ips.allocate_floating_ip(SYSTEM, tenants.other.project, network_id=public.pk)
    port = _port(tenants, network)
    if associated:
        floating = floating_ips.associate(SYSTEM, floating, port_id=port.pk)
    return floating, port


@per_tenant("api:network-detail")
def another_tenants_network(tenants):
    return Case.of(_network(tenants), body={"name": "taken-over"})


@per_tenant("api:network-detail")
def a_network_shared_with_another_tenant_only(tenants):
    network = flat_network(
        _zone(), cidr="10.60.0.0/24", name="shared-with-b", shared_with=[tenants.other.project]
    )
    return Case.of(network, body={"name": "taken-over"})


@per_tenant("api:subnet-detail")
def another_tenants_subnet(tenants):
    return Case.of(_network(tenants).subnets.get(), body={"name": "taken-over"})


@per_tenant("api:port-detail")
def another_tenants_port(tenants):
    return Case.of(_port(tenants), body={"name": "taken-over"})


@per_tenant("api:floating-ip-detail", "api:floating-ip-associate")
def another_tenants_floating_ip(tenants):
    floating, port = _floating_ip(tenants)
    return Case.of(floating, body={"port_id": str(port.pk)})


@per_tenant("api:floating-ip-disassociate")
def another_tenants_associated_floating_ip(tenants):
    return Case.of(_floating_ip(tenants, associated=True)[0])


@per_tenant("api:router-detail")
def another_tenants_router(tenants):
    return Case.of(_router(tenants)[0], body={"name": "taken-over"})


@per_tenant("api:router-add-interface")
def another_tenants_router_and_subnet(tenants):
    router, _ = _router(tenants)
    return Case.of(router, body={"subnet_id": str(_network(tenants).subnets.get().pk)})


@per_tenant("api:router-remove-interface")
def another_tenants_router_with_an_interface(tenants):
    router, _ = _router(tenants)
    subnet = _network(tenants).subnets.get()
    routers.add_interface(SYSTEM, router, subnet_id=subnet.pk)
    return Case.of(router, body={"subnet_id": str(subnet.pk)})


@per_tenant("api:router-set-gateway")
def another_tenants_router_losing_its_gateway(tenants):
    router, _ = _router(tenants)
    return Case.of(router, body={"external_network_id": None, "enable_snat": False})


@per_tenant("api:security-group-detail")
def another_tenants_security_group(tenants):
    group = security_groups.create_security_group(SYSTEM, tenants.other.project, name="group-of-tenant-b")
    return Case.of(group, body={"description": "taken over"})


@per_tenant("api:security-group-rule-detail")
def another_tenants_security_group_rule(tenants):
    group = security_groups.create_security_group(SYSTEM, tenants.other.project, name="group-of-tenant-b")
    rule = security_groups.create_rule(SYSTEM, group, direction="ingress", protocol="tcp", port_min=22)
    return Case.of(rule)


@platform("api:vlan-pool-detail", reason="VLAN pools are the cloud's: only cloud admins see or change them.")
def a_vlan_pool(tenants):
    return Case.of(vlan_pool(ZoneFactory(name="zone-with-a-pool"), 700, 799))


@platform(
    "api:public-pool-detail",
    reason="Public pools are the cloud's catalogue of public addresses: tenants see those shared with them.",
)
def a_public_pool(tenants):
    return Case.of(public_pool(_zone(), cidr="198.51.100.0/24", name="pool-of-the-platform"))


@platform(
    "api:host-network-detail",
    "api:host-network-desired-state",
    reason="Hosts' network configuration and state are the cloud's: only cloud admins see or change them.",
)
def a_hosts_network_configuration(tenants):
    _network(tenants)
    node = Network.objects.get(name="network-of-tenant-b").dhcp_host
    return Case.of(node, body={"network_node": True})


def _project_page(tenants, **body):
    project = tenants.other.project
    return Case(project, {"project_id": project.pk}, body=body)


@per_tenant("networks:network-list", "networks:network-create", "networks:security-group-list")
@per_tenant("networks:security-group-create", "networks:floating-ip-list")
def another_tenants_networks_pages(tenants):
    body = {"network-name": "taken-over", "network-zone_id": str(_zone().pk), "name": "taken-over"}
    return _project_page(tenants, **body)


@per_tenant("networks:floating-ip-allocate")
def another_tenants_floating_ip_page(tenants):
    public = public_pool(_zone(), name="pool-of-the-platform")
    return _project_page(tenants, network_id=str(public.pk))


@per_tenant("networks:network-delete")
def another_tenants_network_on_its_page(tenants):
    network = _network(tenants)
    return Case(network, {"project_id": network.project_id, "network_id": network.pk})


@per_tenant("networks:subnet-create")
def another_tenants_network_given_a_subnet_on_its_page(tenants):
    network = _network(tenants)
    body = {f"subnet-{network.pk.hex[:8]}-cidr": "2001:db8::/64"}
    return Case(network, {"project_id": network.project_id, "network_id": network.pk}, body=body)


@per_tenant("networks:subnet-delete")
def another_tenants_subnet_on_its_page(tenants):
    subnet = _network(tenants).subnets.get()
    return Case(subnet, {"project_id": tenants.other.project.pk, "subnet_id": subnet.pk})


def _group_page(tenants, **body):
    group = security_groups.create_security_group(SYSTEM, tenants.other.project, name="group-of-tenant-b")
    return group, Case(group, {"project_id": group.project_id, "security_group_id": group.pk}, body=body)


@per_tenant("networks:security-group-detail", "networks:security-group-delete")
def another_tenants_security_group_on_its_page(tenants):
    return _group_page(tenants)[1]


@per_tenant("networks:rule-create")
def another_tenants_security_group_given_a_rule_on_its_page(tenants):
    return _group_page(tenants, direction="ingress", ethertype="IPv4", protocol="tcp", port_min=22)[1]


@per_tenant("networks:rule-delete")
def another_tenants_rule_on_its_page(tenants):
    group, _ = _group_page(tenants)
    rule = security_groups.create_rule(SYSTEM, group, direction="ingress", protocol="tcp", port_min=22)
    kwargs = {"project_id": group.project_id, "security_group_id": group.pk, "security_rule_id": rule.pk}
    return Case(rule, kwargs)


@per_tenant("networks:floating-ip-associate")
def another_tenants_floating_ip_on_its_page(tenants):
    floating, _ = _floating_ip(tenants)
    network = Network.objects.get(name="network-of-tenant-b")
    instance = SimpleNamespace(pk=uuid.uuid4(), name="instance-of-tenant-b")
    [port] = nics_for(tenants.other.project, [{"network_id": network.pk}], instance)
    return Case(
        floating,
        {"project_id": floating.project_id, "floating_id": floating.pk},
        body={"port_id": str(port.pk)},
    )


@per_tenant("networks:floating-ip-release", "networks:floating-ip-disassociate")
def another_tenants_associated_floating_ip_on_its_page(tenants):
    floating, _ = _floating_ip(tenants, associated=True)
    return Case(floating, {"project_id": floating.project_id, "floating_id": floating.pk})


@platform(
    "networks:admin-vlan-pool-delete",
    reason="VLAN pools are the cloud's: only cloud admins see or change them.",
)
def a_vlan_pool_on_its_admin_page(tenants):
    pool = vlan_pool(ZoneFactory(name="zone-with-a-pool"), 700, 799)
    return Case(pool, {"vlan_pool_id": pool.pk})


@platform(
    "networks:admin-public-pool-delete",
    reason="Public pools are the cloud's catalogue of public addresses: only cloud admins change them.",
)
def a_public_pool_on_its_admin_page(tenants):
    pool = public_pool(_zone(), cidr="198.51.100.0/24", name="pool-of-the-platform")
    return Case(pool, {"public_pool_id": pool.pk})


@platform(
    "networks:admin-host-network",
    "networks:admin-host-network-update",
    reason="Hosts' network configuration and state are the cloud's: only cloud admins see or change them.",
)
def a_hosts_network_on_its_admin_page(tenants):
    _network(tenants)
    node = Network.objects.get(name="network-of-tenant-b").dhcp_host
    return Case(node, {"host_id": node.pk}, body={"network_node": "on", "physical_networks": "physnet1=eth9"})
