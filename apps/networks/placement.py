"""Choosing the network node that runs a router or a network's DHCP server.

A network node is an up, enabled host of the zone, not in maintenance, with
the network-node role and every physical network asked for mapped to one of
its interfaces. The one running the fewest routers and DHCP servers wins; the
choice is locked (`FOR KEY SHARE`) so the host cannot be deleted under it.
"""

from django.db import connection

from apps.core.errors import Conflict
from apps.infrastructure.models import Host

_NETWORK_NODE_SQL = """
SELECT h.id
  FROM infrastructure_host h
  JOIN networks_hostnetworkconfig c ON c.host_id = h.id AND c.network_node
 WHERE h.zone_id = %s AND h.state = 'up' AND h.enabled AND NOT h.maintenance
   AND (SELECT count(*) FROM networks_hostphysicalnetwork m
         WHERE m.host_id = h.id AND m.physical_network = ANY(%s)) = %s
 ORDER BY (SELECT count(*) FROM networks_router r WHERE r.host_id = h.id)
        + (SELECT count(*) FROM networks_network n WHERE n.dhcp_host_id = h.id), h.name
 LIMIT 1
   FOR KEY SHARE OF h
"""


def network_node(zone, physical_networks=()):
    """The least busy network node of `zone` carrying all `physical_networks`, or 409 no_network_node."""
    wanted = sorted(set(physical_networks))
    with connection.cursor() as cursor:
        cursor.execute(_NETWORK_NODE_SQL, [zone.pk, wanted, len(wanted)])
        row = cursor.fetchone()
    if row is None:
        carrying = f" carrying {', '.join(wanted)}" if wanted else ""
        raise Conflict(
            f"Zone {zone} has no network node{carrying}: an up, enabled host with the network-node role.",
            code="no_network_node",
            details={"zone_id": str(zone.pk), "physical_networks": wanted},
        )
    return Host.objects.get(pk=row[0])


def carries(host, physical_network):
    return host.physical_networks.filter(physical_network=physical_network).exists()
