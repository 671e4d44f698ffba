"""Contained networking for tests: namespaces standing in for hosts, guests and the public network.

Everything a lab makes is named with its prefix (``cmt`` and 6 hex digits): host
namespaces, the agent's own namespaces (they carry the host namespace's name) and
the fake driver's guest namespaces. ``cleanup`` kills the lab's dnsmasq processes
and deletes every namespace with the prefix, even after a failure. Bridges have no
uplink but the lab's own veths; nothing touches the machine's interfaces.
"""

import os
import secrets
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

from agent import network_protocol as net
from agent.drivers.fake_nics import instance_namespace
from agent.network import commands
from agent.network.commands import Netns
from agent.network.dhcp import slaac_address

UDHCPC_SCRIPT = """#!/bin/sh
case "$1" in bound|renew)
  ip addr flush dev $interface
  ip addr add $ip/$mask dev $interface
  set -- $staticroutes
  while [ -n "$1" ]; do
    if [ "$2" = 0.0.0.0 ]; then ip route replace $1 dev $interface; else ip route replace $1 via $2; fi
    shift 2
  done
  echo "LEASE ip=$ip router=$router mtu=$mtu staticroutes=$(echo $staticroutes | tr ' ' ,) serverid=$serverid"
esac
"""


class Lab:
    def __init__(self):
        self.prefix = "cmt" + secrets.token_hex(3)
        self.dir = Path(f"/tmp/cloudmgr-{self.prefix}")
        self.dir.mkdir(mode=0o711)
        self.dir.chmod(0o711)
        self.script = self.dir / "udhcpc.script"
        self.script.write_text(UDHCPC_SCRIPT)
        self.script.chmod(0o755)
        self._processes = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        """Everything the lab made goes, even when what ran in it failed."""
        self.cleanup()

    def host(self, name):
        ns = Netns(f"{self.prefix}{name}")
        ns.create()
        return ns

    def data_dir(self, name):
        path = self.dir / name
        path.mkdir(mode=0o711, exist_ok=True)
        return path

    def wire(self, ns_a, name_a, ns_b, name_b):
        """A veth between two namespaces (a trunk between hosts, a public uplink), both ends up."""
        ns_a.ip("link", "add", name_a, "type", "veth", "peer", "name", name_b, "netns", ns_b.name)
        ns_a.ip("link", "set", "dev", name_a, "up")
        ns_b.ip("link", "set", "dev", name_b, "up")

    def guest(self, host, instance_id):
        return Netns(instance_namespace(host.name, instance_id))

    def background(self, ns, code):
        """A Python program running in a namespace until cleanup."""
        process = subprocess.Popen(
            ns.command([sys.executable, "-c", textwrap.dedent(code)]),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._processes.append(process)
        return process

    def cleanup(self):
        for process in self._processes:
            process.kill()
            process.wait()
        for pid in pids_mentioning(str(self.dir)):
            os.kill(pid, signal.SIGKILL)
        for name in commands.namespaces():
            if name.startswith(self.prefix):
                Netns(name).delete()
        shutil.rmtree(self.dir, ignore_errors=True)


def pids_mentioning(text):
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if text in (proc / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(proc.name))
            except OSError:
                continue
    return [pid for pid in found if pid != os.getpid()]


# --- traffic ---------------------------------------------------------------------------------------


def ping(ns, address, timeout=1):
    family = ["-6"] if ":" in address else []
    done = subprocess.run(
        ns.command(["busybox", "ping", *family, "-c", "1", "-W", str(timeout), address]), capture_output=True
    )
    return done.returncode == 0


def python_in(ns, code, timeout=15):
    done = subprocess.run(
        ns.command([sys.executable, "-c", textwrap.dedent(code)]),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done.stdout.strip()


def tcp_connects(ns, address, port, timeout=1.0):
    return python_in(
        ns,
        f"""
        import socket
        try:
            socket.create_connection(({address!r}, {port}), timeout={timeout}).close()
            print("yes")
        except OSError as exc:
            print("no", exc)
    """,
    ).startswith("yes")


def tcp_server(lab, ns, port):
    process = lab.background(
        ns,
        f"""
        import socket
        server = socket.create_server(("", {port}), family=socket.AF_INET6, dualstack_ipv6=True)
        print("listening", flush=True)
        while True:
            conn, _ = server.accept()
            conn.close()
    """,
    )
    assert process.stdout.readline().strip() == "listening"
    return process


def dhcp_lease(lab, ns, device="eth0", tries=5):
    """What busybox udhcpc got (and configured) on a guest NIC: {"ip":..., "router":..., ...}, or {}."""
    done = subprocess.run(
        ns.command(
            [
                "busybox",
                "udhcpc",
                "-i",
                device,
                "-s",
                str(lab.script),
                "-n",
                "-q",
                "-t",
                str(tries),
                "-T",
                "1",
                "-A",
                "1",
                "-O",
                "staticroutes",
                "-O",
                "mtu",
            ]
        ),
        capture_output=True,
        text=True,
        timeout=30,
    )
    for line in done.stdout.splitlines():
        if line.startswith("LEASE "):
            return dict(item.split("=", 1) for item in line.removeprefix("LEASE ").split(" ") if "=" in item)
    return {}


def configure(ns, device, cidr, gateway=None):
    """Give a guest its address by hand (a flat network, or after checking DHCP elsewhere)."""
    ns.ip("addr", "replace", cidr, "dev", device)
    if gateway:
        ns.ip("route", "replace", "default", "via", gateway)


def wait_for(predicate, timeout=10.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


# --- desired states --------------------------------------------------------------------------------


def new_id():
    return str(uuid.uuid4())


def mac_for(index):
    return f"52:54:00:{(index >> 16) & 0xFF:02x}:{(index >> 8) & 0xFF:02x}:{index & 0xFF:02x}"


class StateBuilder:
    """Desired states written the way the controller would, with DHCP entries and members filled in."""

    def __init__(self):
        self.networks, self.ports, self.groups, self.routers = {}, [], {}, []
        self._macs = 0x10

    def next_mac(self):
        self._macs += 1
        return mac_for(self._macs)

    def network(
        self,
        cidr="10.0.0.0/24",
        *,
        type="flat_dhcp",
        vlan_id=None,
        physical_network="physnet1",
        dhcp=True,
        ipv6=None,
        gateway=True,
        mtu=1500,
    ):
        network_id, v4 = new_id(), new_id()
        base = cidr.rsplit(".", 1)[0]
        subnets = [net.Subnet(v4, cidr, 4, f"{base}.1" if gateway else None, [f"{base}.1"])]
        if ipv6:
            subnets.append(net.Subnet(new_id(), ipv6, 6, None, [], True, "slaac"))
        server = net.DhcpServer(new_id(), self.next_mac(), [net.FixedIp(v4, f"{base}.2")]) if dhcp else None
        self.networks[network_id] = net.NetworkSpec(
            network_id, type, physical_network, mtu, vlan_id, subnets, server
        )
        return network_id

    def group(self, *rules, name="test"):
        group_id = new_id()
        self.groups[group_id] = [name, list(rules)]
        return group_id

    def allow(
        self,
        group_id,
        direction="ingress",
        protocol="any",
        ports=None,
        remote=None,
        remote_group=None,
        ethertype="IPv4",
        icmp_type=None,
    ):
        low, high = ports if ports else (None, None)
        rule = net.SecurityGroupRule(
            new_id(), direction, ethertype, protocol, low, high, icmp_type, None, remote, remote_group
        )
        self.groups[group_id][1].append(rule)

    def port(self, network_id, ip, groups=(), instance_id=None, ipv6=None):
        spec = self.networks[network_id]
        port_id = new_id()
        fixed = [net.FixedIp(spec.subnets[0].subnet_id, ip)]
        mac = self.next_mac()
        if ipv6:
            fixed.append(net.FixedIp(spec.subnets[1].subnet_id, slaac_address(spec.subnets[1].cidr, mac)))
        port = net.Port(
            port_id,
            instance_id or new_id(),
            network_id,
            mac,
            "tap" + port_id.replace("-", "")[:11],
            fixed,
            list(groups),
        )
        self.ports.append(port)
        return port

    def router(self, router):
        self.routers.append(router)

    def state(self, host, generation=1, ports=None):
        ports = self.ports if ports is None else ports
        members = {
            g: [f.ip_address for p in self.ports if g in p.security_group_ids for f in p.fixed_ips]
            for g in self.groups
        }
        groups = [net.SecurityGroup(g, name, rules, members[g]) for g, (name, rules) in self.groups.items()]
        networks = []
        for spec in self.networks.values():
            hosts = [
                net.DhcpHost(p.mac, p.fixed_ips[0].ip_address, f"host-{p.port_id[:8]}")
                for p in ports
                if p.network_id == spec.network_id
            ]
            networks.append(
                net.NetworkSpec(**{**spec.__dict__, "dhcp_hosts": hosts if spec.dhcp_server else []})
            )
        state = net.NetworkState(1, host, generation, networks, list(ports), groups, list(self.routers))
        return net.NetworkState.from_dict(state.to_dict())
