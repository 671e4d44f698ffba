"""The flags an admin flips from a host's page: enabled and maintenance, through update_host.

Both only decide whether the scheduler places new instances on the host;
instances already on it stay where they are (moving them off is host
evacuation, which this page does not offer).
"""

from dataclasses import dataclass

from apps.core.errors import ValidationFailed
from apps.core.tree import PLATFORM

from ..services.hosts import HOST_UPDATE, update_host


@dataclass(frozen=True)
class Switch:
    op: str
    label: str
    field: str
    value: bool
    done: str
    style: str = "secondary"

    def applies_to(self, host):
        return getattr(host, self.field) != self.value

    def apply(self, actor, host):
        """Set the flag through update_host, which checks the permission and audits."""
        update_host(actor, host, **{self.field: self.value})


STAYS = "; those on it stay where they are."
SWITCHES = (
    Switch("enable", "Enable", "enabled", True, "enabled: the scheduler may place new instances on it.", ""),
    Switch("disable", "Disable", "enabled", False, "disabled: no new instances are placed on it" + STAYS),
    Switch(
        "maintenance_on",
        "Start maintenance",
        "maintenance",
        True,
        "in maintenance: no new instances are placed on it" + STAYS,
    ),
    Switch("maintenance_off", "End maintenance", "maintenance", False, "out of maintenance.", ""),
)


def switches_for(actor, host):
    """The buttons the host's page offers this person: none for someone who may not change hosts."""
    if not actor.can(HOST_UPDATE, PLATFORM):
        return []
    return [switch for switch in SWITCHES if switch.applies_to(host)]


def named(op):
    """The switch `op` names; else a 400."""
    for switch in SWITCHES:
        if switch.op == op:
            return switch
    raise ValidationFailed(f"Unknown host action {op!r}.", code="unknown_action")
