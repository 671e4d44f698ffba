"""Host capacity: each host's limits, and claims that check and take capacity in one UPDATE.

A host's limit for a resource is (reported total - reserve) * allocation ratio,
the ratio being the host's own or the CLOUDMGR_*_ALLOCATION_RATIO default. The
limits are stored on the host (ram_mb_limit, vcpus_limit, disk_gb_limit) and
recomputed in SQL by the statement that changes what they depend on (a
heartbeat, an admin's change) and by the periodic refresh that picks up a
changed default ratio. Storing them keeps the claim a comparison of two columns
and lets the scheduler walk an index of free RAM instead of computing it for
every host.

`claim` adds to the host's *_used columns only when every sum stays within its
limit, in one conditional UPDATE, so no concurrency can over-allocate a host;
`release` gives back exactly what a consumer holds, exactly once.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import F, FloatField, Q, Value
from django.db.models.functions import Coalesce, Floor

from .models import Allocation, Host

MB_PER_GB = 1024
# Bounds on what a limit is computed from, so that (total - reserve) * ratio always fits a bigint:
# totals and reserves up to 2**40 MiB (1 EiB), ratios up to 1000.
MAX_ALLOCATION_RATIO = 1000.0
MAX_RESERVED_MB = 2**40


@dataclass(frozen=True)
class Amounts:
    vcpus: int
    ram_mb: int
    disk_gb: int


def _ratio(field, default):
    return Coalesce(F(field), Value(float(default)), output_field=FloatField())


def limit_expressions(cpus=None, ram_mb=None, disk_gb=None):
    """SQL for the three limits; pass new totals to compute them in the UPDATE that stores the totals.

    (An UPDATE's SET expressions see the row as it was, so new totals are given as values.)
    """
    cpus = Value(cpus) if cpus is not None else F("cpus")
    ram_mb = Value(ram_mb) if ram_mb is not None else F("ram_mb")
    disk_gb = Value(disk_gb) if disk_gb is not None else F("disk_gb")
    return {
        "vcpus_limit": Floor(cpus * _ratio("cpu_allocation_ratio", settings.CLOUDMGR_CPU_ALLOCATION_RATIO)),
        "ram_mb_limit": Floor(
            (ram_mb - F("reserved_host_memory_mb"))
            * _ratio("ram_allocation_ratio", settings.CLOUDMGR_RAM_ALLOCATION_RATIO)
        ),
        "disk_gb_limit": Floor(
            (disk_gb * MB_PER_GB - F("reserved_host_disk_mb"))
            * _ratio("disk_allocation_ratio", settings.CLOUDMGR_DISK_ALLOCATION_RATIO)
            / MB_PER_GB
        ),
    }


def refresh_limits(queryset=None):
    """Recompute the stored limits of the hosts whose limits are out of date; returns how many changed."""
    expressions = limit_expressions()
    stale = Q()
    for field, expression in expressions.items():
        stale |= ~Q(**{field: expression})
    return (queryset if queryset is not None else Host.objects.all()).filter(stale).update(**expressions)


def limits_of(host):
    return Amounts(vcpus=host.vcpus_limit, ram_mb=host.ram_mb_limit, disk_gb=host.disk_gb_limit)


def free_ram_mb():
    return F("ram_mb_limit") - F("ram_mb_used")


def schedulable():
    """Hosts that may get new instances: up, enabled, not in maintenance."""
    return Q(state=Host.UP, enabled=True, maintenance=False)


def ram_fits(ram_mb):
    return Q(ram_mb_used__lte=F("ram_mb_limit") - ram_mb)


def vcpus_fit(vcpus):
    return Q(vcpus_used__lte=F("vcpus_limit") - vcpus)


def disk_fits(disk_gb):
    return Q(disk_gb_used__lte=F("disk_gb_limit") - disk_gb)


_CLAIM_SQL = """
UPDATE infrastructure_host
   SET vcpus_used = vcpus_used + %(vcpus)s,
       ram_mb_used = ram_mb_used + %(ram_mb)s,
       disk_gb_used = disk_gb_used + %(disk_gb)s
 WHERE id = %(host)s
   AND state = 'up' AND enabled AND NOT maintenance
   AND vcpus_used + %(vcpus)s <= vcpus_limit
   AND ram_mb_used + %(ram_mb)s <= ram_mb_limit
   AND disk_gb_used + %(disk_gb)s <= disk_gb_limit
"""


def claim(host_id, consumer_id, amounts):
    """Take `amounts` on the host for the consumer, or return False when it no longer fits."""
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL,
            {"host": host_id, "vcpus": amounts.vcpus, "ram_mb": amounts.ram_mb, "disk_gb": amounts.disk_gb},
        )
        taken = cursor.rowcount
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
