"""Availability zones: create, change, delete when empty."""

from apps.audit.recorder import audited
from apps.core.tree import PLATFORM
from apps.identity.services.common import require, save_unique

from ..models import Zone
from .common import refuse_if_used


def create_zone(actor, *, name, description="", enabled=True):
    action = "infrastructure.zone.create"
    with audited(actor, action, target=PLATFORM) as op:
        require(actor, action, PLATFORM, "Only cloud administrators create zones.")
        zone = Zone(name=name, description=description, enabled=enabled)
        op.object = zone
        save_unique(zone, f"A zone named '{name}' already exists.")
    return zone


def update_zone(actor, zone, **changes):
    action = "infrastructure.zone.update"
    with audited(actor, action, target=PLATFORM, obj=zone) as op:
        require(actor, action, PLATFORM, "Only cloud administrators change zones.")
        op.details = {"changes": {k: v for k, v in changes.items() if getattr(zone, k) != v}}
        for field, value in changes.items():
            setattr(zone, field, value)
        save_unique(zone, f"A zone named '{zone.name}' already exists.")
    return zone


def delete_zone(actor, zone):
    action = "infrastructure.zone.delete"
    with audited(actor, action, target=PLATFORM, obj=zone):
        require(actor, action, PLATFORM, "Only cloud administrators delete zones.")
        refuse_if_used(zone, f"Zone {zone} still has hosts.", "zone_not_empty")
