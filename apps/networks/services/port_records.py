"""Making and unmaking port rows: the MAC, the addresses and the security groups.

Every service that makes a port (a tenant's, an instance's NIC, a DHCP server,
a router's interface or gateway, a floating IP's address) goes through here,
inside its own transaction, so the rules of who may hold which address are
written once.
"""

import ipaddress
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction

from apps.core.errors import Conflict, ValidationFailed
from apps.core.prepared import PreparedStatement

from .. import ipam
from ..addressing import address_of, checked_mac, mac_prefix, random_mac, slaac_address
from ..locking import for_key_share, save_or_refuse, violated_constraint
from ..models import Port, SecurityGroup, Subnet

MAX_FIXED_IPS = 8
# A random MAC of a three-byte prefix collides once in millions; eight misses in a row mean the space is full.
MAC_ATTEMPTS = 8


@dataclass(frozen=True)
class AddressRequest:
    """An address a port asks for: any free one of a subnet, or a named one (in its subnet, or found)."""

    subnet_id: object = None
    ip_address: str | None = None

    @classmethod
    def parse(cls, value):
        if isinstance(value, cls):
            return value
        if not isinstance(value, dict) or not (value.get("subnet_id") or value.get("ip_address")):
            raise ValidationFailed(
                "Each fixed IP names a subnet_id, an ip_address or both.", code="bad_fixed_ip"
            )
        return cls(value.get("subnet_id"), value.get("ip_address"))


def insert(port, mac=None):
    """Insert the port with `mac`, or with a fresh random MAC of the configured prefix."""
    if mac is not None:
        port.mac_address = checked_mac(mac)
        refusal = Conflict(f"The MAC {port.mac_address} is in use.", code="mac_address_in_use")
        return save_or_refuse(port, {"port_unique_mac": refusal})
    prefix = mac_prefix()
    for _ in range(MAC_ATTEMPTS):
        port.mac_address = random_mac(prefix)
        try:
            with transaction.atomic():
                port.save(force_insert=True)
            return port
        except IntegrityError as error:
            if violated_constraint(error) != "port_unique_mac":
                raise
    raise Conflict(f"No free MAC address is left under the prefix {prefix}.", code="mac_addresses_exhausted")


# A port with a random MAC, any free address of the network's IPv4 subnet and its SLAAC
# addresses, and its security groups, in one statement. A MAC another port has makes no row
# (the caller draws another); a subnet with no free address makes no IPv4 row (the caller refuses).
# It also answers which hosts filter on the port's groups (fanout.py's rule, read here to save
# a statement in every create): those with ports in them or in groups whose rules name them.
_INSERT_WITH_ADDRESSES_SQL = """
WITH port AS (
    INSERT INTO networks_port (id, name, network_id, project_id, mac_address, device_owner, instance_id,
                               router_id, host_id, hostname, delete_with_instance, device_index, created_at)
    VALUES (%(id)s, %(name)s, %(network)s, %(project)s, %(mac)s, %(owner)s, %(instance)s, NULL, %(host)s,
            %(hostname)s, %(delete_with_instance)s, %(device_index)s, statement_timestamp())
        ON CONFLICT (mac_address) DO NOTHING
    RETURNING id, created_at
), ipv4 AS (
    UPDATE networks_subnetaddress SET port_id = %(id)s
     WHERE EXISTS (SELECT 1 FROM port)
       AND id = (SELECT id FROM networks_subnetaddress
                  WHERE subnet_id = %(ipv4_subnet)s AND port_id IS NULL AND in_pool
                    AND available_at <= statement_timestamp()
                  ORDER BY available_at, address
                  LIMIT 1
                    FOR UPDATE SKIP LOCKED)
    RETURNING host(address)
), ipv6 AS (
    INSERT INTO networks_subnetaddress AS a (subnet_id, address, port_id, in_pool, available_at)
    SELECT t.subnet_id, t.address, %(id)s, false, statement_timestamp()
      FROM unnest(%(ipv6_subnets)s::uuid[], %(ipv6_addresses)s::inet[]) AS t(subnet_id, address)
     WHERE EXISTS (SELECT 1 FROM port)
        ON CONFLICT (subnet_id, address) DO UPDATE SET port_id = EXCLUDED.port_id
     WHERE a.port_id IS NULL AND a.available_at <= statement_timestamp()
    RETURNING 1
), joined AS (
    INSERT INTO networks_port_security_groups (port_id, securitygroup_id)
    SELECT port.id, g FROM port, unnest(%(groups)s::uuid[]) AS g
)
SELECT (SELECT created_at FROM port), (SELECT * FROM ipv4), (SELECT count(*) FROM ipv6),
       (SELECT coalesce(array_agg(DISTINCT p.host_id), '{}') FROM networks_port_security_groups m
          JOIN networks_port p ON p.id = m.port_id AND p.host_id IS NOT NULL
         WHERE m.securitygroup_id = ANY(%(groups)s::uuid[])
            OR m.securitygroup_id IN (SELECT r.security_group_id FROM networks_securitygrouprule r
                                       WHERE r.remote_group_id = ANY(%(groups)s::uuid[])))
"""
_INSERT_WITH_ADDRESSES = PreparedStatement(
    "networks_insert_port",
    _INSERT_WITH_ADDRESSES_SQL,
    {
        "id": "uuid",
        "name": "varchar",
        "network": "uuid",
        "project": "uuid",
        "mac": "macaddr",
        "owner": "varchar",
        "instance": "uuid",
        "host": "uuid",
        "hostname": "varchar",
        "delete_with_instance": "boolean",
        "device_index": "smallint",
        "ipv4_subnet": "uuid",
        "ipv6_subnets": "uuid[]",
        "ipv6_addresses": "inet[]",
        "groups": "uuid[]",
    },
)


def insert_with_addresses(port, network, subnets, groups):
    """Insert `port` with a random MAC, its default addresses and `groups`; [(subnet, address)].

    The common case of every port create in one statement: no MAC or address named.
    A MAC collision draws again; an exhausted IPv4 subnet is the 409 that names the network.
    `port.group_hosts` is then the set of hosts filtering on its groups.
    """
    ipv4 = next((s for s in subnets if s.ip_version == 4), None)
    ipv6 = [s for s in subnets if s.ip_version == 6]
    prefix = mac_prefix()
    for _ in range(MAC_ATTEMPTS):
        port.mac_address = random_mac(prefix)
        slaac = [str(slaac_address(ipaddress.ip_network(s.cidr), port.mac_address)) for s in ipv6]
        with connection.cursor() as cursor:
            cursor.execute(
                *_INSERT_WITH_ADDRESSES.query(
                    {
                        "id": port.pk,
                        "name": port.name,
                        "network": network.pk,
                        "project": port.project_id,
                        "mac": port.mac_address,
                        "owner": port.device_owner,
                        "instance": port.instance_id,
                        "host": port.host_id,
                        "hostname": port.hostname,
                        "delete_with_instance": port.delete_with_instance,
                        "device_index": port.device_index,
                        "ipv4_subnet": ipv4.pk if ipv4 else None,
                        "ipv6_subnets": [s.pk for s in ipv6],
                        "ipv6_addresses": slaac,
                        "groups": [g.pk for g in groups],
                    }
                )
            )
            created_at, ipv4_address, ipv6_taken, group_hosts = cursor.fetchone()
        if created_at is None:
            continue
        port.created_at = created_at
        if ipv4 is not None and ipv4_address is None:
            raise ipam.exhausted(network, [ipv4])
        if ipv6_taken != len(ipv6):
            raise Conflict(
                f"The SLAAC address of MAC {port.mac_address} is in use.", code="ip_address_in_use"
            )
        port._state.adding = False
        port.group_hosts = {uuid.UUID(str(h)) for h in group_hosts}
        given = [(ipv4, ipv4_address)] if ipv4 is not None else []
        return given + list(zip(ipv6, slaac, strict=True))
    raise Conflict(f"No free MAC address is left under the prefix {prefix}.", code="mac_addresses_exhausted")


def assign_addresses(port, network, subnets, requests=None, *, may_name_outside_pools=False, gateway_of=None):
    """Give the port its addresses; [(subnet, address)]. `subnets` are the network's, locked by the caller.

    With no requests: one address of the first IPv4 subnet that has one free, and
    its SLAAC address in every IPv6 subnet. A named address must be a usable
    address of its subnet, neither reserved nor the gateway (only `gateway_of`,
    a subnet whose router interface this is, takes its gateway) and, unless
    `may_name_outside_pools`, inside the pools.
    """
    if not requests:
        return _default_addresses(port, network, subnets)
    requests = [AddressRequest.parse(r) for r in requests]
    if len(requests) > MAX_FIXED_IPS:
        raise ValidationFailed(f"A port has at most {MAX_FIXED_IPS} fixed IPs.", code="too_many_fixed_ips")
    given = []
    for request in requests:
        subnet = _subnet_for(request, network, subnets)
        if request.ip_address is None:
            given.append((subnet, _any_of(port, network, subnet)))
        else:
            address = _checked_named(subnet, request.ip_address, may_name_outside_pools, gateway_of)
            given.append((subnet, ipam.take_named(subnet, port, address)))
    return given


def _default_addresses(port, network, subnets):
    given = []
    ipv4 = [s for s in subnets if s.ip_version == 4]
    for subnet in ipv4:
        address = ipam.take_free(subnet, port)
        if address is not None:
            given.append((subnet, address))
            break
    else:
        if ipv4:
            raise ipam.exhausted(network, ipv4)
    for subnet in subnets:
        if subnet.ip_version == 6:
            given.append((subnet, _slaac(port, subnet)))
    return given


def _slaac(port, subnet):
    return ipam.take_named(subnet, port, slaac_address(ipaddress.ip_network(subnet.cidr), port.mac_address))


def _any_of(port, network, subnet):
    if subnet.ip_version == 6:
        return _slaac(port, subnet)
    address = ipam.take_free(subnet, port)
    if address is None:
        raise ipam.exhausted(network, [subnet])
    return address


def _subnet_for(request, network, subnets):
    if request.subnet_id is not None:
        found = [s for s in subnets if str(s.pk) == str(request.subnet_id)]
        if not found:
            raise ValidationFailed(
                f"Network {network} has no subnet {request.subnet_id}.", code="subnet_not_found"
            )
        return found[0]
    address = address_of(request.ip_address)
    found = [s for s in subnets if address in ipaddress.ip_network(s.cidr)]
    if not found:
        raise ValidationFailed(
            f"{address} is in no subnet of network {network}.", code="ip_address_not_in_network"
        )
    return found[0]


def _checked_named(subnet, text, may_name_outside_pools, gateway_of):
    address = address_of(text)
    net = ipaddress.ip_network(subnet.cidr)
    if subnet.ip_version == 6:
        raise ValidationFailed(
            f"Addresses of {net} are made from the port's MAC (SLAAC): name the subnet only.",
            code="ip_address_not_allowed",
        )
    if address not in net or address in (net.network_address, net.broadcast_address):
        raise ValidationFailed(
            f"{address} is not a usable address of {net}.", code="ip_address_not_in_network"
        )
    if subnet.gateway_ip and address == ipaddress.ip_address(subnet.gateway_ip) and gateway_of != subnet:
        raise ValidationFailed(f"{address} is the gateway of {net}.", code="ip_address_reserved")
    if str(address) in subnet.reserved_addresses:
        raise ValidationFailed(f"{address} is reserved in {net}.", code="ip_address_reserved")
    if not (may_name_outside_pools or gateway_of == subnet or _in_pools(subnet, address)):
        raise ValidationFailed(
            f"{address} is outside the allocation pools of {net}.", code="ip_address_outside_pool"
        )
    return address


def _in_pools(subnet, address):
    return any(address_of(first) <= address <= address_of(last) for first, last in subnet.allocation_pools)


_LOCKED_SUBNETS_SQL = (
    "SELECT * FROM networks_subnet WHERE network_id = %s ORDER BY ip_version, created_at, id FOR KEY SHARE"
)


def locked_subnets(network):
    """The network's subnets in order, locked FOR KEY SHARE: none is deleted while a port takes an address."""
    return list(Subnet.objects.raw(_LOCKED_SUBNETS_SQL, [network.pk]))


def groups_of(project, group_ids):
    """The project's security groups named, locked FOR KEY SHARE; 400 when one is not the project's."""
    wanted = {str(pk) for pk in group_ids}
    if not wanted:
        return []
    groups = for_key_share(SecurityGroup.objects.filter(project=project, id__in=wanted))
    if len(groups) != len(wanted):
        raise ValidationFailed(
            "Some security groups do not exist in this project.", code="security_group_not_found"
        )
    return groups


def join_groups(port, groups):
    through = Port.security_groups.through
    through.objects.bulk_create([through(port_id=port.pk, securitygroup_id=g.pk) for g in groups])


def replace_groups(port, groups):
    Port.security_groups.through.objects.filter(port_id=port.pk).delete()
    join_groups(port, groups)


def fixed_ips(given):
    return [{"subnet_id": str(subnet.pk), "ip_address": str(address)} for subnet, address in given]


def remove(ports):
    """Delete these ports, their addresses going back to IPAM (held) and their group memberships."""
    ids = [p.pk for p in ports]
    ipam.release(ids)
    Port.security_groups.through.objects.filter(port_id__in=ids).delete()
    Port.objects.filter(pk__in=ids).delete()
