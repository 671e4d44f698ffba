"""Devices in the host's namespace: bridges, uplinks, veth pairs, guest taps.

Each ``ensure_*`` compares one device with what the plan wants and records drift
(repairing when asked). Only devices cloudmgr names (names.DEVICE_PREFIXES), guest
taps of the desired ports, and the interfaces named in the agent's configuration are
ever changed; a physical interface that carries addresses or belongs to another
bridge is refused, never taken: a flat network never disturbs the host's own
connectivity.
"""

import ipaddress

from . import names, vlan_tagger
from .netns_thread import call_in


def is_up(link):
    return "UP" in link.get("flags", ())


def kind_of(link):
    return link.get("linkinfo", {}).get("info_kind") or "physical"


class Devices:
    """The devices of one namespace, read once and re-read after changes."""

    def __init__(self, netns):
        self.netns = netns
        self.links = netns.links()

    def refresh(self):
        self.links = self.netns.links()

    def get(self, name):
        return self.links.get(name)

    def ifindex(self, name):
        return self.links[name]["ifindex"]


def _set(netns, name, *args):
    return lambda: netns.ip("link", "set", "dev", name, *args)


def ensure_state(drift, devices, kind, name, *, mtu=None, master=None, mac=None):
    """Master, MTU, MAC and up of an existing device."""
    link = devices.get(name)
    ns = devices.netns
    if master is not None and link.get("master") != master:
        drift.found(
            kind,
            name,
            "differs",
            f"master {link.get('master')} instead of {master}",
            _set(ns, name, "master", master),
        )
    if mac is not None and link.get("address") != mac:
        drift.found(
            kind,
            name,
            "differs",
            f"MAC {link.get('address')} instead of {mac}",
            _set(ns, name, "address", mac),
        )
    if mtu is not None and link.get("mtu") != mtu:
        drift.found(
            kind, name, "differs", f"MTU {link.get('mtu')} instead of {mtu}", _set(ns, name, "mtu", str(mtu))
        )
    if not is_up(link):
        drift.found(kind, name, "differs", "down", _set(ns, name, "up"))


def ensure_bridge(drift, devices, name, mtu):
    ns = devices.netns

    def create():
        ns.ip("link", "add", name, "mtu", str(mtu), "type", "bridge", "stp_state", "0", "mcast_snooping", "0")
        ns.ip("link", "set", "dev", name, "addrgenmode", "none", "up")

    link = devices.get(name)
    if link is None:
        drift.found("bridge", name, "missing", "", create)
    elif kind_of(link) != "bridge":
        drift.refused("bridge", name, f"a {kind_of(link)} device already has the name")
    else:
        ensure_state(drift, devices, "bridge", name, mtu=mtu)


def ensure_veth(drift, devices, kind, host_end, *, mtu, master, peer_ns=None, peer_name=None):
    """A veth pair: ``host_end`` here (a port of ``master``), its peer in ``peer_ns`` (or here)."""
    ns = devices.netns

    def create():
        ns.ip("link", "del", host_end, check=False)
        if peer_ns is not None:
            peer_ns.ip("link", "del", peer_name, check=False)
        where = ("netns", peer_ns.name) if peer_ns is not None and peer_ns.name else ()
        ns.ip("link", "add", host_end, "mtu", str(mtu), "type", "veth", "peer", "name", peer_name, *where)
        ns.ip("link", "set", "dev", host_end, "addrgenmode", "none")
        if master:
            ns.ip("link", "set", "dev", host_end, "master", master)
        ns.ip("link", "set", "dev", host_end, "up")

    link = devices.get(host_end)
    if link is None or (peer_ns is not None and peer_ns.ip("link", "show", peer_name, check=False) == ""):
        drift.found(kind, host_end, "missing", "", create)
    else:
        ensure_state(drift, devices, kind, host_end, mtu=mtu, master=master)


def ensure_namespace(drift, netns):
    """A namespace of cloudmgr's (DHCP, metadata, router); False when it could not be made."""
    if not netns.exists():
        drift.found("namespace", netns.name, "missing", "", netns.create)
    return netns.exists()


def ensure_leg(drift, devices, kind, network, host_end, netns, inside, *, mac, addresses):
    """A namespace's leg on a network's bridge: the veth, the inside end's MAC, MTU and addresses.

    The namespace is made first when missing; None when the leg could not be made.
    """
    if not ensure_namespace(drift, netns):
        return None
    ensure_veth(
        drift,
        devices,
        kind,
        host_end,
        mtu=network.mtu,
        master=network.bridge,
        peer_ns=netns,
        peer_name=inside,
    )
    inner = Devices(netns)
    if inner.get(inside) is None:
        return None
    ensure_state(drift, inner, kind, inside, mtu=network.mtu, mac=mac)
    ensure_addresses(drift, netns, inside, addresses)
    return inner


def ensure_addresses(drift, netns, device, wanted):
    """Exactly the ``wanted`` "address/prefix" on a device (IPv6 link-local ones left alone)."""
    present = set(netns.addresses(device))
    wanted = set(wanted)
    for address in sorted(wanted - present):
        drift.found(
            "interface",
            f"{netns.name}:{device}",
            "missing",
            address,
            lambda a=address: netns.ip("addr", "add", a, "dev", device),
        )
    for address in sorted(present - wanted):
        if ipaddress.ip_interface(address).is_link_local:
            continue
        drift.found(
            "interface",
            f"{netns.name}:{device}",
            "unexpected",
            address,
            lambda a=address: netns.ip("addr", "del", a, "dev", device),
        )


def ensure_physical_uplink(drift, devices, network):
    """Put the physical interface named for a flat network's physical network on its bridge."""
    name = network.uplink
    link = devices.get(name)
    if link is None:
        drift.refused(
            "uplink", name, f"the interface for physical network {network.spec.physical_network} is absent"
        )
        return
    master = link.get("master")
    if master == network.bridge:
        ensure_state(drift, devices, "uplink", name)
        return
    if master is not None:
        drift.refused("uplink", name, f"already a port of {master}: not taken")
        return
    carried = [a for a in devices.netns.addresses(name) if not ipaddress.ip_interface(a).is_link_local]
    if carried:
        drift.refused("uplink", name, f"carries the host's addresses {carried}: a flat network moves none")
        return
    drift.found(
        "uplink",
        name,
        "differs",
        f"not a port of {network.bridge}",
        _set(devices.netns, name, "master", network.bridge),
    )
    ensure_state(drift, devices, "uplink", name)


def ensure_vlan_uplink(drift, devices, network):
    """The veth pair cmv-/cmq-<vid> and the two taggers that join it to the trunk (vlan_tagger.py)."""
    vlan_id, trunk = network.spec.vlan_id, network.trunk
    access = names.VLAN_ACCESS_PREFIX + str(vlan_id)
    if trunk is None or devices.get(trunk) is None:
        drift.refused(
            "vlan_interface", network.uplink or f"vlan {vlan_id}", f"the trunk interface {trunk!r} is absent"
        )
        return
    if not is_up(devices.get(trunk)):
        drift.found("uplink", trunk, "differs", "down", _set(devices.netns, trunk, "up"))
    ensure_veth(
        drift,
        devices,
        "vlan_interface",
        network.uplink,
        mtu=network.mtu,
        master=network.bridge,
        peer_name=access,
    )
    devices.refresh()
    if devices.get(access) is None:
        return
    ensure_state(drift, devices, "vlan_interface", access, mtu=network.mtu)
    trunk_index, access_index = devices.ifindex(trunk), devices.ifindex(access)
    wanted = {
        access: (
            access_index,
            vlan_tagger.push_name(vlan_id, trunk_index),
            vlan_tagger.push_program(vlan_id, trunk_index),
        ),
        trunk: (
            trunk_index,
            vlan_tagger.pop_name(vlan_id, access_index),
            vlan_tagger.pop_program(vlan_id, access_index),
        ),
    }
    for device, (ifindex, name, program) in wanted.items():
        attached = call_in(devices.netns.name, lambda i=ifindex: vlan_tagger.taggers(i))
        prefix = name.split("_")[0] + "_"
        for stale, program_id in attached.items():
            if stale.startswith(prefix) and stale != name:
                drift.found(
                    "vlan_interface",
                    f"{device}:{stale}",
                    "unexpected",
                    "",
                    lambda i=ifindex, p=program_id: call_in(
                        devices.netns.name, lambda: vlan_tagger.detach(i, p)
                    ),
                )
        if name not in attached:
            drift.found(
                "vlan_interface",
                f"{device}:{name}",
                "missing",
                "802.1Q tagger",
                lambda i=ifindex, n=name, p=program: call_in(
                    devices.netns.name, lambda: vlan_tagger.attach(i, n, p)
                ),
            )
