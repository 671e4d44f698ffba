"""Read queries of the networks app, always scoped to what the principal may see.

A project's own objects follow the usual rule (`visible()`). A shared network
is seen by those who act in a project or domain its access rows reach: a
project named, a domain named, or any domain under a named one. A network
another tenant cannot see is a 404 like one that does not exist, and so is
everything on it.
"""

import ipaddress

from django.db.models import Exists, OuterRef, Q

from apps.core.scoping import NOTHING, visible
from apps.core.tree import PLATFORM
from apps.identity.models import Project

from .models import (
    FloatingIP,
    Network,
    NetworkAccess,
    Port,
    Router,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
    VlanPool,
)
from .policy_actions import NETWORK_INFRASTRUCTURE_READ, NETWORK_READ


def paths_above(path):
    """'/a/b/c/' -> ['/a/', '/a/b/', '/a/b/c/']: a domain's own path and those of the domains above it."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:depth]) + "/" for depth in range(1, len(parts) + 1)]


def _granted(access):
    """Shared networks with an access row matching `access` (a Q on NetworkAccess)."""
    return Q(project__isnull=True) & Exists(NetworkAccess.objects.filter(access, network=OuterRef("pk")))


def _shared_reaching(principal):
    """Where the principal acts, as a Q on NetworkAccess: the projects and domains it reads in."""
    scope = principal.scope_project
    if scope is not None:
        if not principal.can(NETWORK_READ, scope.target()):
            return NOTHING
        return Q(project=scope) | Q(domain__path__in=paths_above(scope.domain.path))
    reaching = NOTHING
    for grant in principal.grants_for(NETWORK_READ):
        if grant.project_id is not None:
            reaching |= Q(project_id=grant.project_id) | Exists(
                Project.objects.filter(id=grant.project_id, domain__path__startswith=OuterRef("domain__path"))
            )
            continue
        subtree = grant.domain_path
        if principal.scope_domain is not None:
            scope_path = principal.scope_domain.path
            if not (subtree.startswith(scope_path) or scope_path.startswith(subtree)):
                continue
            subtree = max(subtree, scope_path, key=len)
        reaching |= (
            Q(domain__path__in=paths_above(subtree))
            | Q(domain__path__startswith=subtree)
            | Q(project__domain__path__startswith=subtree)
        )
    return reaching


def networks_for(principal):
    queryset = Network.objects.select_related("zone", "project__domain")
    if principal.can(NETWORK_READ, PLATFORM):
        return queryset
    own = visible(
        queryset.filter(project__isnull=False), principal, NETWORK_READ, domain_path="project__domain__path"
    )
    return own | queryset.filter(_granted(_shared_reaching(principal)))


def subnets_for(principal):
    return Subnet.objects.select_related("network").filter(network__in=networks_for(principal).values("pk"))


def _of_projects(queryset, principal):
    """A project-owned model's rows where the principal reads; platform readers also see the network's own."""
    if principal.can(NETWORK_READ, PLATFORM):
        return queryset
    return visible(queryset, principal, NETWORK_READ, domain_path="project__domain__path")


def ports_for(principal):
    return _of_projects(
        Port.objects.select_related("network").prefetch_related("addresses", "security_groups"), principal
    )


def routers_for(principal):
    return _of_projects(Router.objects.select_related("gateway_port__network", "project__domain"), principal)


def floating_ips_for(principal):
    return _of_projects(FloatingIP.objects.select_related("project__domain"), principal)


def security_groups_for(principal):
    return _of_projects(
        SecurityGroup.objects.select_related("project__domain").prefetch_related("rules"), principal
    )


def security_group_rules_for(principal):
    return _of_projects(SecurityGroupRule.objects.select_related("project__domain"), principal)


def vlan_pools_for(principal):
    if principal.can(NETWORK_INFRASTRUCTURE_READ, PLATFORM):
        return VlanPool.objects.select_related("zone")
    return VlanPool.objects.none()


def public_pools_for(principal):
    """Public pools (external networks): everyone who may read networks sees those shared with them."""
    return networks_for(principal).filter(external=True)


def usable_networks(project):
    """The networks `project` may plug instances into: its own and those shared with it (public pools
    aside), each with a subnet; the ones an instance gets when it names none (see instance_ports)."""
    shared = _granted(Q(project=project) | Q(domain__path__in=paths_above(project.domain.path)))
    return (
        Network.objects.filter(Q(project=project) | shared, external=False)
        .filter(Exists(Subnet.objects.filter(network=OuterRef("pk"))))
        .order_by("name", "id")
    )


def addresses_of(instance_ids):
    """{instance id: [NIC]} of each instance's NICs in order, as its owner sees them: the port, network,
    MAC, fixed IPs and floating IPs. Three statements for any number of instances."""
    ports = list(
        Port.objects.filter(instance_id__in=list(instance_ids))
        .select_related("network")
        .prefetch_related("addresses", "floating_ips")
        .order_by("instance_id", "device_index")
    )
    found = {}
    for port in ports:
        fixed_ips = [
            {"subnet_id": str(a.subnet_id), "ip_address": a.address}
            for a in sorted(port.addresses.all(), key=lambda a: ipaddress.ip_address(a.address))
        ]
        floating_ips = [f.floating_ip_address for f in port.floating_ips.all()]
        found.setdefault(port.instance_id, []).append(nic_addresses(port, fixed_ips, floating_ips))
    return found


def nic_addresses(port, fixed_ips, floating_ips=()):
    """One NIC as addresses_of shows it."""
    return {
        "port_id": str(port.pk),
        "network_id": str(port.network_id),
        "network_name": port.network.name,
        "mac_address": port.mac_address,
        "fixed_ips": list(fixed_ips),
        "floating_ips": list(floating_ips),
    }
