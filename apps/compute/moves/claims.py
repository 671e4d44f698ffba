"""Capacity and quota while a move lasts, and the instance's place once it is over.

While a move lasts, the instance keeps its place on its source and the move
claims the destination under its own id (models.Migration; the scheduler, in the
transaction that starts it), so both hosts hold it. Then:

- the move succeeds (a resize: is confirmed): the source's place is given back
  and the destination's becomes the instance's (capacity.hand_over: same host,
  same sums, never refused);
- it fails, or a resize is reverted: the destination's place is given back, and
  the instance's on the source is as it was, even if the source filled up meanwhile.

A resize also holds, in quota, the larger of its two sizes until it is
confirmed (then the new size) or reverted (the old one): giving back never fails.
"""

from django.utils import timezone

from apps.infrastructure import capacity
from apps.infrastructure.models import Host
from apps.quotas import services as quotas

from ..models import Instance, quota_of


def keep_destination(migration):
    """The move is over and it stays: the instance holds the destination, no longer the source."""
    capacity.release(migration.instance_id, host_id=migration.source_id)
    capacity.hand_over(migration.pk, migration.instance_id, migration.destination_id)


def give_back_destination(migration):
    """The move is undone: the instance holds its source, as before."""
    capacity.release(migration.pk)


def place_on(instance_id, host, **changes):
    """Record that the instance's guest is on `host` now."""
    Instance.objects.filter(pk=instance_id).update(
        host=host, zone_id=host.zone_id, updated_at=timezone.now(), **changes
    )


def hold_larger_size(instance, old, new, reader=None):
    """While a resize from `old` to `new` lasts, the quota holds the larger of the two (an increase is
    checked like a claim: QuotaExceeded refuses the resize)."""
    larger = quota_of(new.vcpus, new.ram_mb, old.vcpus, old.ram_mb)
    quotas.adjust(instance.project, instance, larger, reader=reader)


def hold_size(instance, offering):
    """The resize is over: the quota holds the offering it ended at (never more than it held)."""
    quotas.adjust(instance.project, instance, quota_of(offering.vcpus, offering.ram_mb))


def fenced(host):
    """A fenced host is off for good: it holds no copy that could run, and takes no task."""
    return host is None or Host.objects.filter(pk=host.pk, state=Host.FENCED).exists()
