"""One dnsmasq per network this host serves DHCP for, in the network's own namespace.

dnsmasq serves exactly the controller's reservations (a ``static`` range: unknown
MACs get nothing), pushes the gateway, DNS servers, the MTU and an on-link route
to the metadata address, and sends IPv6 router advertisements for SLAAC subnets
(prefix only: router lifetime 0, dnsmasq is not a router). A change to the
reservations rewrites the hosts file and sends SIGHUP (a reload keeps the leases
and the process); a change to the configuration restarts it. dnsmasq drops to
``nobody`` and re-reads the hosts file as that user, so its directory is 0711 and
its files 0644.
"""

import ipaddress
import logging
import os
import signal
import time
from pathlib import Path

from ..network_protocol import DhcpHost, ObservedDhcpServer
from . import links, names
from .commands import Netns
from .plan import link_local_address

log = logging.getLogger(__name__)

LEASE_SECONDS = 86400
RA_INTERVAL_SECONDS = 30
STOP_WAIT_SECONDS = 3
DIR_MODE, FILE_MODE = 0o711, 0o644


def slaac_address(prefix, mac):
    """The EUI-64 address a MAC gets in a /64 (what SLAAC gives a guest)."""
    interface_id = int(ipaddress.IPv6Address(link_local_address(mac))) & ((1 << 64) - 1)
    return str(ipaddress.IPv6Address(int(ipaddress.IPv6Network(prefix).network_address) | interface_id))


def server_addresses(network):
    """The DHCP port's addresses with their prefix length."""
    server = network.spec.dhcp_server
    found = []
    for subnet in network.spec.subnets:
        fixed = [f.ip_address for f in server.fixed_ips if f.subnet_id == subnet.subnet_id]
        if not fixed and subnet.ip_version == 6:
            fixed = [slaac_address(subnet.cidr, server.mac)]
        found += [f"{address}/{subnet.network.prefixlen}" for address in fixed]
    return found


def render_conf(network, paths):
    spec = network.spec
    lines = [
        f"# cloudmgr: DHCP for network {spec.network_id}",
        "port=0",
        f"interface={names.DHCP_DEVICE}",
        "bind-interfaces",
        "except-interface=lo",
        "no-resolv",
        "no-hosts",
        "dhcp-authoritative",
        "log-dhcp",
        f"log-facility={paths['log']}",
        f"pid-file={paths['pid']}",
        f"dhcp-leasefile={paths['leases']}",
        f"dhcp-hostsfile={paths['hosts']}",
    ]
    v4 = spec.subnet(4)
    if v4 is not None and v4.dhcp_enabled:
        net = v4.network
        lines.append(f"dhcp-range=set:v4,{net.network_address},static,{net.netmask},{LEASE_SECONDS}s")
        lines.append(f"dhcp-option=tag:v4,option:router{',' + v4.gateway_ip if v4.gateway_ip else ''}")
        dns = [ns for ns in v4.dns_nameservers if ipaddress.ip_address(ns).version == 4]
        lines.append(f"dhcp-option=tag:v4,option:dns-server{''.join(',' + ns for ns in dns)}")
        lines.append(f"dhcp-option-force=tag:v4,option:mtu,{network.mtu}")
        # Classless routes replace the router option in the client: the default route goes in too.
        routes = [f"{names.METADATA_ADDRESS}/32,0.0.0.0"]
        if v4.gateway_ip:
            routes.append(f"0.0.0.0/0,{v4.gateway_ip}")
        lines.append(f"dhcp-option-force=tag:v4,option:classless-static-route,{','.join(routes)}")
    v6 = spec.subnet(6)
    if v6 is not None:
        lines += [
            "enable-ra",
            f"dhcp-range=set:v6,{v6.network.network_address},ra-only,64,{LEASE_SECONDS}s",
            f"ra-param={names.DHCP_DEVICE},mtu:{network.mtu},{RA_INTERVAL_SECONDS},0",
        ]
        dns6 = [ns for ns in v6.dns_nameservers if ipaddress.ip_address(ns).version == 6]
        if dns6:
            lines.append("dhcp-option=tag:v6,option6:dns-server," + ",".join(f"[{ns}]" for ns in dns6))
    return "\n".join(lines) + "\n"


def render_hosts(spec):
    rows = sorted(spec.dhcp_hosts, key=lambda h: (ipaddress.ip_address(h.ip_address), h.mac))
    return "".join(f"{h.mac},{h.ip_address}{',' + h.hostname if h.hostname else ''}\n" for h in rows)


def parse_hosts(text):
    found = []
    for line in text.splitlines():
        parts = line.strip().split(",")
        if len(parts) >= 2:
            found.append(
                DhcpHost(mac=parts[0], ip_address=parts[1], hostname=parts[2] if len(parts) > 2 else "")
            )
    return found


def _process_alive(pid, conf_path):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z" and str(conf_path) in cmdline


class DhcpServers:
    def __init__(self, base_dir, namespaces):
        self.base_dir = Path(base_dir)
        self.namespaces = namespaces

    def paths(self, network_id):
        directory = self.base_dir / network_id
        return {
            "dir": directory,
            "conf": directory / "dnsmasq.conf",
            "hosts": directory / "hosts",
            "leases": directory / "leases",
            "pid": directory / "dnsmasq.pid",
            "log": directory / "dnsmasq.log",
        }

    def pid(self, network_id):
        """The running dnsmasq of a network, or None."""
        paths = self.paths(network_id)
        try:
            pid = int(paths["pid"].read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _process_alive(pid, paths["conf"]) else None

    def converge(self, drift, devices, plan):
        for network in plan.dhcp_networks():
            self._network(drift, devices, network)
        wanted = {n.network_id for n in plan.dhcp_networks()}
        for directory in sorted(self.base_dir.glob("*")) if self.base_dir.exists() else ():
            if directory.name not in wanted:
                drift.found(
                    "dhcp_server", directory.name, "unexpected", "", lambda d=directory: self.remove(d.name)
                )

    def _network(self, drift, devices, network):
        ns = Netns(self.namespaces.dhcp(network.network_id))
        host_end, address = names.dhcp_veth(network.network_id), server_addresses(network)
        leg = links.ensure_leg(
            drift,
            devices,
            "interface",
            network,
            host_end,
            ns,
            names.DHCP_DEVICE,
            mac=network.spec.dhcp_server.mac,
            addresses=address,
        )
        if leg is None:
            return
        self._files_and_process(drift, network, ns)

    def _files_and_process(self, drift, network, ns):
        paths = self.paths(network.network_id)
        conf, hosts = render_conf(network, paths), render_hosts(network.spec)
        name = network.network_id
        paths["dir"].mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        paths["dir"].chmod(DIR_MODE)
        conf_changed = _read(paths["conf"]) != conf
        if conf_changed:
            drift.found(
                "dhcp_server",
                name,
                "differs" if paths["conf"].exists() else "missing",
                "configuration",
                lambda: _write(paths["conf"], conf),
            )
        pid = self.pid(name)
        if _read(paths["hosts"]) != hosts:

            def rewrite():
                _write(paths["hosts"], hosts)
                if pid is not None and not conf_changed:
                    os.kill(pid, signal.SIGHUP)

            drift.found(
                "dhcp_hosts", name, "differs", _hosts_difference(paths["hosts"], network.spec), rewrite
            )
        if pid is None:
            drift.found(
                "dhcp_server", name, "missing", "dnsmasq is not running", lambda: self._start(ns, paths)
            )
        elif conf_changed and drift.repair:
            self._stop(pid)
            self._start(ns, paths)

    def _start(self, ns, paths):
        for key in ("leases", "log"):
            paths[key].touch(mode=FILE_MODE)
        ns.run("dnsmasq", f"--conf-file={paths['conf']}")

    @staticmethod
    def _stop(pid):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        while time.monotonic() < deadline and _process_alive(pid, ""):
            time.sleep(0.02)

    def remove(self, network_id):
        """Stop a network's dnsmasq and forget its files."""
        pid = self.pid(network_id)
        if pid is not None:
            self._stop(pid)
        directory = self.paths(network_id)["dir"]
        for path in directory.glob("*"):
            path.unlink(missing_ok=True)
        directory.rmdir()

    def supervise(self, drift, plan):
        """Start again every dnsmasq that should run and does not (killed, crashed)."""
        for network in plan.dhcp_networks():
            ns = Netns(self.namespaces.dhcp(network.network_id))
            paths = self.paths(network.network_id)
            if ns.exists() and paths["conf"].exists() and self.pid(network.network_id) is None:
                drift.found(
                    "dhcp_server",
                    network.network_id,
                    "missing",
                    "dnsmasq had stopped",
                    lambda n=ns, p=paths: self._start(n, p),
                )

    def observe(self, plan):
        found = []
        for network in plan.dhcp_networks():
            paths = self.paths(network.network_id)
            pid = self.pid(network.network_id)
            found.append(
                ObservedDhcpServer(
                    network_id=network.network_id,
                    running=pid is not None,
                    pid=pid or 0,
                    hosts=parse_hosts(_read(paths["hosts"]) or ""),
                )
            )
        return found


def _read(path):
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def _write(path, text):
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text)
    temp.chmod(FILE_MODE)
    os.replace(temp, path)


def _hosts_difference(path, spec):
    present = {(h.mac, h.ip_address) for h in parse_hosts(_read(path) or "")}
    wanted = {(h.mac, h.ip_address) for h in spec.dhcp_hosts}
    parts = [f"missing {mac} {ip}" for mac, ip in sorted(wanted - present)]
    parts += [f"unexpected {mac} {ip}" for mac, ip in sorted(present - wanted)]
    return "; ".join(parts)[:400]
