"""IPAM: addresses given to ports and taken back, atomically, in the caller's transaction.

The guarantee is in the database: `SubnetAddress` has one row per (subnet,
address), and a row names at most one port, so no address can be given twice
whatever the code or the concurrency. The code only has to be fast:

- an IPv4 subnet's pool addresses are rows from the start, so allocating is
  one UPDATE of the first free row of a partial index, least recently
  released first, `FOR UPDATE SKIP LOCKED`: concurrent allocations on one
  subnet take different rows without waiting for each other, and a /16 costs
  what a /28 does;
- an address asked for by name is one INSERT … ON CONFLICT that either makes
  the row or takes it over only if it is free and its hold has ended;
- a released IPv4 address is held (`CLOUDMGR_IP_HOLD_SECONDS`) before it is
  given again; IPv6 addresses are made from MACs (SLAAC), so theirs are
  simply deleted.

An allocation whose transaction rolls back leaves the row as it was. A
subnet whose free rows are all locked by allocations still in flight counts as
exhausted for that moment, which is the honest answer.
"""

from django.conf import settings
from django.db import connection
from django.db.models import DateTimeField, Func

from apps.core.errors import Conflict

from .models import SubnetAddress


class StatementTimestamp(Func):
    """PostgreSQL's statement_timestamp(): releases and takes in one transaction still happen in order."""

    template = "statement_timestamp()"
    output_field = DateTimeField()


_POPULATE_SQL = """
INSERT INTO networks_subnetaddress (subnet_id, address, port_id, in_pool, available_at)
SELECT %s, %s::inet + g, NULL, true, now()
  FROM generate_series(0, %s) AS g
 WHERE NOT (%s::inet + g) = ANY(%s::inet[])
"""

_TAKE_FREE_SQL = """
UPDATE networks_subnetaddress SET port_id = %s
 WHERE id = (SELECT id FROM networks_subnetaddress
              WHERE subnet_id = %s AND port_id IS NULL AND in_pool AND available_at <= statement_timestamp()
              ORDER BY available_at, address
              LIMIT 1
                FOR UPDATE SKIP LOCKED)
RETURNING host(address)
"""

_TAKE_NAMED_SQL = """
INSERT INTO networks_subnetaddress AS a (subnet_id, address, port_id, in_pool, available_at)
VALUES (%s, %s, %s, false, now())
    ON CONFLICT (subnet_id, address) DO UPDATE SET port_id = EXCLUDED.port_id
 WHERE a.port_id IS NULL AND a.available_at <= statement_timestamp()
RETURNING host(address)
"""

# IPv6 (SLAAC) rows go; IPv4 rows stay, free from the end of the hold on.
_RELEASE_SQL = """
WITH slaac AS (
    DELETE FROM networks_subnetaddress WHERE port_id = ANY(%s::uuid[]) AND family(address) = 6
)
UPDATE networks_subnetaddress
   SET port_id = NULL, available_at = statement_timestamp() + make_interval(secs => %s)
 WHERE port_id = ANY(%s::uuid[]) AND family(address) = 4
"""


def populate(subnet, pools, reserved):
    """Make the free rows of every address of `pools` ([(first, last)]) but the reserved ones."""
    reserved_text = [str(address) for address in reserved]
    with connection.cursor() as cursor:
        for first, last in pools:
            count = int(last) - int(first)
            cursor.execute(_POPULATE_SQL, [subnet.pk, str(first), count, str(first), reserved_text])


def take_free(subnet, port):
    """The address now given to `port` from the subnet's pools, or None when none is free."""
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_FREE_SQL, [port.pk, subnet.pk])
        row = cursor.fetchone()
    return row[0] if row else None


def take_named(subnet, port, address):
    """Give `address` to `port`, or raise naming why it is not free (in use, or held after a release)."""
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_NAMED_SQL, [subnet.pk, str(address), port.pk])
        row = cursor.fetchone()
    if row:
        return row[0]
    taken = (
        SubnetAddress.objects.filter(subnet=subnet, address=str(address))
        .values("port_id", "available_at")
        .first()
    )
    if taken and taken["port_id"] is None:
        raise Conflict(
            f"{address} was released recently and is held until {taken['available_at'].isoformat()}.",
            code="ip_address_held",
            details={"ip_address": str(address), "available_at": taken["available_at"].isoformat()},
        )
    raise Conflict(
        f"{address} is in use in subnet {subnet}.",
        code="ip_address_in_use",
        details={"ip_address": str(address)},
    )


def release(port_ids):
    """Take back every address of these ports: IPv4 ones are held, IPv6 ones deleted."""
    ids = [str(pk) for pk in port_ids]
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(_RELEASE_SQL, [ids, settings.CLOUDMGR_IP_HOLD_SECONDS, ids])


def exhausted(network, subnets):
    """The 409 for a network none of whose subnets has a free address, with how many are held."""
    held = SubnetAddress.objects.filter(
        subnet__in=subnets, port__isnull=True, in_pool=True, available_at__gt=StatementTimestamp()
    ).count()
    return Conflict(
        f"Network {network} has no free address left"
        + (f" ({held} released recently and held for a while)." if held else "."),
        code="ip_addresses_exhausted",
        details={"network_id": str(network.pk), "network_name": network.name, "held": held},
    )
