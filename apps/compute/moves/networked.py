"""Instances with network interfaces do not move between hosts yet.

A move defines the guest on its destination from the disks it carries, without
the NICs, and the destination's network state does not hold the instance's
ports until the move has ended (networks' `rebind_ports`). Moving such an
instance would start it there unplugged, so every move and evacuation refuses
it, with nothing changed, until ports follow their instance (issue 16).
"""

from apps.core.errors import Conflict
from apps.networks.models import Port


def refuse_if_networked(instance):
    if Port.objects.filter(instance_id=instance.pk).exists():
        raise Conflict(
            f"Instance {instance} has network interfaces: moving it to another host is not supported yet. "
            "Detach its interfaces first, or delete it and launch it again there.",
            code="instance_has_interfaces",
        )
