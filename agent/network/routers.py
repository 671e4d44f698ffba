"""Project routers on a network node: a namespace per router, SNAT out, DNAT for floating IPs.

``cm-router-<id>`` holds one ``qr-`` leg per internal network (the subnet's gateway
addresses, on that network's bridge) and a ``qg-`` leg on the public network's
bridge with the external address and every floating IP (/32, so the router answers
ARP for them). Its table ``ip cloudmgr_nat`` maps floating -> fixed (DNAT) and
fixed -> floating (SNAT) through two maps, then SNATs everything else leaving by
``qg-`` to the external address when SNAT is on.
"""

import ipaddress

from ..network_protocol import FloatingIp, ObservedRouter
from . import links, names
from .commands import Netns
from .nftables import OwnedTables, table_listing


def render_nat(router):
    lines = [f"table ip {names.NAT_TABLE}", f"delete table ip {names.NAT_TABLE}"]
    gateway = router.external_gateway
    if gateway is None:
        return "\n".join(lines) + "\n"
    qg = names.router_external_device(gateway.port_id)
    external = str(ipaddress.ip_interface(gateway.ip_address).ip)
    dnat = ", ".join(f"{f.floating_ip} : {f.fixed_ip}" for f in router.floating_ips)
    snat = ", ".join(f"{f.fixed_ip} : {f.floating_ip}" for f in router.floating_ips)
    lines += [
        f"table ip {names.NAT_TABLE} {{",
        "\tmap floating_to_fixed {",
        "\t\ttype ipv4_addr : ipv4_addr",
        *([f"\t\telements = {{ {dnat} }}"] if dnat else []),
        "\t}",
        "\tmap fixed_to_floating {",
        "\t\ttype ipv4_addr : ipv4_addr",
        *([f"\t\telements = {{ {snat} }}"] if snat else []),
        "\t}",
        "\tchain prerouting {",
        "\t\ttype nat hook prerouting priority dstnat; policy accept;",
        "\t\tdnat to ip daddr map @floating_to_fixed",
        "\t}",
        "\tchain postrouting {",
        "\t\ttype nat hook postrouting priority srcnat; policy accept;",
        f'\t\toifname "{qg}" snat to ip saddr map @fixed_to_floating',
        *([f'\t\toifname "{qg}" snat to {external}'] if gateway.snat else []),
        "\t}",
        "}",
    ]
    return "\n".join(lines) + "\n"


class Routers:
    def __init__(self, namespaces):
        self.namespaces = namespaces
        self._tables = {}

    def _tables_of(self, router_id, ns):
        if router_id not in self._tables:
            self._tables[router_id] = OwnedTables(ns, [("ip", names.NAT_TABLE)], f"router {router_id}: ")
        return self._tables[router_id]

    def converge(self, drift, devices, plan):
        for router in plan.routers:
            self._router(drift, devices, plan, router)
        wanted = {r.router_id for r in plan.routers}
        for router_id in [r for r in self._tables if r not in wanted]:
            del self._tables[router_id]

    def _router(self, drift, devices, plan, router):
        ns = Netns(self.namespaces.router(router.router_id))
        if not links.ensure_namespace(drift, ns):
            return
        ns.sysctl("net.ipv4.ip_forward", 1)
        for leg in router.interfaces:
            self._leg(
                drift,
                devices,
                ns,
                plan.networks[leg.network_id],
                leg,
                names.router_internal_device(leg.port_id),
                leg.ip_addresses,
            )
        gateway = router.external_gateway
        if gateway is not None:
            qg = names.router_external_device(gateway.port_id)
            addresses = [gateway.ip_address, *(f"{f.floating_ip}/32" for f in router.floating_ips)]
            self._leg(drift, devices, ns, plan.networks[gateway.network_id], gateway, qg, addresses)
            default = [
                r for r in ns.ip_json("route", "show", "default") if r.get("gateway") == gateway.gateway_ip
            ]
            if gateway.gateway_ip and not default:
                drift.found(
                    "router",
                    router.router_id,
                    "missing",
                    f"default route via {gateway.gateway_ip}",
                    lambda: ns.ip("route", "replace", "default", "via", gateway.gateway_ip, "dev", qg),
                )
        self._tables_of(router.router_id, ns).converge(drift, render_nat(router))

    @staticmethod
    def _leg(drift, devices, ns, network, leg, inside_name, addresses):
        veth = names.router_veth(leg.port_id)
        links.ensure_leg(
            drift, devices, "router", network, veth, ns, inside_name, mac=leg.mac, addresses=addresses
        )

    def observe(self, plan):
        found = []
        for router in plan.routers:
            ns = Netns(self.namespaces.router(router.router_id))
            if not ns.exists():
                continue
            addresses = sorted(
                a
                for link in ns.ip_json("addr", "show")
                if link["ifname"] != "lo"
                for a in (f"{i['local']}/{i['prefixlen']}" for i in link.get("addr_info", []))
                if not ipaddress.ip_interface(a).is_link_local
            )
            listing = table_listing(ns, "ip", names.NAT_TABLE) or ""
            found.append(
                ObservedRouter(
                    router_id=router.router_id,
                    addresses=addresses,
                    floating_ips=_dnat_pairs(listing),
                    snat="snat to " in listing.split("map @fixed_to_floating")[-1],
                )
            )
        return found


def _dnat_pairs(listing):
    """The floating -> fixed pairs in a listed NAT table's dnat map."""
    section = (
        listing.split("map floating_to_fixed", 1)[-1].split("}", 1)[0]
        if "map floating_to_fixed" in listing
        else ""
    )
    body = section.split("elements = {", 1)[-1] if "elements" in section else ""
    pairs = []
    for item in body.replace("\n", " ").split(","):
        floating, sep, fixed = item.partition(":")
        if sep:
            pairs.append(FloatingIp(floating_ip=floating.strip(), fixed_ip=fixed.strip()))
    return pairs
