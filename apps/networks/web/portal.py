"""What networks adds to the portal: dashboard and admin navigation, and the admin host page's section."""

from django.urls import reverse

from apps.core.tree import PLATFORM
from apps.core.web.extensions import ADMIN, DASHBOARD, register_nav
from apps.infrastructure.web.sections import register_host_section

from ..models import HostNetworkConfig
from ..policy_actions import NETWORK_INFRASTRUCTURE_READ


def _platform_reader(principal, project):
    return principal.can(NETWORK_INFRASTRUCTURE_READ, PLATFORM)


def host_network_section(request, host):
    """The host's role, mappings and last network report, for those who may see them."""
    if not request.actor.can(NETWORK_INFRASTRUCTURE_READ, PLATFORM):
        return None
    return {
        "config": HostNetworkConfig.objects.filter(host=host).first(),
        "mappings": host.physical_networks.all(),
        "url": reverse("networks:admin-host-network", args=[host.pk]),
    }


def register():
    register_nav(DASHBOARD, "Networks", "networks:network-list", order=30)
    register_nav(DASHBOARD, "Security groups", "networks:security-group-list", order=31)
    register_nav(DASHBOARD, "Floating IPs", "networks:floating-ip-list", order=32)
    for label, url_name, order in [
        ("VLAN pools", "networks:admin-vlan-pools", 50),
        ("Public pools", "networks:admin-public-pools", 51),
        ("Host networks", "networks:admin-host-networks", 52),
        ("Network audit", "networks:admin-network-audit", 71),
    ]:
        register_nav(ADMIN, label, url_name, order=order, visible=_platform_reader)
    register_host_section(
        "network",
        title="Network",
        template="networks/admin/host_section.html",
        context=host_network_section,
        order=30,
    )
