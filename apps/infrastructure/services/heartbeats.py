"""Heartbeats: what a host reports about itself, and marking down the hosts that fell silent."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.errors import Conflict, ValidationFailed

from .. import capacity, signals, states
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

    A fenced host's report is stored, but it stays fenced: only an operator returns
    it to service. Returns the host's state after the heartbeat. `extras` (see
    `heartbeat_extras`) are stored as they are: the audit reads them.
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
    this_host = Host.objects.filter(pk=host.pk)
    if states.move(this_host, "heartbeat", last_heartbeat_at=timezone.now(), **changes, **limits):
        return Host.UP
    if this_host.filter(state=Host.FENCED).update(last_heartbeat_at=timezone.now(), **changes, **limits):
        return Host.FENCED
    current = this_host.values_list("state", flat=True).first()
    raise Conflict(
        f"Host {host.name} is {current}: 'heartbeat' is not allowed.",
        code="host_invalid_state",
        details={"state": current, "event": "heartbeat"},
    )


def _taken_at(heartbeat):
    """When the inventory was at the latest true: the agent stamps `sent_at` (whole seconds, rounded
    down) before listing its domains; receipt time bounds an agent clock running ahead."""
    return min(timezone.now(), datetime.fromtimestamp(heartbeat.sent_at, tz=UTC))


def heartbeat_extras(heartbeat):
    """What a heartbeat (agent.protocol.Heartbeat) says besides capacity: inventory, cache, stuck calls,
    and where other hosts reach it in moves."""
    return {
        "reported_inventory": heartbeat.inventory.to_dict(),
        "inventory_reported_at": _taken_at(heartbeat),
        "cached_images": [image.to_dict() for image in heartbeat.cached_images],
        "stuck_operations": heartbeat.stuck_operations,
        "transfer_port": heartbeat.transfer_port,
        "migration_gateway_port": heartbeat.migration_gateway_port,
        "live_migration": heartbeat.live_migration,
    }


def mark_silent_hosts_down(now=None):
    """Move to `down` every up host not heard from for CLOUDMGR_HOST_DOWN_AFTER_SECONDS; returns how many.

    Each silent host is locked while it moves, so several controllers running this at once
    agree; the apps above learn of the hosts that went down (hosts_went_down) in that transaction.
    """
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.CLOUDMGR_HOST_DOWN_AFTER_SECONDS)
    with transaction.atomic():
        ids = states.move_returning(Host.objects.filter(last_heartbeat_at__lt=cutoff), "miss_heartbeats")
        if ids:
            signals.hosts_went_down.send(sender=Host, host_ids=ids)
    return len(ids)
