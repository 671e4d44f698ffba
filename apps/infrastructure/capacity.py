"""Host capacity: the limits in SQL, and claims that check and take capacity in one UPDATE.

A host's limit for a resource is (reported total - reserve) * allocation ratio,
the ratio being the host's own or the CLOUDMGR_*_ALLOCATION_RATIO default.
`claim` adds to the host's *_used columns only when the sum stays within every
limit, in one conditional UPDATE, so no concurrency can over-allocate a host;
`release` gives back exactly what a consumer holds, exactly once.
"""

import math
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import F, FloatField, Q, Value
from django.db.models.functions import Coalesce, Floor

from .models import Allocation, Host

MB_PER_GB = 1024


@dataclass(frozen=True)
class Amounts:
    vcpus: int
    ram_mb: int
    disk_gb: int


def _ratio(field, default):
    return Coalesce(F(field), Value(float(default)), output_field=FloatField())


def ram_limit_mb():
    return Floor(
        (F("ram_mb") - F("reserved_host_memory_mb"))
        * _ratio("ram_allocation_ratio", settings.CLOUDMGR_RAM_ALLOCATION_RATIO)
    )


def vcpu_limit():
    return Floor(F("cpus") * _ratio("cpu_allocation_ratio", settings.CLOUDMGR_CPU_ALLOCATION_RATIO))


def disk_limit_gb():
    return Floor(
        (F("disk_gb") * MB_PER_GB - F("reserved_host_disk_mb"))
        * _ratio("disk_allocation_ratio", settings.CLOUDMGR_DISK_ALLOCATION_RATIO)
        / MB_PER_GB
    )


def limits_of(host):
    """The same limits as the SQL expressions above, for one loaded host (displays, tests)."""
    return Amounts(
        vcpus=math.floor(host.cpus * host.effective_cpu_allocation_ratio),
        ram_mb=math.floor((host.ram_mb - host.reserved_host_memory_mb) * host.effective_ram_allocation_ratio),
        disk_gb=math.floor(
            (host.disk_gb * MB_PER_GB - host.reserved_host_disk_mb)
            * host.effective_disk_allocation_ratio
            / MB_PER_GB
        ),
    )


def free_ram_mb():
    return ram_limit_mb() - F("ram_mb_used")


def schedulable():
    """Hosts that may get new instances: up, enabled, not in maintenance."""
    return Q(state=Host.UP, enabled=True, maintenance=False)


def ram_fits(ram_mb):
    return Q(ram_mb_used__lte=ram_limit_mb() - Value(ram_mb))


def vcpus_fit(vcpus):
    return Q(vcpus_used__lte=vcpu_limit() - Value(vcpus))


def disk_fits(disk_gb):
    return Q(disk_gb_used__lte=disk_limit_gb() - Value(disk_gb))


def claim(host_id, consumer_id, amounts):
    """Take `amounts` on the host for the consumer, or return False when it no longer fits."""
    taken = Host.objects.filter(
        schedulable(),
        ram_fits(amounts.ram_mb),
        vcpus_fit(amounts.vcpus),
        disk_fits(amounts.disk_gb),
        pk=host_id,
    ).update(
        vcpus_used=F("vcpus_used") + amounts.vcpus,
        ram_mb_used=F("ram_mb_used") + amounts.ram_mb,
        disk_gb_used=F("disk_gb_used") + amounts.disk_gb,
    )
    if taken:
        Allocation.objects.create(
            host_id=host_id,
            consumer_id=consumer_id,
            vcpus=amounts.vcpus,
            ram_mb=amounts.ram_mb,
            disk_gb=amounts.disk_gb,
        )
    return bool(taken)


_RELEASE_SQL = """
WITH gone AS (
    DELETE FROM infrastructure_allocation WHERE consumer_id = %s
    RETURNING host_id, vcpus, ram_mb, disk_gb
)
UPDATE infrastructure_host AS h
   SET vcpus_used = h.vcpus_used - gone.vcpus,
       ram_mb_used = h.ram_mb_used - gone.ram_mb,
       disk_gb_used = h.disk_gb_used - gone.disk_gb
  FROM gone
 WHERE h.id = gone.host_id
"""


def release(consumer_id):
    """Give back everything the consumer holds on any host; returns how many hosts it held capacity on.

    The allocation rows are deleted and subtracted in one statement, so releasing
    twice (a redelivered report, two sweepers) gives back nothing the second time.
    """
    with connection.cursor() as cursor:
        cursor.execute(_RELEASE_SQL, [consumer_id])
        return cursor.rowcount


def held_by(consumer_id):
    return list(Allocation.objects.filter(consumer_id=consumer_id).select_related("host"))
