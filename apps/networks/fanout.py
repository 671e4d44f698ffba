"""Which hosts a change reaches: those whose desired network state (host_state.py) it alters.

When the host-work layer sends network state to hosts, a change is sent to
these hosts, and only these:

- a port (made, deleted, its addresses or groups changed): its own host (and
  the one its moving instance is arriving on), its network's DHCP server,
  and, when it is plugged in somewhere, every host filtering on its groups
  (remote-group rules follow membership; a port on no host is no group's
  member address);
- a security group's rules: every host with a port in the group;
- a network or subnet: every host that has the network;
- a router or floating IP: the router's network node.
"""

from django.db.models import Q

from .models import Network, Port, SecurityGroupRule


def hosts_of_ports(ports):
    """Where the ports are plugged in, and where those of moving instances are arriving."""
    hosts = set()
    placed = ports.filter(Q(host__isnull=False) | Q(arriving_host__isnull=False))
    for host_id, arriving_host_id in placed.values_list("host_id", "arriving_host_id"):
        hosts |= {host_id, arriving_host_id}
    return hosts - {None}


def hosts_for_network(network_id):
    ports = Port.objects.filter(network_id=network_id)
    dhcp = Network.objects.filter(pk=network_id, dhcp_host__isnull=False).values_list(
        "dhcp_host_id", flat=True
    )
    return hosts_of_ports(ports) | set(dhcp)


def hosts_for_security_group(group_id):
    """Hosts filtering on the group: its members' hosts, and those of groups naming it as their remote."""
    return hosts_for_groups([group_id])


def hosts_for_groups(group_ids):
    """Hosts filtering on any of the groups: those a port's membership in them reaches."""
    group_ids = list(group_ids)
    naming = SecurityGroupRule.objects.filter(remote_group_id__in=group_ids).values("security_group_id")
    return hosts_of_ports(
        Port.objects.filter(Q(security_groups__in=group_ids) | Q(security_groups__in=naming))
    )


def hosts_for_port(port):
    hosts = {port.host_id, port.arriving_host_id} - {None}
    hosts |= set(
        Network.objects.filter(pk=port.network_id, dhcp_host__isnull=False).values_list(
            "dhcp_host_id", flat=True
        )
    )
    if port.host_id:
        hosts |= hosts_for_groups(port.security_groups.values_list("pk", flat=True))
    return hosts


def hosts_for_router(router):
    return {router.host_id}
