"""The host's filter ruleset as one ``nft -f`` text that replaces cloudmgr's tables atomically.

Two tables, both named ``cloudmgr``, in the host's network namespace:

- ``bridge cloudmgr`` sees every frame a bridge forwards. Per port, a chain reached
  through a verdict map keyed by the tap's name enforces anti-spoofing (the port's own
  MAC, IPv4, ARP and IPv6/NDP addresses; no DHCP server, no router advertisements) and
  writes the port's index into the packet mark: the sender's in the high 16 bits, the
  receiver's in the low 16 bits. It also steers guests' metadata requests to this
  host's metadata port.
- ``inet cloudmgr`` decides statefully: this kernel has no bridge conntrack, but
  br_netfilter passes bridged IP packets through the inet hooks, where only the bridge
  is visible, hence the mark. A conntrack zone per bridge keeps overlapping CIDRs
  apart. The mark selects the port's chain through a verdict map; the port's chain
  jumps to one chain per security group, whose rules are set lookups: a group's
  rules become elements, so the packet path does not grow with the number of rules.

Nothing else in the ruleset is touched: each table is declared, deleted and
re-created in the same transaction.
"""

import ipaddress

from . import boxes
from .names import FILTER_TABLE, METADATA_ADDRESS, metadata_veth
from .security_groups import SET_KINDS, group_boxes

EGRESS_MASK = 0xFFFF0000
INGRESS_MASK = 0x0000FFFF
# Guests may always do these, whatever their groups say: DHCP and SLAAC need them.
EGRESS_ALWAYS = (
    "udp sport 68 udp dport 67 accept",
    "udp sport 546 udp dport 547 accept",
    "icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report,"
    " mld2-listener-report } accept",
    f"ip daddr {METADATA_ADDRESS} tcp dport 80 accept",
)
INGRESS_ALWAYS = (
    "udp sport 67 udp dport 68 accept",
    "udp sport 547 udp dport 546 accept",
    "icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-query } accept",
)
SET_TYPES = {
    "any": ("{addr}",),
    "proto": ("{addr}", "meta l4proto"),
    "ports": ("{addr}", "meta l4proto", "th dport"),
    "icmp": ("{addr}", "{icmp} type", "{icmp} code"),
}


def _elements(items):
    items = list(items)
    if not items:
        return []
    return ["\t\telements = { " + ",\n\t\t\t     ".join(items) + " }"]


def _set(name, declaration, items, interval=False):
    lines = [f"\tset {name} {{", f"\t\t{declaration}"]
    if interval:
        lines.append("\t\tflags interval")
    return [*lines, *_elements(items), "\t}"]


def _map(name, declaration, pairs):
    return [f"\tmap {name} {{", f"\t\t{declaration}", *_elements(f"{k} : {v}" for k, v in pairs), "\t}"]


def _chain(name, rules, hook=None):
    lines = [f"\tchain {name} {{"]
    if hook:
        lines.append(f"\t\t{hook}")
    return [*lines, *(f"\t\t{rule}" for rule in rules), "\t}"]


def _quoted(names):
    return (f'"{name}"' for name in names)


def _hex(value):
    return f"0x{value:08x}"


def _v6_integer(address):
    return f"0x{int(ipaddress.IPv6Address(address)):032x}"


def render(plan):
    """The whole ``nft -f`` text for the host's filter tables (just their removal when no networks)."""
    lines = []
    for family in ("bridge", "inet"):
        lines += [f"table {family} {FILTER_TABLE}", f"delete table {family} {FILTER_TABLE}"]
    if plan.networks:
        lines += _bridge_table(plan)
        lines += _inet_table(plan)
    return "\n".join(lines) + "\n"


# --- bridge family: anti-spoofing, marks, metadata steering ---------------------------------------


def _bridge_table(plan):
    ports = plan.ports
    devices = [p.device for p in ports]
    metadata = [(p.device, p.network.metadata_mac) for p in ports if p.network.metadata_mac and p.ipv4]
    lines = [f"table bridge {FILTER_TABLE} {{"]
    lines += _set("ports", "type ifname", _quoted(devices))
    lines += _set("metadata_ports", "type ifname", _quoted(_metadata_veths(plan)))
    lines += _map("port_out", "type ifname : verdict", ((f'"{d}"', f"jump out-{d}") for d in devices))
    lines += _map("port_in", "type ifname : verdict", ((f'"{d}"', f"jump in-{d}") for d in devices))
    lines += _map("metadata_mac", "type ifname : ether_addr", ((f'"{d}"', mac) for d, mac in metadata))
    lines += _chain(
        "prerouting",
        [f"ip daddr {METADATA_ADDRESS} tcp dport 80 ether daddr set iifname map @metadata_mac"],
        "type filter hook prerouting priority -300; policy accept;",
    )
    lines += _chain(
        "forward",
        [
            "iifname vmap @port_out",
            "oifname vmap @port_in",
            # A host's metadata port talks only with this host's own guests.
            "oifname @metadata_ports iifname != @ports drop",
            "iifname @metadata_ports oifname != @ports drop",
        ],
        "type filter hook forward priority -200; policy accept;",
    )
    lines += _chain("input", ["iifname @ports drop"], "type filter hook input priority -200; policy accept;")
    for port in ports:
        lines += _chain(f"out-{port.device}", anti_spoofing_rules(port))
        lines += _chain(
            f"in-{port.device}", [f"meta mark set meta mark & {_hex(EGRESS_MASK)} | {_hex(port.index)}"]
        )
    return [*lines, "}"]


def _metadata_veths(plan):
    return [metadata_veth(n.network_id) for n in plan.metadata_networks()]


def anti_spoofing_rules(port):
    """What a guest may send at all, whatever its security groups: its own MAC and addresses."""
    mac = port.spec.mac
    rules = [
        f"meta mark set {_hex(port.egress_mark)}",
        f"ether saddr != {mac} drop",
        "ether type != { arp, ip, ip6 } drop",
        f"arp saddr ether != {mac} drop",
    ]
    if port.ipv4:
        own = ", ".join(port.ipv4)
        rules += [
            f"arp saddr ip != {{ 0.0.0.0, {own} }} drop",
            # A DHCP client has no address yet.
            "ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 return",
            f"ip saddr != {{ {own} }} drop",
            "udp sport 67 drop",
        ]
    else:
        rules.append("ether type { arp, ip } drop")
    own6 = ", ".join(port.ipv6)
    targets = ", ".join(_v6_integer(a) for a in port.ipv6)
    rules += [
        # The unspecified address is for duplicate address detection and MLD only.
        "ip6 saddr :: meta l4proto != ipv6-icmp drop",
        "ip6 saddr :: icmpv6 type != { nd-neighbor-solicit, mld-listener-report, mld2-listener-report } drop",
        f"ip6 saddr != {{ ::, {own6} }} drop",
        "icmpv6 type { nd-router-advert, nd-redirect } drop",
        "udp sport 547 drop",
        # A neighbour advertisement's target address (bytes 8-23 of the ICMPv6 header) must be its own.
        f"icmpv6 type nd-neighbor-advert @th,64,128 != {{ {targets} }} drop",
    ]
    return rules


# --- inet family: stateful security groups -------------------------------------------------------


def _inet_table(plan):
    bridges = [n.bridge for n in plan.networks.values()]
    lines = [f"table inet {FILTER_TABLE} {{"]
    lines += _set("bridges", "type ifname", _quoted(bridges))
    lines += _map(
        "zones", "typeof iifname : ct zone", ((f'"{n.bridge}"', n.zone) for n in plan.networks.values())
    )
    lines += _map(
        "egress_ports",
        "type mark : verdict",
        ((_hex(p.egress_mark), f"jump egress-{p.device}") for p in plan.ports),
    )
    lines += _map(
        "ingress_ports",
        "type mark : verdict",
        ((_hex(p.ingress_mark), f"jump ingress-{p.device}") for p in plan.ports),
    )
    lines += _chain(
        "prerouting",
        ["iifname @bridges ct zone set iifname map @zones"],
        "type filter hook prerouting priority -300; policy accept;",
    )
    for direction, device_match, mask, priority in (
        ("egress", "iifname", EGRESS_MASK, 0),
        ("ingress", "oifname", INGRESS_MASK, 1),
    ):
        lines += _chain(
            direction,
            [
                f"{device_match} != @bridges accept",
                "ct state established,related accept",
                f"meta mark & {_hex(mask)} vmap @{direction}_ports",
            ],
            f"type filter hook forward priority {priority}; policy accept;",
        )
    for port in plan.ports:
        for direction, always in (("egress", EGRESS_ALWAYS), ("ingress", INGRESS_ALWAYS)):
            lines += _chain(f"{direction}-{port.device}", port_chain_rules(port, direction, always))
    used = sorted({g for p in plan.ports for g in p.spec.security_group_ids})
    for group_id in used:
        lines += _group(plan.security_groups, group_id)
    return [*lines, "}"]


def port_chain_rules(port, direction, always):
    """A port's chain: the same few rules whatever the size of its groups."""
    jumps = [f"jump {group_chain(g, direction)}" for g in port.spec.security_group_ids]
    return [*always, "ct state invalid drop", *jumps, "drop"]


def group_chain(group_id, direction):
    return f"sg-{group_id}-{direction}"


def _group(groups, group_id):
    lines = []
    for direction in ("ingress", "egress"):
        rules = []
        addr_word = "saddr" if direction == "ingress" else "daddr"
        chain_boxes = group_boxes(groups, groups[group_id], direction)
        for version, family, icmp in ((4, "ip", "icmp"), (6, "ip6", "icmpv6")):
            for kind in SET_KINDS:
                name = f"{group_chain(group_id, direction)}-{kind}{version}"
                parts = [part.format(addr=f"{family} {addr_word}", icmp=icmp) for part in SET_TYPES[kind]]
                key = " . ".join(parts)
                declaration = "type ipv4_addr" if version == 4 else "type ipv6_addr"
                if kind != "any":
                    declaration = f"typeof {key}"
                elements = [_element(box, version) for box in boxes.disjoint(chain_boxes[(version, kind)])]
                lines += _set(name, declaration, elements, interval=True)
                rules.append(f"{key} @{name} accept")
        lines += _chain(group_chain(group_id, direction), rules)
    return lines


def _element(box, version):
    address, *rest = box
    return " . ".join([boxes.format_address_interval(address, version), *map(boxes.format_interval, rest)])
