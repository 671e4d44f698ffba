"""Read queries of the infrastructure app.

Zones are a catalogue: whoever may read zones anywhere sees the enabled ones
(tenants pick one at launch); platform readers also see disabled ones. Hosts
are platform objects: only a principal allowed to read them on the platform
sees any.
"""

from apps.core.policy import SystemPrincipal
from apps.core.tree import PLATFORM

from .models import Host, Zone

ZONE_READ = "infrastructure.zone.read"
HOST_READ = "infrastructure.host.read"


def zones_for(principal):
    if principal.can(ZONE_READ, PLATFORM):
        return Zone.objects.all()
    if isinstance(principal, SystemPrincipal) or principal.grants_for(ZONE_READ):
        return Zone.objects.filter(enabled=True)
    return Zone.objects.none()


def sees_hosts(principal):
    """Whether host names, addresses and the cloud's size may be shown to `principal` (tenants: never)."""
    return principal is not None and principal.can(HOST_READ, PLATFORM)


def hosts_for(principal):
    if sees_hosts(principal):
        return Host.objects.select_related("zone")
    return Host.objects.none()
