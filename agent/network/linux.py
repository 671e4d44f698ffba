"""The Linux network driver: bridges, VLAN taggers, taps, dnsmasq, routers, nftables, metadata.

All of it happens in the host's network namespace (``network_namespace``, "" for
the agent's own) and in namespaces named after it. One ``converge`` checks, in an
order that never leaves a guest unfiltered: taps of ports no longer wanted leave
their bridge first, then the filter tables are replaced, then bridges, uplinks and
taps, DHCP, metadata and routers, and last whatever cloudmgr made that is no longer
wanted (its own device names and namespaces only).
"""

import logging
from pathlib import Path

from .. import protocol
from ..errors import AgentError
from ..network_protocol import ObservedDevice, ObservedNetworkState
from ..protocol import is_tap_name
from . import commands, links, names, nft_filter, vlan_tagger
from .base import NetworkDriver
from .commands import Netns
from .dhcp import DhcpServers
from .drift import Drift
from .metadata import MetadataService
from .netns_thread import call_in
from .nftables import OwnedTables
from .plan import HostPlan
from .routers import Routers

log = logging.getLogger(__name__)

BRIDGE_NETFILTER = ("net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables")


class LinuxNetworkDriver(NetworkDriver):
    def __init__(self, config, data_dir, lookup, fetch_metadata):
        self.config = config
        self.host = Netns(config.namespace)
        self.namespaces = names.Namespaces(config.namespace)
        self.filters = OwnedTables(
            self.host, [("bridge", names.FILTER_TABLE), ("inet", names.FILTER_TABLE)], ""
        )
        self.dhcp = DhcpServers(Path(data_dir) / "network" / "dhcp", self.namespaces)
        self.metadata = MetadataService(self.namespaces, lookup, fetch_metadata)
        self.routers = Routers(self.namespaces)

    def plan(self, state):
        if not self.host.exists():
            raise AgentError(
                protocol.ERR_NETWORK, f"the host network namespace {self.config.namespace!r} does not exist"
            )
        devices = links.Devices(self.host)
        mtus = {
            name: devices.get(name)["mtu"] for name in self.config.named_interfaces() if devices.get(name)
        }
        zones = self._bridge_zones()
        existing = {
            n.network_id: zones[names.bridge(n.network_id)]
            for n in state.networks
            if names.bridge(n.network_id) in zones
        }
        return HostPlan(state, self.config, mtus, existing), devices

    def _bridge_zones(self):
        """The conntrack zone of each bridge in the kernel's table (kept: connections live in them)."""
        listing = self.filters.listings().get(("inet", names.FILTER_TABLE)) or ""
        section = listing.split("map zones", 1)[-1].split("}", 1)[0] if "map zones" in listing else ""
        zones = {}
        for item in section.split("elements = {", 1)[-1].replace("\n", " ").split(","):
            bridge, sep, zone = item.partition(":")
            if sep and zone.strip().isdigit():
                zones[bridge.strip().strip('"')] = int(zone)
        return zones

    def converge(self, state, repair):
        plan, devices = self.plan(state)
        drift = Drift(repair)
        self._unplug_stale_taps(drift, devices, plan)
        if plan.networks:
            for key in BRIDGE_NETFILTER:
                self.host.sysctl(key, 1)
        self.filters.converge(drift, nft_filter.render(plan))
        for network in plan.networks.values():
            self._network(drift, devices, network)
        devices.refresh()
        for port in plan.ports:
            if devices.get(port.device) is not None:
                links.ensure_state(
                    drift, devices, "tap", port.device, mtu=port.network.mtu, master=port.network.bridge
                )
        self.dhcp.converge(drift, devices, plan)
        self.metadata.converge(drift, devices, plan)
        self.routers.converge(drift, devices, plan)
        self._remove_stale(drift, plan)
        return drift, plan

    def _network(self, drift, devices, network):
        links.ensure_bridge(drift, devices, network.bridge, network.mtu)
        devices.refresh()
        if network.uplink is None:
            return
        if network.spec.type == "vlan":
            links.ensure_vlan_uplink(drift, devices, network)
        else:
            links.ensure_physical_uplink(drift, devices, network)

    def _unplug_stale_taps(self, drift, devices, plan):
        """Guest taps on cloudmgr's bridges that no desired port owns: off the bridge before the rules go."""
        wanted = {p.device: p.network.bridge for p in plan.ports}
        for name, link in devices.links.items():
            master = link.get("master") or ""
            if not master.startswith(names.BRIDGE_PREFIX) or name.startswith(names.DEVICE_PREFIXES):
                continue
            if wanted.get(name) == master or name in self.config.named_interfaces():
                continue
            if is_tap_name(name):
                drift.found(
                    "tap",
                    name,
                    "unexpected",
                    f"on {master}",
                    lambda n=name: self.host.ip("link", "set", "dev", n, "nomaster"),
                )
            else:
                drift.refused("tap", name, f"on {master}, not cloudmgr's: left alone")

    def _remove_stale(self, drift, plan):
        devices = links.Devices(self.host)
        wanted = self._wanted_devices(plan)
        ordered = sorted(devices.links, key=lambda n: n.startswith(names.BRIDGE_PREFIX))
        for name in ordered:
            if (
                name.startswith(names.DEVICE_PREFIXES)
                and name not in wanted
                and devices.get(name) is not None
            ):
                drift.found(
                    "interface",
                    name,
                    "unexpected",
                    "",
                    lambda n=name: self.host.ip("link", "del", n, check=False),
                )
        self._remove_stale_taggers(drift, devices, plan)
        wanted_ns = {self.namespaces.dhcp(n.network_id) for n in plan.dhcp_networks()}
        wanted_ns |= {self.namespaces.metadata(n.network_id) for n in plan.metadata_networks()}
        wanted_ns |= {self.namespaces.router(r.router_id) for r in plan.routers}
        for name in commands.namespaces():
            parsed = self.namespaces.parse(name)
            if parsed is not None and name not in wanted_ns:
                drift.found(
                    "namespace",
                    name,
                    "unexpected",
                    "",
                    lambda n=name, p=parsed: self._remove_namespace(n, *p),
                )

    def _remove_namespace(self, name, kind, object_id):
        if kind == "meta":
            self.metadata.close(object_id)
        Netns(name).delete()

    def _remove_stale_taggers(self, drift, devices, plan):
        trunk = self.config.trunk_interface
        if not trunk or devices.get(trunk) is None:
            return
        vlans = {n.spec.vlan_id for n in plan.networks.values() if n.spec.type == "vlan"}
        index = devices.ifindex(trunk)
        for name, program_id in call_in(self.host.name, lambda: vlan_tagger.taggers(index)).items():
            if vlan_tagger.vlan_of(name) not in vlans:
                drift.found(
                    "vlan_interface",
                    f"{trunk}:{name}",
                    "unexpected",
                    "",
                    lambda p=program_id: call_in(self.host.name, lambda: vlan_tagger.detach(index, p)),
                )

    @staticmethod
    def _wanted_devices(plan):
        wanted = set()
        for network in plan.networks.values():
            wanted.add(network.bridge)
            if network.spec.type == "vlan" and network.uplink:
                wanted |= {network.uplink, names.VLAN_ACCESS_PREFIX + str(network.spec.vlan_id)}
        wanted |= {names.dhcp_veth(n.network_id) for n in plan.dhcp_networks()}
        wanted |= {names.metadata_veth(n.network_id) for n in plan.metadata_networks()}
        for router in plan.routers:
            legs = [*router.interfaces, *([router.external_gateway] if router.external_gateway else [])]
            wanted |= {names.router_veth(leg.port_id) for leg in legs}
        return wanted

    def supervise(self, plan):
        drift = Drift(repair=True)
        if plan is not None:
            self.dhcp.supervise(drift, plan)
        return drift.items

    def observe(self, plan):
        devices = links.Devices(self.host)
        interesting = set(self.config.named_interfaces())
        if plan is not None:
            interesting |= {p.device for p in plan.ports}
        observed = [
            ObservedDevice(
                name=name,
                kind=links.kind_of(link),
                up=links.is_up(link),
                mtu=link.get("mtu", 0),
                master=link.get("master"),
                parent=link.get("link"),
            )
            for name, link in sorted(devices.links.items())
            if name.startswith(names.DEVICE_PREFIXES) or name in interesting
        ]
        tables = self.filters.observe()
        for router in plan.routers if plan is not None else ():
            tables += self.routers._tables_of(
                router.router_id, Netns(self.namespaces.router(router.router_id))
            ).observe()
        return ObservedNetworkState(
            devices=observed,
            namespaces=[n for n in commands.namespaces() if self.namespaces.parse(n) is not None],
            dhcp_servers=self.dhcp.observe(plan) if plan is not None else [],
            tables=tables,
            routers=self.routers.observe(plan) if plan is not None else [],
            metadata_networks=self.metadata.serving(),
        )

    def nic_binding(self, plan, port_id):
        port = next((p for p in plan.ports if p.spec.port_id == port_id), None) if plan is not None else None
        if port is None:
            raise AgentError(
                protocol.ERR_PORT_NOT_READY, f"port {port_id} is not in this host's network state"
            )
        return port.network.bridge, port.network.mtu

    def close(self):
        self.metadata.close_all()
