"""The networks pages' destructive actions, each asked first on a confirmation page (apps/core/web/flow.py):
deleting a network, a subnet, a security group or one of its rules, releasing or disassociating a floating
IP, and the admin portal's deleting a VLAN pool or a public pool.

Opening one of these addresses changes nothing and says what goes, what follows and what would refuse it;
only the confirming POST performs, through the same service as the API. Another tenant's object is not
found; those who may not do it get a refusal page before any confirmation (the services check again).
"""

from django.db.models import Count
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from apps.core.scoping import get_or_404
from apps.core.tree import PLATFORM
from apps.core.web.decorators import portal_view
from apps.core.web.flow import asked
from apps.core.web.frame import dashboard_project
from apps.identity.services.common import require

from .. import selectors
from ..models import Port, SecurityGroupRule, SubnetAddress, VlanPool
from ..policy_actions import NETWORK_PROVIDER
from ..services import floating_ips, networks, pools, security_groups, subnets
from .dashboard import own_floating_ip, own_network, own_security_group, project_url

admin_view = portal_view(admin=True)

# What holds a network's addresses, in words (singular, plural).
HOLDERS = {
    Port.COMPUTE: ("instance NIC", "instance NICs"),
    Port.UNATTACHED: ("port not attached to an instance", "ports not attached to an instance"),
    Port.ROUTER_INTERFACE: ("router interface", "router interfaces"),
    Port.ROUTER_GATEWAY: ("router gateway", "router gateways"),
    Port.FLOATING_IP: ("floating IP", "floating IPs"),
}


def counted(count, singular, plural=None):
    """'1 port', '3 ports'."""
    return f"{count} {singular if count == 1 else plural or singular + 's'}"


def holders_in_words(ports):
    """'2 instance NICs and 1 router interface': what holds addresses among `ports`, the DHCP server's aside
    (a floating IP holds one by its address port); "" for nothing, when deleting is not refused for them."""
    counts = dict(ports.exclude(device_owner=Port.DHCP).values_list("device_owner").annotate(Count("pk")))
    parts = [counted(counts[owner], *words) for owner, words in HOLDERS.items() if owner in counts]
    return " and ".join(filter(None, [", ".join(parts[:-1]), parts[-1]])) if parts else ""


# --- the dashboard --------------------------------------------------------------------------------


def _on_dashboard(request, project, operation, **words):
    """Ask first, in the frame of the dashboard of `project`."""
    return asked(request, operation, area="dashboard", project=project, **words)


@require_http_methods(["GET", "POST"])
@portal_view
def network_delete(request, project_id, network_id):
    project, scoped = dashboard_project(request, project_id)
    network = own_network(scoped, project, network_id)
    require(request.actor, "networks.network.delete", network.target(), "You may not delete this network.")
    cidrs = list(network.subnets.order_by("ip_version", "cidr").values_list("cidr", flat=True))
    with_subnets = f", with its subnet{'s' if len(cidrs) > 1 else ''} {', '.join(cidrs)} and its DHCP server"
    consequences = [
        f"Network {network.name} is removed for good{with_subnets if cidrs else ''}.",
        "The project's network quota gets one back.",
    ]
    in_use = holders_in_words(network.ports.all())
    if in_use:
        consequences.append(f"It still has {in_use} on it: the deletion is refused until they are gone.")
    return _on_dashboard(
        request,
        project,
        lambda: networks.delete_network(request.actor, network),
        title=f"Delete network {network.name}?",
        button=f"Delete network {network.name}",
        consequences=consequences,
        back=project_url("network-list", project),
        message=f"Network {network.name} deleted.",
    )


@require_http_methods(["GET", "POST"])
@portal_view
def subnet_delete(request, project_id, subnet_id):
    project, scoped = dashboard_project(request, project_id)
    found = selectors.subnets_for(scoped).filter(network__project=project).select_related("network")
    subnet = get_or_404(found, "subnet", pk=subnet_id)
    require(request.actor, "networks.subnet.delete", subnet.target(), "You may not delete this subnet.")
    network = subnet.network
    consequences = [
        f"Subnet {subnet.cidr} of network {network.name} is removed: no address is given from it any more,"
        " and the network's DHCP server stops serving it."
    ]
    holders = holders_in_words(
        Port.objects.filter(pk__in=SubnetAddress.objects.filter(subnet=subnet).values("port"))
    )
    if holders:
        consequences.append(
            f"Its addresses are still given to {holders}: the deletion is refused until they are gone."
        )
    return _on_dashboard(
        request,
        project,
        lambda: subnets.delete_subnet(request.actor, subnet),
        title=f"Delete subnet {subnet.cidr} of {network.name}?",
        button=f"Delete subnet {subnet.cidr}",
        consequences=consequences,
        back=project_url("network-list", project),
        message=f"Subnet {subnet.cidr} deleted.",
    )


def _group_deletion_in_words(group):
    """What deleting `group` takes with it, or why it is refused."""
    if group.is_default:
        return ["It is the project's default group: it cannot be deleted, only its rules changed."]
    own_rules = SecurityGroupRule.objects.filter(security_group=group).count()
    consequences = [
        f"Security group {group.name} is deleted"
        + (f" with its {counted(own_rules, 'rule')}." if own_rules else "; it has no rules.")
    ]
    naming_it = SecurityGroupRule.objects.filter(remote_group=group).exclude(security_group=group)
    names = sorted({rule.security_group.name for rule in naming_it.select_related("security_group")})
    if names:
        consequences.append(
            "Rules of other groups that let its members in or out go with it"
            f" ({counted(naming_it.count(), 'rule')}, of {', '.join(names)}): their ports no longer allow"
            " that traffic."
        )
    members = group.ports.count()
    if members:
        consequences.append(
            f"It is still used by {counted(members, 'port')}: the deletion is refused until they leave it."
        )
    return consequences


@require_http_methods(["GET", "POST"])
@portal_view
def security_group_delete(request, project_id, security_group_id):
    project, scoped = dashboard_project(request, project_id)
    group = own_security_group(scoped, project, security_group_id)
    require(
        request.actor,
        "networks.security_group.delete",
        group.target(),
        "You may not delete this security group.",
    )
    consequences = _group_deletion_in_words(group)
    return _on_dashboard(
        request,
        project,
        lambda: security_groups.delete_security_group(request.actor, group),
        title=f"Delete security group {group.name}?",
        button=f"Delete {group.name}",
        consequences=consequences,
        back=project_url("security-group-detail", project, group.pk),
        done=project_url("security-group-list", project),
        message=f"Security group {group.name} deleted.",
    )


def rule_in_words(rule):
    """'ingress IPv4 tcp 443 from 203.0.113.0/24', as the group's page lists it."""
    what = [rule.direction, rule.ethertype, rule.protocol or "any protocol"]
    if rule.port_min:
        what.append(
            str(rule.port_min) if rule.port_max == rule.port_min else f"{rule.port_min}-{rule.port_max}"
        )
    elif rule.icmp_type is not None:
        what.append(
            f"type {rule.icmp_type}" + (f" code {rule.icmp_code}" if rule.icmp_code is not None else "")
        )
    towards = "from" if rule.direction == SecurityGroupRule.INGRESS else "to"
    if rule.remote_cidr:
        what.append(f"{towards} {rule.remote_cidr}")
    elif rule.remote_group_id:
        what.append(f"{towards} members of {rule.remote_group.name}")
    else:
        what.append(f"{towards} anywhere")
    return " ".join(what)


@require_http_methods(["GET", "POST"])
@portal_view
def rule_delete(request, project_id, security_group_id, security_rule_id):
    project, scoped = dashboard_project(request, project_id)
    group = own_security_group(scoped, project, security_group_id)
    rules = SecurityGroupRule.objects.filter(security_group=group).select_related("remote_group")
    rule = get_or_404(rules, "rule", pk=security_rule_id)
    require(
        request.actor,
        "networks.security_group.update",
        group.target(),
        "You may not change this security group.",
    )
    members = group.ports.count()
    allowed = "accept" if rule.direction == SecurityGroupRule.INGRESS else "send"
    allowed += "s" if members == 1 else ""
    consequences = [
        f"The {counted(members, 'port')} in {group.name} no longer {allowed} what only this rule allowed,"
        " as soon as their hosts apply the change."
        if members
        else f"No port is in {group.name} now: no traffic changes."
    ]
    consequences.append("The rule can be added again; the project's rule quota gets one back meanwhile.")
    return _on_dashboard(
        request,
        project,
        lambda: security_groups.delete_rule(request.actor, rule),
        title=f"Remove the rule '{rule_in_words(rule)}' from {group.name}?",
        button="Remove the rule",
        consequences=consequences,
        back=project_url("security-group-detail", project, group.pk),
        message=f"Rule removed from {group.name}.",
    )


def _reaches(floating):
    """'web-1 (192.168.7.3)': the NIC the floating IP reaches."""
    port = floating.fixed_port
    return f"{port.hostname or port.instance_id or port.name or 'a port'} ({floating.fixed_ip_address})"


@require_http_methods(["GET", "POST"])
@portal_view
def floating_ip_release(request, project_id, floating_id):
    project, scoped = dashboard_project(request, project_id)
    floating = own_floating_ip(scoped, project, floating_id)
    address = floating.floating_ip_address
    require(
        request.actor,
        "networks.floating_ip.delete",
        floating.target(),
        "You may not release this floating IP.",
    )
    consequences = [
        f"{address} goes back to the pool {floating.network.name}: another project may be given it, and this"
        " project cannot ask for it back.",
    ]
    if floating.associated:
        consequences.append(
            f"It reaches {_reaches(floating)} now: that NIC is no longer reachable at {address}."
        )
    consequences.append("The project's floating IP quota gets one back.")
    return _on_dashboard(
        request,
        project,
        lambda: floating_ips.release_floating_ip(request.actor, floating),
        title=f"Release floating IP {address}?",
        button=f"Release {address}",
        consequences=consequences,
        back=project_url("floating-ip-list", project),
        message=f"Floating IP {address} released.",
    )


@require_http_methods(["GET", "POST"])
@portal_view
def floating_ip_disassociate(request, project_id, floating_id):
    project, scoped = dashboard_project(request, project_id)
    floating = own_floating_ip(scoped, project, floating_id, associated=True)
    address = floating.floating_ip_address
    require(
        request.actor,
        "networks.floating_ip.update",
        floating.target(),
        "You may not change this floating IP.",
    )
    return _on_dashboard(
        request,
        project,
        lambda: floating_ips.disassociate(request.actor, floating),
        title=f"Disassociate floating IP {address} from {_reaches(floating)}?",
        button=f"Disassociate {address}",
        consequences=(
            f"{address} stops reaching {_reaches(floating)}: connections made through it are cut.",
            "The project keeps the address, and can associate it again.",
        ),
        back=project_url("floating-ip-list", project),
        message=f"Floating IP {address} disassociated.",
    )


# --- the admin portal -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@admin_view
def vlan_pool_delete(request, vlan_pool_id):
    pool = get_or_404(selectors.vlan_pools_for(request.actor.principal), "VLAN pool", pk=vlan_pool_id)
    require(
        request.actor, "networks.vlan_pool.delete", PLATFORM, "Only cloud administrators delete VLAN pools."
    )
    used = pool.vlans_used()
    consequences = [
        f"VLAN ids {pool.vlan_min}-{pool.vlan_max} of {pool.physical_network} are no longer given to new"
        f" isolated networks in zone {pool.zone.name}.",
        f"Networks that took their VLAN id from it keep it ({counted(used, 'network')} now).",
    ]
    if not VlanPool.objects.filter(zone=pool.zone).exclude(pk=pool.pk).exists():
        consequences.append(
            f"It is the last VLAN pool of zone {pool.zone.name}: tenants cannot create isolated networks"
            " there until another is added."
        )
    back = reverse("networks:admin-vlan-pools")
    return asked(
        request,
        lambda: pools.delete_vlan_pool(request.actor, pool),
        title=f"Delete VLAN pool {pool} of zone {pool.zone.name}?",
        button=f"Delete VLAN pool {pool.vlan_min}-{pool.vlan_max}",
        consequences=consequences,
        back=back,
        message=f"VLAN pool {pool} deleted.",
        area="admin",
    )


@require_http_methods(["GET", "POST"])
@admin_view
def public_pool_delete(request, public_pool_id):
    # Those who may not change pools see the shared ones listed, and find none here to delete.
    found = selectors.public_pools_for(request.actor.principal).select_related("zone")
    if not request.actor.can(NETWORK_PROVIDER, PLATFORM):
        found = found.none()
    pool = get_or_404(found, "public pool", pk=public_pool_id)
    cidrs = ", ".join(pool.subnets.values_list("cidr", flat=True))
    consequences = [
        f"Public pool {pool.name} ({cidrs or 'no range'}) of zone {pool.zone.name} is removed: projects can"
        " no longer allocate floating IPs from it, nor routers take a gateway on it.",
    ]
    in_use = holders_in_words(pool.ports.all())
    if in_use:
        consequences.append(
            f"Its addresses are still held by {in_use}: the deletion is refused until they are gone."
        )
    back = reverse("networks:admin-public-pools")
    return asked(
        request,
        lambda: pools.delete_public_pool(request.actor, pool),
        title=f"Delete public pool {pool.name}?",
        button=f"Delete public pool {pool.name}",
        consequences=consequences,
        back=back,
        message=f"Public pool {pool.name} deleted.",
        area="admin",
    )
