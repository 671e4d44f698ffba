"""What infrastructure adds to the admin portal: the hosts page and the hosts and capacity cards."""

from django.db.models import Count, Q, Sum
from django.urls import reverse

from apps.core.tree import PLATFORM
from apps.core.web.extensions import ADMIN, register_card, register_nav

from ..models import Host
from ..selectors import HOST_READ, hosts_for
from .zones import may_see_zones


def _may_read_hosts(principal, project=None):
    return principal.can(HOST_READ, PLATFORM)


def hosts_card(request, project):
    if not _may_read_hosts(request.actor.principal):
        return None
    counts = hosts_for(request.actor.principal).aggregate(
        up=Count("pk", filter=Q(state=Host.UP)),
        down=Count("pk", filter=Q(state=Host.DOWN)),
        enrolling=Count("pk", filter=Q(state=Host.ENROLLING)),
        unschedulable=Count("pk", filter=Q(enabled=False) | Q(maintenance=True)),
    )
    return {
        "rows": [
            ("Up", counts["up"]),
            ("Down", counts["down"]),
            ("Enrolling", counts["enrolling"]),
            ("Disabled or in maintenance", counts["unschedulable"]),
        ],
        "link": ("Hosts", reverse("infrastructure:host-list")),
    }


def _percent(used, limit):
    return f"{used * 100 // limit}% of {limit}" if limit else f"{used} (no capacity)"


def capacity_card(request, project):
    if not _may_read_hosts(request.actor.principal):
        return None
    totals = (
        hosts_for(request.actor.principal)
        .filter(state=Host.UP)
        .aggregate(
            vcpus=Sum("vcpus_used"),
            vcpus_limit=Sum("vcpus_limit"),
            ram=Sum("ram_mb_used"),
            ram_limit=Sum("ram_mb_limit"),
            disk=Sum("disk_gb_used"),
            disk_limit=Sum("disk_gb_limit"),
        )
    )
    totals = {key: value or 0 for key, value in totals.items()}
    return {
        "rows": [
            ("vCPUs allocated", _percent(totals["vcpus"], totals["vcpus_limit"])),
            ("RAM allocated (MB)", _percent(totals["ram"], totals["ram_limit"])),
            ("Disk allocated (GB)", _percent(totals["disk"], totals["disk_limit"])),
        ],
        "link": ("Hosts", reverse("infrastructure:host-list")),
    }


def register():
    register_nav(ADMIN, "Hosts", "infrastructure:host-list", order=40, visible=_may_read_hosts)
    register_nav(ADMIN, "Zones", "infrastructure:zone-list", order=39, visible=may_see_zones)
    register_card(ADMIN, "hosts", title="Hosts", context=hosts_card, order=20)
    register_card(ADMIN, "capacity", title="Capacity of hosts up", context=capacity_card, order=25)
