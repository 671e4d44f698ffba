"""The admin portal's networks pages: VLAN pools, public pools, hosts' physical networks and network
state, and the network audit. Cloud admins only (the platform's own facts)."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.core.scoping import get_or_404
from apps.core.tree import PLATFORM
from apps.core.web.decorators import portal_view
from apps.core.web.flow import handled
from apps.core.web.rendering import render_page
from apps.infrastructure.models import HostAuditFinding
from apps.infrastructure.selectors import hosts_for

from .. import selectors
from ..audit import audited_hosts, run_network_audit
from ..host_state import desired_state
from ..models import HostNetworkConfig
from ..policy_actions import NETWORK_AUDIT_RUN, NETWORK_INFRASTRUCTURE_READ
from ..services import host_networks, pools
from .forms import HostNetworkForm, PublicPoolForm, VlanPoolForm

admin_view = portal_view(admin=True)
FINDINGS_SHOWN = 200


def _page(request, template, context, status=200):
    return render_page(request, template, context, area="admin", status=status)


def _can(request, action):
    return request.actor.can(action, PLATFORM)


@require_GET
@admin_view
def vlan_pool_list(request):
    return _render_vlan_pools(request, VlanPoolForm())


def _render_vlan_pools(request, form):
    context = {
        "pools": selectors.vlan_pools_for(request.actor.principal).order_by("zone__name", "vlan_min"),
        "form": form,
        "can_change": _can(request, "networks.vlan_pool.create"),
    }
    return _page(request, "networks/admin/vlan_pools.html", context)


@require_POST
@admin_view
def vlan_pool_create(request):
    form = VlanPoolForm(request.POST)
    return handled(
        request,
        form,
        lambda values: pools.create_vlan_pool(
            request.actor,
            zone=values["zone_id"],
            physical_network=values["physical_network"],
            vlan_min=values["vlan_min"],
            vlan_max=values["vlan_max"],
        ),
        done=reverse("networks:admin-vlan-pools"),
        message=lambda pool: f"VLAN pool {pool} added to zone {pool.zone}.",
        failed=lambda form: _render_vlan_pools(request, form),
    )


@require_GET
@admin_view
def public_pool_list(request):
    return _render_public_pools(request, PublicPoolForm())


def _render_public_pools(request, form):
    public = selectors.public_pools_for(request.actor.principal).select_related("zone")
    context = {
        "pools": public.prefetch_related("subnets").order_by("zone__name", "name"),
        "form": form,
        "can_change": _can(request, "networks.network.provider"),
    }
    return _page(request, "networks/admin/public_pools.html", context)


@require_POST
@admin_view
def public_pool_create(request):
    form = PublicPoolForm(request.POST)
    return handled(
        request,
        form,
        lambda values: pools.create_public_pool(
            request.actor,
            name=values["name"],
            zone=values["zone_id"],
            physical_network=values["physical_network"],
            cidr=values["cidr"],
            gateway_ip=values["gateway_ip"],
        ),
        done=reverse("networks:admin-public-pools"),
        message=lambda pool: f"Public pool {pool.name} created.",
        failed=lambda form: _render_public_pools(request, form),
    )


def _hosts(request):
    if not _can(request, NETWORK_INFRASTRUCTURE_READ):
        return hosts_for(request.actor.principal).none()
    return (
        hosts_for(request.actor.principal)
        .select_related("zone", "network_config")
        .prefetch_related("physical_networks")
        .order_by("zone__name", "name")
    )


@require_GET
@admin_view
def host_network_list(request):
    return _page(request, "networks/admin/host_networks.html", {"hosts": _hosts(request)})


def _config_of(host):
    return HostNetworkConfig.objects.filter(host=host).first()


@require_GET
@admin_view
def host_network_detail(request, host_id):
    host = get_or_404(_hosts(request), "host", pk=host_id)
    config = _config_of(host)
    initial = {
        "network_node": bool(config and config.network_node),
        "physical_networks": " ".join(
            f"{m.physical_network}={m.interface}" for m in host.physical_networks.all()
        ),
    }
    return _render_host(request, host, config, HostNetworkForm(initial=initial))


def _render_host(request, host, config, form):
    state = desired_state(host)
    context = {
        "host": host,
        "config": config,
        "observed": (config.observed or {}) if config else {},
        "desired": state,
        "findings": HostAuditFinding.objects.filter(
            host=host, kind=HostAuditFinding.NETWORK, resolved_at=None
        ).order_by("subject"),
        "form": form,
        "can_change": _can(request, "networks.host_network.update"),
        "can_audit": _can(request, NETWORK_AUDIT_RUN),
    }
    return _page(request, "networks/admin/host_network.html", context)


@require_POST
@admin_view
def host_network_update(request, host_id):
    host = get_or_404(_hosts(request), "host", pk=host_id)
    form = HostNetworkForm(request.POST)
    return handled(
        request,
        form,
        lambda values: host_networks.set_host_network(
            request.actor,
            host,
            network_node=values["network_node"],
            physical_networks=values["physical_networks"],
        ),
        done=reverse("networks:admin-host-network", args=[host.pk]),
        message=f"The network configuration of {host.name} is saved.",
        failed=lambda form: _render_host(request, host, _config_of(host), form),
    )


@require_GET
@admin_view
def network_audit(request):
    """Network findings: open ones, and the latest a host repaired."""
    findings = HostAuditFinding.objects.none()
    if _can(request, NETWORK_INFRASTRUCTURE_READ):
        findings = HostAuditFinding.objects.select_related("host").filter(kind=HostAuditFinding.NETWORK)
    context = {
        "open": findings.filter(resolved_at=None).order_by("host__name", "subject")[:FINDINGS_SHOWN],
        "repaired": findings.filter(resolved_at__isnull=False).order_by("-resolved_at")[:FINDINGS_SHOWN],
        "hosts": audited_hosts().count(),
        "can_run": _can(request, NETWORK_AUDIT_RUN),
    }
    return _page(request, "networks/admin/network_audit.html", context)


@require_POST
@admin_view
def network_audit_run(request):
    """Every up host (or the one named) audits its network now; the page shows what they report."""
    hosts, back = audited_hosts(), reverse("networks:admin-network-audit")
    if request.POST.get("host"):
        host = get_or_404(_hosts(request), "host", pk=request.POST["host"])
        hosts, back = hosts.filter(pk=host.pk), reverse("networks:admin-host-network", args=[host.pk])
    jobs = run_network_audit(request.actor, hosts)
    messages.success(
        request, f"{len(jobs)} host(s) are auditing their networks; their findings appear as they answer."
    )
    return redirect(back)
