"""Security group rules as boxes (see boxes.py), sorted into the four set kinds a group chain matches.

- ``any``: the remote address alone (protocol "any");
- ``proto``: remote . protocol (a protocol without ports, ICMP without a type, or any other number);
- ``ports``: remote . protocol . destination port range (tcp, udp, sctp, dccp, udplite with ports);
- ``icmp``: remote . ICMP type . ICMP code (a type given; no code means every code).

The remote is the rule's CIDR, each member address of its remote group, or everywhere.
"""

import ipaddress

from ..network_protocol import PORT_PROTOCOLS, protocol_number
from .boxes import address_interval

SET_KINDS = ("any", "proto", "ports", "icmp")
EVERYWHERE = {4: ipaddress.ip_network("0.0.0.0/0"), 6: ipaddress.ip_network("::/0")}
ALL_CODES = (0, 255)


def remote_intervals(groups, rule, version):
    if rule.remote_ip_prefix is not None:
        return [address_interval(ipaddress.ip_network(rule.remote_ip_prefix))]
    if rule.remote_group_id is not None:
        members = (ipaddress.ip_address(a) for a in groups[rule.remote_group_id].member_ips)
        return [(int(a), int(a)) for a in members if a.version == version]
    return [address_interval(EVERYWHERE[version])]


def rule_box_rest(rule):
    """(kind, the dimensions after the address) of one rule."""
    number = protocol_number(rule.protocol)
    if number is None:
        return "any", ()
    if rule.protocol in PORT_PROTOCOLS and rule.port_range_min is not None:
        return "ports", ((number, number), (rule.port_range_min, rule.port_range_max))
    if rule.icmp_type is not None:
        code = ALL_CODES if rule.icmp_code is None else (rule.icmp_code, rule.icmp_code)
        return "icmp", ((rule.icmp_type, rule.icmp_type), code)
    return "proto", ((number, number),)


def group_boxes(groups, group, direction):
    """{(ip version, kind): [box, ...]} for one group's rules in one direction."""
    found = {(version, kind): [] for version in (4, 6) for kind in SET_KINDS}
    for rule in group.rules:
        if rule.direction != direction:
            continue
        version = 4 if rule.ethertype == "IPv4" else 6
        kind, rest = rule_box_rest(rule)
        found[(version, kind)].extend(
            (interval, *rest) for interval in remote_intervals(groups, rule, version)
        )
    return found
