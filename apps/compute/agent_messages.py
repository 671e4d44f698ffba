"""What agents' heartbeats mean for instances, and which images a host may fetch.

Registered with apps.infrastructure.agent_api.hooks; task reports are host work's
(apps/compute/host_work.py).
"""

import logging

from django.db.models import Q
from django.utils import timezone

from apps.infrastructure.models import Host

from . import states
from .models import Instance

log = logging.getLogger(__name__)


def sync_power_states(host, inventory):
    """Power states as the host saw them, for instances at rest that have not changed since.

    An instance with a task in flight, or changed after the host listed its domains, is
    left to its task's own report: a listing taken mid-snapshot would say `paused`.
    Domains that are not this host's instances are ignored.
    """
    reported = {status.instance_id: status for status in inventory.instances}
    listed_at = Host.objects.filter(pk=host.pk).values_list("inventory_reported_at", flat=True).first()
    mine = Instance.objects.filter(host=host, pk__in=list(reported)).exclude(vm_state=states.DELETED)
    known = 0
    for pk, power_state, task_state, updated_at in mine.values_list(
        "pk", "power_state", "task_state", "updated_at"
    ):
        known += 1
        if task_state is not None or (listed_at is not None and updated_at > listed_at):
            continue
        status = reported[str(pk)]
        if status.power_state != power_state:
            Instance.objects.filter(pk=pk, task_state__isnull=True, updated_at=updated_at).update(
                power_state=status.power_state, updated_at=timezone.now()
            )
        if status.power_state == "shutoff" and status.reason == "shutdown":
            states.guest_shut_down(pk)
    if known < len(reported):
        log.warning(
            "host %s reported %d domains that are not its instances", host.name, len(reported) - known
        )


def images_for_host(host):
    """Images (and their kernels and ramdisks) of the instances on the host."""
    live = Instance.objects.filter(host=host).exclude(vm_state=states.DELETED)
    return (
        Q(pk__in=live.values("image_id"))
        | Q(pk__in=live.values("image__kernel_id"))
        | Q(pk__in=live.values("image__ramdisk_id"))
    )
