"""Heartbeats: what a host reports about itself, and marking down the hosts that fell silent."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from apps.core.errors import ValidationFailed

from .. import capacity, states
from ..models import Host

# What a heartbeat may set on its host, with the type each value must have.
REPORTED = {
    "cpus": int,
    "ram_mb": int,
    "disk_gb": int,
    "hypervisor_type": str,
    "hypervisor_version": str,
    "arch": str,
    "protocol_version": int,
}


def record_heartbeat(host, report, extras=None):
    """Store the reported capacity and mark the host up; an enrolling host is refused.

    `extras` (see `heartbeat_extras`) are stored as they are: the audit reads them.
    """
    changes = {}
    for field, kind in REPORTED.items():
        value = report.get(field)
        if not isinstance(value, kind) or isinstance(value, bool) or (kind is int and value < 0):
            raise ValidationFailed(f"The heartbeat's {field} is missing or invalid.", code="bad_heartbeat")
        changes[field] = value
    limits = capacity.limit_expressions(
        cpus=changes["cpus"], ram_mb=changes["ram_mb"], disk_gb=changes["disk_gb"]
    )
    changes.update(extras or {})
    states.move_one(host, "heartbeat", last_heartbeat_at=timezone.now(), **changes, **limits)


def _taken_at(heartbeat):
    """When the inventory was at the latest true: the agent stamps `sent_at` (whole seconds, rounded
    down) before listing its domains; receipt time bounds an agent clock running ahead."""
    return min(timezone.now(), datetime.fromtimestamp(heartbeat.sent_at, tz=UTC))


def heartbeat_extras(heartbeat):
    """What a heartbeat (agent.protocol.Heartbeat) says besides capacity: inventory, cache, stuck calls."""
    return {
        "reported_inventory": heartbeat.inventory.to_dict(),
        "inventory_reported_at": _taken_at(heartbeat),
        "cached_images": [image.to_dict() for image in heartbeat.cached_images],
        "stuck_operations": heartbeat.stuck_operations,
    }


def mark_silent_hosts_down(now=None):
    """Move to `down` every up host not heard from for CLOUDMGR_HOST_DOWN_AFTER_SECONDS; returns how many.

    One conditional UPDATE, so several controllers running this at once agree.
    """
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.CLOUDMGR_HOST_DOWN_AFTER_SECONDS)
    return states.move(Host.objects.filter(last_heartbeat_at__lt=cutoff), "miss_heartbeats")
