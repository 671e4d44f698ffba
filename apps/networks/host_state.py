"""One host's desired network state, read from the database as plain dicts for the agent.

A host needs a network when a port plugged in there uses it: its instances'
NICs, and, on a network node, the ports of the routers and DHCP servers it
runs. For each it gets the network's segment and subnets, and the DHCP
entries when its DHCP server runs here; then the NICs with their addresses and
security groups; every group those NICs are in or whose rules they name as a
remote, with its rules and the addresses of all its members, wherever they
run; and its routers with their interfaces, gateway and floating IPs.

The state is read in one REPEATABLE READ snapshot, under a per-host advisory
lock, with `generation` taken from a sequence inside that snapshot: for one
host, a state read later has a larger generation and is never older, so the
agent can drop a state whose generation is below the one it applied.
"""

import ipaddress
from collections import defaultdict
from contextlib import contextmanager

from django.db import connection, transaction

from .models import (
    FloatingIP,
    HostNetworkConfig,
    HostPhysicalNetwork,
    Network,
    Port,
    Router,
    SecurityGroupRule,
    Subnet,
    SubnetAddress,
)
from .models.security import MATCH_FIELDS

# The first key of the two-key advisory locks that order state reads per host ('NETS').
_LOCK_CLASS = 0x4E455453


def desired_state(host):
    """The state of `host` (an infrastructure Host). Outside a transaction it takes its own snapshot."""
    if connection.in_atomic_block:
        return _read(host)
    with _host_lock(host), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _read(host)


@contextmanager
def _host_lock(host):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", [_LOCK_CLASS, str(host.pk)])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", [_LOCK_CLASS, str(host.pk)])


def _generation():
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('networks_state_generation')")
        return cursor.fetchone()[0]


def _read(host):
    generation = _generation()
    plugged = list(
        Port.objects.filter(host=host).values(
            "id", "network_id", "device_owner", "instance_id", "mac_address", "router_id"
        )
    )
    network_ids = {p["network_id"] for p in plugged} | set(
        Network.objects.filter(dhcp_host=host).values_list("id", flat=True)
    )
    addresses = _addresses_of([p["id"] for p in plugged])
    nics = [p for p in plugged if p["device_owner"] == Port.COMPUTE]
    memberships = _memberships([p["id"] for p in nics])
    groups = _security_groups({g for ids in memberships.values() for g in ids})
    config = HostNetworkConfig.objects.filter(host=host).values_list("network_node", flat=True).first()
    return {
        "host_id": str(host.pk),
        "generation": generation,
        "network_node": bool(config),
        "physical_networks": dict(
            HostPhysicalNetwork.objects.filter(host=host).values_list("physical_network", "interface")
        ),
        "networks": _networks(host, network_ids),
        "ports": [_nic(p, addresses, memberships) for p in nics],
        "security_groups": groups,
        "routers": _routers(host, addresses),
    }


def _addresses_of(port_ids):
    """{port id: [(subnet id, address)]} in address order."""
    found = defaultdict(list)
    for port_id, subnet_id, address in (
        SubnetAddress.objects.filter(port_id__in=port_ids)
        .order_by("address")
        .values_list("port_id", "subnet_id", "address")
    ):
        found[port_id].append((subnet_id, address))
    return found


def _memberships(port_ids):
    found = defaultdict(list)
    through = Port.security_groups.through
    for port_id, group_id in through.objects.filter(port_id__in=port_ids).values_list(
        "port_id", "securitygroup_id"
    ):
        found[port_id].append(group_id)
    return found


def _nic(port, addresses, memberships):
    return {
        "id": str(port["id"]),
        "instance_id": str(port["instance_id"]),
        "network_id": str(port["network_id"]),
        "mac": port["mac_address"],
        "fixed_ips": [{"subnet_id": str(s), "ip": a} for s, a in addresses[port["id"]]],
        "device": Port(id=port["id"]).device_name,
        "security_group_ids": sorted(str(g) for g in memberships[port["id"]]),
    }


def _subnet(subnet):
    return {
        "id": str(subnet.pk),
        "cidr": subnet.cidr,
        "ip_version": subnet.ip_version,
        "gateway": subnet.gateway_ip,
        "dns": list(subnet.dns_nameservers),
        "ipv6_mode": subnet.ipv6_mode,
        "dhcp": subnet.enable_dhcp,
    }


def _networks(host, network_ids):
    networks = list(Network.objects.filter(pk__in=network_ids).order_by("id"))
    subnets = defaultdict(list)
    for subnet in Subnet.objects.filter(network_id__in=network_ids).order_by("ip_version", "cidr"):
        subnets[subnet.network_id].append(subnet)
    served = [n.pk for n in networks if n.dhcp_host_id == host.pk]
    dhcp = _dhcp_entries(served, subnets)
    return [
        {
            "id": str(n.pk),
            "type": n.network_type,
            "physical_network": n.physical_network,
            "vlan_id": n.vlan_id,
            "mtu": n.mtu,
            "external": n.external,
            "subnets": [_subnet(s) for s in subnets[n.pk]],
            "dhcp_server": dhcp["servers"].get(n.pk),
            "dhcp_hosts": dhcp["hosts"].get(n.pk, []),
        }
        for n in networks
    ]


def _dhcp_entries(network_ids, subnets):
    """The DHCP server's own port and the entries it serves, per network it serves here (IPv4 only)."""
    dhcp_subnets = {s.pk for ids in network_ids for s in subnets[ids] if s.enable_dhcp and s.ip_version == 4}
    rows = (
        SubnetAddress.objects.filter(subnet_id__in=dhcp_subnets, port__isnull=False)
        .order_by("address")
        .values_list(
            "port__network_id",
            "port_id",
            "port__device_owner",
            "port__mac_address",
            "port__hostname",
            "address",
        )
    )
    servers, hosts = {}, defaultdict(list)
    for network_id, port_id, owner, mac, hostname, address in rows:
        if owner == Port.DHCP:
            server = servers.setdefault(network_id, {"port_id": str(port_id), "mac": mac, "ips": []})
            server["ips"].append(address)
        elif owner == Port.COMPUTE:
            hosts[network_id].append(
                {"mac": mac, "ip": address, "hostname": hostname or "host-" + address.replace(".", "-")}
            )
    return {"servers": servers, "hosts": hosts}


def _security_groups(direct):
    rules = defaultdict(list)
    remote = set()
    wanted = set(direct)
    for rule in SecurityGroupRule.objects.filter(security_group_id__in=direct).order_by("created_at", "id"):
        rules[rule.security_group_id].append(rule)
        if rule.remote_group_id is not None:
            remote.add(rule.remote_group_id)
    wanted |= remote
    members = defaultdict(list)
    memberships = Port.security_groups.through.objects.filter(
        securitygroup_id__in=wanted, port__addresses__isnull=False
    )
    for group_id, address in memberships.order_by("port__addresses__address").values_list(
        "securitygroup_id", "port__addresses__address"
    ):
        members[group_id].append(address)
    return [
        {"id": str(g), "rules": [_rule(r) for r in rules[g]], "member_ips": members[g]}
        for g in sorted(wanted, key=str)
    ]


def _rule(rule):
    return {
        **{field: getattr(rule, field) for field in MATCH_FIELDS},
        "remote_group_id": str(rule.remote_group_id) if rule.remote_group_id else None,
    }


def _routers(host, addresses):
    routers = list(Router.objects.filter(host=host).select_related("gateway_port").order_by("id"))
    ports = defaultdict(list)
    for port in Port.objects.filter(router__in=routers, device_owner=Port.ROUTER_INTERFACE).order_by(
        "created_at"
    ):
        ports[port.router_id].append(port)
    subnets = {s.pk: s for s in Subnet.objects.filter(addresses__port__router__in=routers)}
    floating = defaultdict(list)
    for fip in FloatingIP.objects.filter(router__in=routers).order_by("floating_ip_address"):
        floating[fip.router_id].append(
            {"floating_ip": fip.floating_ip_address, "fixed_ip": fip.fixed_ip_address}
        )
    return [
        {
            "id": str(r.pk),
            "interfaces": [_interface(p, subnets[s], a) for p in ports[r.pk] for s, a in addresses[p.pk]],
            "external": _external(r, addresses, subnets),
            "snat": r.enable_snat,
            "floating": floating[r.pk],
        }
        for r in routers
    ]


def _interface(port, subnet, address):
    prefix = ipaddress.ip_network(subnet.cidr).prefixlen
    return {
        "network_id": str(port.network_id),
        "subnet_id": str(subnet.pk),
        "ip": address,
        "prefixlen": prefix,
        "mac": port.mac_address,
        "port_id": str(port.pk),
        "device": port.device_name,
    }


def _external(router, addresses, subnets):
    port = router.gateway_port
    if port is None:
        return None
    found = addresses.get(port.pk) or []
    if not found:
        return None
    subnet_id, address = found[0]
    subnet = subnets[subnet_id]
    return {
        "network_id": str(port.network_id),
        "ip": address,
        "prefixlen": ipaddress.ip_network(subnet.cidr).prefixlen,
        "gateway": subnet.gateway_ip,
        "mac": port.mac_address,
        "port_id": str(port.pk),
        "device": port.device_name,
    }
