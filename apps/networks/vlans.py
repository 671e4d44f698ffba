"""Taking a free VLAN id for a new network from its zone's pools.

The unique constraint on (zone, vlan_id) is the guarantee; this picks a
candidate at random among the ids no network holds, so concurrent creates
rarely pick the same one, and the caller retries when the insert still loses.
"""

from django.db import connection

from apps.core.errors import Conflict

_FREE_VLAN_SQL = """
SELECT p.physical_network, v
  FROM networks_vlanpool p, generate_series(p.vlan_min, p.vlan_max) AS v
 WHERE p.zone_id = %s AND (%s::text IS NULL OR p.physical_network = %s)
   AND NOT EXISTS (SELECT 1 FROM networks_network n WHERE n.zone_id = p.zone_id AND n.vlan_id = v)
 ORDER BY random()
 LIMIT 1
"""


def free_vlan(zone, physical_network=None):
    """(physical network, VLAN id) free in the zone's pools, or 409 vlan_ids_exhausted."""
    with connection.cursor() as cursor:
        cursor.execute(_FREE_VLAN_SQL, [zone.pk, physical_network, physical_network])
        row = cursor.fetchone()
    if row is None:
        where = f" of physical network {physical_network}" if physical_network else ""
        raise Conflict(
            f"Zone {zone} has no free VLAN id left in its pools{where}.",
            code="vlan_ids_exhausted",
            details={"zone_id": str(zone.pk), "physical_network": physical_network},
        )
    return row
