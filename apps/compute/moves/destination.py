"""Where a move goes: a host the scheduler chooses, or the one an admin names.

A named host must pass the scheduler's filters like any other, unless the admin
says `force`, which skips the filters (zone, tags, affinity, image properties…)
but never the capacity check: the claim on the host is the same conditional
UPDATE. Either way the host must be able to take part: an agent speaking
protocol 2 with a TLS certificate (and, for a live migration, a hypervisor
that migrates running guests and a migration gateway), and every physical
network of the instance's NICs mapped, since its ports follow it there.
"""

from django.db.models import Q

from apps.core.errors import ValidationFailed
from apps.infrastructure import capacity
from apps.infrastructure.models import Host
from apps.infrastructure.selectors import sees_hosts
from apps.networks.services.instance_ports import physical_networks_of

from .. import states
from ..launch_images import traits
from ..models import Instance
from ..scheduler.filters import PhysicalNetworksFilter
from ..scheduler.placement import NO_CAPACITY, NoValidHost, place
from ..scheduler.request import ImageTraits, PlacementRequest

# What a host must be to receive a move of each kind.
CAN_RECEIVE = {
    "cold": Q(protocol_version__gte=2) & ~Q(tls_certificate_serial="") & Q(transfer_port__gt=0),
    "live": Q(protocol_version__gte=2)
    & ~Q(tls_certificate_serial="")
    & Q(live_migration=True, migration_gateway_port__gt=0),
    "evacuation": Q(),
}


def _hosts_of_instances(ids, excluding):
    """The hosts of the live instances among `ids` (a stored scheduler hint), this one left out."""
    return frozenset(
        Instance.objects.filter(pk__in=ids, host__isnull=False)
        .exclude(pk=excluding)
        .exclude(vm_state=states.DELETED)
        .values_list("host_id", flat=True)
    )


def request_for(instance, offering, *, consumer, kind, leave=None, host=None):
    """The placement request of a move of `instance` at `offering`'s size, claimed for `consumer`.

    `leave`: a host it must not go to (its source, except for a resize); `host`: the
    host an admin asked for.
    """
    hints = instance.scheduler_hints or {}
    group = instance.affinity_group
    conditions = [CAN_RECEIVE[kind]]
    if leave is not None:
        conditions.append(~Q(pk=leave.pk))
    if host is not None:
        conditions.append(Q(pk=host.pk))
    return PlacementRequest(
        consumer_id=consumer,
        amounts=capacity.Amounts(offering.vcpus, offering.ram_mb, offering.disk_gb),
        zone_id=instance.zone_id,
        host_tags=tuple(offering.host_tags),
        image=traits(instance.image) if instance.image is not None else ImageTraits(),
        same_host=_hosts_of_instances(hints.get("same_host", []), instance.pk),
        different_host=_hosts_of_instances(hints.get("different_host", []), instance.pk),
        group_policy=group.policy if group else None,
        group_hosts=_hosts_of_instances(group.instances.values("pk"), instance.pk) if group else frozenset(),
        physical_networks=physical_networks_of(instance.pk),
        conditions=tuple(conditions),
    )


def choose(actor, instance, offering, *, consumer, kind, leave=None, host_id=None, force=False):
    """Claim the destination for `consumer` (the move's id, or the instance's) and return it, or raise
    NoValidHost (nothing claimed)."""
    host = None
    if host_id is not None:
        host = Host.objects.select_related("zone").filter(pk=host_id).first()
        if host is None:
            raise ValidationFailed("No such host.", code="host_not_found", details={"host_id": str(host_id)})
        if leave is not None and host.pk == leave.pk:
            raise ValidationFailed("The instance is on that host already.", code="same_host")
    elif force:
        raise ValidationFailed("Forcing a move needs a host to force it to.", code="force_needs_host")
    request = request_for(instance, offering, consumer=consumer, kind=kind, leave=leave, host=host)
    if force:
        return _forced(request, offering, host, kind)
    return place(request, explain=sees_hosts(actor.principal))


def _forced(request, offering, host, kind):
    """The named host, filters skipped: it must still be able to receive (its ports too), and have room."""
    consumer = request.consumer_id
    amounts = capacity.Amounts(offering.vcpus, offering.ram_mb, offering.disk_gb)
    carries = PhysicalNetworksFilter().condition(request)
    able = Host.objects.filter(CAN_RECEIVE[kind], carries, pk=host.pk).exists()
    if not able or not capacity.claim(host.pk, consumer, amounts):
        raise NoValidHost(NO_CAPACITY, details={"host": host.name, "forced": True})
    return host
