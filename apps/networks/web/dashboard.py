"""The dashboard's networks pages: networks and subnets, security groups and their rules, floating IPs.

Thin views over the services the API calls; reads go through the scoped
selectors, with the principal narrowed to the dashboard's project. Tenants see
no physical fact (no physical network, VLAN id or host).
"""

from django.db.models import Prefetch, Q
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.core.scoping import get_or_404
from apps.core.web.decorators import portal_view
from apps.core.web.flow import handled
from apps.core.web.frame import dashboard_project
from apps.core.web.rendering import render_page
from apps.infrastructure.selectors import zones_for

from .. import selectors
from ..models import Port, SecurityGroupRule, Subnet
from ..services import floating_ips, networks, security_groups, subnets
from .forms import AssociateForm, FloatingIpForm, NetworkForm, RuleForm, SecurityGroupForm, SubnetForm


def _page(request, project, template, context, status=200):
    return render_page(request, template, context, area="dashboard", project=project, status=status)


def project_url(name, project, *args):
    return reverse(f"networks:{name}", args=[project.pk, *args])


# --- networks and subnets -------------------------------------------------------------------------


def _networks(scoped, project):
    """The project's networks, and the shared ones it may use (public pools aside), with their subnets."""
    subnets_in_order = Prefetch("subnets", queryset=Subnet.objects.order_by("ip_version", "cidr"))
    usable = selectors.usable_networks(project).values("pk")
    return (
        selectors.networks_for(scoped)
        .filter(Q(project=project) | Q(pk__in=usable))
        .prefetch_related(subnets_in_order)
        .order_by("name", "id")
    )


@require_GET
@portal_view
def network_list(request, project_id):
    project, scoped = dashboard_project(request, project_id)
    return _render_networks(request, project, scoped)


def _subnet_prefix(network):
    """Each network's subnet form has fields of its own (one label, one field)."""
    return f"subnet-{network.pk.hex[:8]}"


def _render_networks(request, project, scoped, *, network_form=None, refused_subnet=None):
    """The page; `refused_subnet` is (network, its form with the refusal) after a failed subnet create."""
    refused_network, refused_form = refused_subnet or (None, None)

    def subnet_form(network):
        if refused_network is not None and network.pk == refused_network.pk:
            return refused_form
        return SubnetForm(prefix=_subnet_prefix(network))

    context = {
        "networks": [
            (network, network.project_id == project.pk, network.subnets.all(), subnet_form(network))
            for network in _networks(scoped, project)
        ],
        "can_create": request.actor.can("networks.network.create", project.target()),
        "can_add_subnet": request.actor.can("networks.subnet.create", project.target()),
        "can_delete": request.actor.can("networks.network.delete", project.target()),
        "can_delete_subnet": request.actor.can("networks.subnet.delete", project.target()),
        "network_form": network_form or NetworkForm(zones_for(scoped), prefix="network"),
        "refused_network": refused_network.pk if refused_network is not None else None,
    }
    return _page(request, project, "networks/dashboard/networks.html", context)


@require_POST
@portal_view
def network_create(request, project_id):
    project, scoped = dashboard_project(request, project_id)
    form = NetworkForm(zones_for(scoped), request.POST, prefix="network")
    return handled(
        request,
        form,
        lambda values: networks.create_network(
            request.actor, name=values["name"], zone=values["zone_id"], project=project
        ),
        done=project_url("network-list", project),
        message=lambda network: f"Network {network.name} created: add a subnet to it.",
        failed=lambda form: _render_networks(request, project, scoped, network_form=form),
    )


def own_network(scoped, project, network_id):
    return get_or_404(selectors.networks_for(scoped).filter(project=project), "network", pk=network_id)


@require_POST
@portal_view
def subnet_create(request, project_id, network_id):
    project, scoped = dashboard_project(request, project_id)
    network = own_network(scoped, project, network_id)
    form = SubnetForm(request.POST, prefix=_subnet_prefix(network))
    return handled(
        request,
        form,
        lambda values: subnets.create_subnet(request.actor, network, **form.subnet_arguments()),
        done=project_url("network-list", project),
        message=lambda subnet: f"Subnet {subnet.cidr} added to {network.name}.",
        failed=lambda form: _render_networks(request, project, scoped, refused_subnet=(network, form)),
    )


# --- security groups and their rules ----------------------------------------------------------------


def _groups(scoped, project):
    return selectors.security_groups_for(scoped).filter(project=project).order_by("-is_default", "name")


@require_GET
@portal_view
def security_group_list(request, project_id):
    project, scoped = dashboard_project(request, project_id)
    # A project older than the networks app, or made in bulk, gets its default group when first looked at.
    security_groups.ensure_default_group(project)
    return _render_groups(request, project, scoped, SecurityGroupForm())


def _render_groups(request, project, scoped, form):
    context = {
        "groups": _groups(scoped, project),
        "form": form,
        "can_create": request.actor.can("networks.security_group.create", project.target()),
    }
    return _page(request, project, "networks/dashboard/security_groups.html", context)


@require_POST
@portal_view
def security_group_create(request, project_id):
    project, scoped = dashboard_project(request, project_id)
    form = SecurityGroupForm(request.POST)
    return handled(
        request,
        form,
        lambda values: security_groups.create_security_group(
            request.actor, project, name=values["name"], description=values["description"]
        ),
        done=lambda group: project_url("security-group-detail", project, group.pk),
        message=lambda group: f"Security group {group.name} created: add its rules.",
        failed=lambda form: _render_groups(request, project, scoped, form),
    )


def own_security_group(scoped, project, security_group_id):
    return get_or_404(_groups(scoped, project), "security group", pk=security_group_id)


@require_GET
@portal_view
def security_group_detail(request, project_id, security_group_id):
    project, scoped = dashboard_project(request, project_id)
    group = own_security_group(scoped, project, security_group_id)
    return _render_group(request, project, scoped, group, RuleForm(_groups(scoped, project)))


def _render_group(request, project, scoped, group, form):
    rules = SecurityGroupRule.objects.filter(security_group=group).select_related("remote_group")
    context = {
        "group": group,
        "rules": rules.order_by("direction", "ethertype", "protocol", "port_min", "created_at"),
        "members": Port.objects.filter(security_groups=group).count(),
        "form": form,
        "can_edit": request.actor.can("networks.security_group.update", group.target()),
        "can_delete": request.actor.can("networks.security_group.delete", group.target())
        and not group.is_default,
    }
    return _page(request, project, "networks/dashboard/security_group.html", context)


@require_POST
@portal_view
def rule_create(request, project_id, security_group_id):
    project, scoped = dashboard_project(request, project_id)
    group = own_security_group(scoped, project, security_group_id)
    form = RuleForm(_groups(scoped, project), request.POST)
    return handled(
        request,
        form,
        lambda values: security_groups.create_rule(request.actor, group, **form.rule_arguments()),
        done=project_url("security-group-detail", project, group.pk),
        message=lambda rule: f"Rule added to {group.name}.",
        failed=lambda form: _render_group(request, project, scoped, group, form),
    )


# --- floating IPs ---------------------------------------------------------------------------------


def _nic_choices(scoped, project):
    """(port id, label) of the project's instance NICs with an IPv4 address, for association (the
    instance named as its NIC's DHCP host name: the networks app knows instances by id only)."""
    ports = (
        selectors.ports_for(scoped)
        .filter(project=project, device_owner=Port.COMPUTE)
        .select_related("network")
        .order_by("instance_id", "device_index")
    )
    choices = []
    for port in ports:
        addresses = [a.address for a in port.addresses.all() if ":" not in a.address]
        if addresses:
            label = f"{port.hostname or port.instance_id}: {addresses[0]} on {port.network.name}"
            choices.append((str(port.pk), label))
    return choices


@require_GET
@portal_view
def floating_ip_list(request, project_id):
    project, scoped = dashboard_project(request, project_id)
    return _render_floating_ips(request, project, scoped)


def _render_floating_ips(request, project, scoped, *, allocate_form=None, associate_form=None, refused=None):
    floating = (
        selectors.floating_ips_for(scoped)
        .filter(project=project)
        .select_related("network", "fixed_port")
        .order_by("floating_ip_address")
    )
    nics = _nic_choices(scoped, project)
    context = {
        "floating_ips": floating,
        "allocate_form": allocate_form or FloatingIpForm(selectors.public_pools_for(scoped)),
        "associate_form": associate_form or AssociateForm(nics),
        "refused": refused,
        "can_allocate": request.actor.can("networks.floating_ip.create", project.target()),
        "can_change": request.actor.can("networks.floating_ip.update", project.target()),
        "can_release": request.actor.can("networks.floating_ip.delete", project.target()),
    }
    return _page(request, project, "networks/dashboard/floating_ips.html", context)


@require_POST
@portal_view
def floating_ip_allocate(request, project_id):
    project, scoped = dashboard_project(request, project_id)
    form = FloatingIpForm(selectors.public_pools_for(scoped), request.POST)
    return handled(
        request,
        form,
        lambda values: floating_ips.allocate_floating_ip(
            request.actor, project, network_id=values["network_id"].pk
        ),
        done=project_url("floating-ip-list", project),
        message=lambda floating: f"Floating IP {floating.floating_ip_address} allocated.",
        failed=lambda form: _render_floating_ips(request, project, scoped, allocate_form=form),
    )


def own_floating_ip(scoped, project, floating_id, *, associated=False):
    """The project's floating IP; with `associated`, only one that reaches a NIC (the others have nothing to
    disassociate)."""
    found = selectors.floating_ips_for(scoped).filter(project=project).select_related("network", "fixed_port")
    if associated:
        return get_or_404(found.filter(fixed_port__isnull=False), "associated floating IP", pk=floating_id)
    return get_or_404(found, "floating IP", pk=floating_id)


@require_POST
@portal_view
def floating_ip_associate(request, project_id, floating_id):
    project, scoped = dashboard_project(request, project_id)
    floating = own_floating_ip(scoped, project, floating_id)
    form = AssociateForm(_nic_choices(scoped, project), request.POST)
    return handled(
        request,
        form,
        lambda values: floating_ips.associate(request.actor, floating, port_id=values["port_id"]),
        done=project_url("floating-ip-list", project),
        message=lambda done: f"Floating IP {done.floating_ip_address} now reaches {done.fixed_ip_address}.",
        failed=lambda form: _render_floating_ips(
            request, project, scoped, associate_form=form, refused=floating.pk
        ),
    )
