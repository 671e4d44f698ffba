"""One host's desired network state, read from the database as the agent's NetworkState.

A host needs a network when a port plugged in there uses it: its instances'
NICs (and those of instances moving to it: a port's `arriving_host`, so the
NIC is filtered there before the guest arrives), and, on a network node, the
ports of the routers and DHCP servers it runs. For each it gets the network's
segment and subnets, and the DHCP entries when its DHCP server runs here; then the NICs with their addresses,
security groups and floating IPs; every group those NICs are in or whose
rules name as a remote, with its rules and the addresses of all its members
plugged in somewhere (a port on no host sends nothing); and its routers with their interfaces, gateway and
floating IPs. The wire format is agent/network_protocol.py's.

Two statements: the generation, then the whole state in one snapshot (the
second statement's). The generation is taken first, so a state whose
generation is at least g was read after g was taken; a change's sync task
takes its g after the change committed (host_work.py), so a state of
generation g or more always holds the change.
"""

from django.db import connection

from agent import protocol
from agent.network_protocol import NetworkState

_GENERATION_SQL = "SELECT nextval('networks_state_generation')"

# Every part is built as the protocol's JSON, keyed as network_protocol's messages are.
_STATE_SQL = """
WITH plugged AS MATERIALIZED (
    SELECT p.id, p.network_id, p.device_owner, p.instance_id, p.mac_address, p.router_id
      FROM networks_port p WHERE p.host_id = %(host)s OR p.arriving_host_id = %(host)s
), nets AS MATERIALIZED (
    SELECT n.* FROM networks_network n
     WHERE n.id IN (SELECT network_id FROM plugged) OR n.dhcp_host_id = %(host)s
), nics AS MATERIALIZED (
    SELECT * FROM plugged WHERE device_owner = 'compute'
), fixed AS MATERIALIZED (
    SELECT a.port_id, a.subnet_id, a.address, s.cidr, s.gateway_ip
      FROM networks_subnetaddress a JOIN networks_subnet s ON s.id = a.subnet_id
     WHERE a.port_id IN (SELECT id FROM plugged)
), membership AS MATERIALIZED (
    SELECT m.port_id, m.securitygroup_id FROM networks_port_security_groups m
     WHERE m.port_id IN (SELECT id FROM nics)
), rules AS MATERIALIZED (
    SELECT r.* FROM networks_securitygrouprule r
     WHERE r.security_group_id IN (SELECT securitygroup_id FROM membership)
), groups AS MATERIALIZED (
    SELECT securitygroup_id AS id FROM membership
     UNION SELECT remote_group_id FROM rules WHERE remote_group_id IS NOT NULL
), routers AS MATERIALIZED (
    SELECT r.* FROM networks_router r WHERE r.host_id = %(host)s
)
SELECT json_build_object(
  'networks', (SELECT coalesce(json_agg(json_build_object(
      'network_id', n.id,
      'type', n.network_type,
      'physical_network', n.physical_network,
      'mtu', n.mtu,
      'vlan_id', n.vlan_id,
      'subnets', (SELECT coalesce(json_agg(json_build_object(
            'subnet_id', s.id, 'cidr', s.cidr, 'ip_version', s.ip_version, 'gateway_ip', host(s.gateway_ip),
            'dns_nameservers', (SELECT coalesce(json_agg(host(d)), '[]') FROM unnest(s.dns_nameservers) d),
            'dhcp_enabled', s.enable_dhcp, 'ipv6_mode', s.ipv6_mode
          ) ORDER BY s.ip_version, s.id), '[]') FROM networks_subnet s WHERE s.network_id = n.id),
      'dhcp_server', CASE WHEN n.dhcp_host_id = %(host)s THEN (
          SELECT json_build_object('port_id', p.id, 'mac', p.mac_address::text,
                   'fixed_ips', (SELECT coalesce(json_agg(json_build_object(
                       'subnet_id', f.subnet_id, 'ip_address', host(f.address)) ORDER BY f.address), '[]')
                     FROM fixed f WHERE f.port_id = p.id))
            FROM networks_port p WHERE p.network_id = n.id AND p.device_owner = 'network:dhcp'
             AND p.host_id = %(host)s AND EXISTS (SELECT 1 FROM fixed f WHERE f.port_id = p.id)
           LIMIT 1) END,
      'dhcp_hosts', CASE WHEN n.dhcp_host_id = %(host)s THEN (
          SELECT coalesce(json_agg(json_build_object(
                   'mac', p.mac_address::text, 'ip_address', host(a.address),
                   'hostname', coalesce(nullif(p.hostname, ''), 'host-' || replace(host(a.address), '.', '-'))
                 ) ORDER BY a.address), '[]')
            FROM networks_port p
            JOIN networks_subnetaddress a ON a.port_id = p.id
            JOIN networks_subnet s ON s.id = a.subnet_id AND s.ip_version = 4 AND s.enable_dhcp
           WHERE p.network_id = n.id AND p.device_owner = 'compute') ELSE '[]' END
    ) ORDER BY n.id), '[]') FROM nets n),
  'ports', (SELECT coalesce(json_agg(json_build_object(
      'port_id', p.id,
      'instance_id', p.instance_id,
      'network_id', p.network_id,
      'mac', p.mac_address::text,
      'device_name', left('tap' || replace(p.id::text, '-', ''), 14),
      'fixed_ips', (SELECT coalesce(json_agg(json_build_object(
            'subnet_id', f.subnet_id, 'ip_address', host(f.address)) ORDER BY f.address), '[]')
          FROM fixed f WHERE f.port_id = p.id),
      'security_group_ids', (SELECT coalesce(json_agg(m.securitygroup_id ORDER BY m.securitygroup_id), '[]')
          FROM membership m WHERE m.port_id = p.id),
      'floating_ips', (SELECT coalesce(json_agg(host(fip.floating_ip_address)
                                                ORDER BY fip.floating_ip_address), '[]')
          FROM networks_floatingip fip WHERE fip.fixed_port_id = p.id)
    ) ORDER BY p.id), '[]') FROM nics p),
  'security_groups', (SELECT coalesce(json_agg(json_build_object(
      'security_group_id', g.id,
      'name', sg.name,
      'rules', (SELECT coalesce(json_agg(json_build_object(
            'rule_id', r.id, 'direction', r.direction, 'ethertype', r.ethertype,
            'protocol', coalesce(r.protocol, 'any'),
            'port_range_min', r.port_min, 'port_range_max', r.port_max,
            'icmp_type', r.icmp_type, 'icmp_code', r.icmp_code,
            'remote_ip_prefix', r.remote_cidr::text, 'remote_group_id', r.remote_group_id
          ) ORDER BY r.created_at, r.id), '[]') FROM rules r WHERE r.security_group_id = g.id),
      'member_ips', (SELECT coalesce(json_agg(DISTINCT host(a.address)), '[]')
          FROM networks_port_security_groups m
          JOIN networks_port mp ON mp.id = m.port_id AND mp.host_id IS NOT NULL
          JOIN networks_subnetaddress a ON a.port_id = m.port_id
         WHERE m.securitygroup_id = g.id)
    ) ORDER BY g.id), '[]') FROM groups g JOIN networks_securitygroup sg ON sg.id = g.id),
  'routers', (SELECT coalesce(json_agg(json_build_object(
      'router_id', r.id,
      'interfaces', (SELECT coalesce(json_agg(json_build_object(
            'port_id', p.id, 'network_id', p.network_id, 'mac', p.mac_address::text,
            'ip_addresses', (SELECT json_agg(host(f.address) || '/' || masklen(f.cidr) ORDER BY f.address)
                               FROM fixed f WHERE f.port_id = p.id)
          ) ORDER BY p.created_at, p.id), '[]')
          FROM networks_port p WHERE p.router_id = r.id AND p.device_owner = 'network:router_interface'
           AND EXISTS (SELECT 1 FROM fixed f WHERE f.port_id = p.id)),
      'external_gateway', (SELECT json_build_object(
            'port_id', p.id, 'network_id', p.network_id, 'mac', p.mac_address::text,
            'ip_address', host(f.address) || '/' || masklen(f.cidr), 'gateway_ip', host(f.gateway_ip),
            'snat', r.enable_snat)
          FROM networks_port p JOIN fixed f ON f.port_id = p.id
         WHERE p.id = r.gateway_port_id AND family(f.address) = 4
         ORDER BY f.address LIMIT 1),
      'floating_ips', (SELECT coalesce(json_agg(json_build_object(
            'floating_ip', host(fip.floating_ip_address), 'fixed_ip', host(fip.fixed_ip_address))
          ORDER BY fip.floating_ip_address), '[]')
          FROM networks_floatingip fip WHERE fip.router_id = r.id)
    ) ORDER BY r.id), '[]') FROM routers r)
)
"""


def next_generation():
    """A generation no state read before now has: a change's sync task asks for at least this one."""
    with connection.cursor() as cursor:
        cursor.execute(_GENERATION_SQL)
        return cursor.fetchone()[0]


def desired_state(host):
    """The NetworkState of `host` (an infrastructure Host), checked as the agent will check it."""
    generation = next_generation()
    with connection.cursor() as cursor:
        cursor.execute(_STATE_SQL, {"host": host.pk})
        parts = cursor.fetchone()[0]
    # The JSON of json_build_object keeps UUIDs as text, lowercase, as the protocol wants them.
    return NetworkState.from_dict(
        {"protocol_version": protocol.PROTOCOL_VERSION, "host": host.name, "generation": generation, **parts}
    )
