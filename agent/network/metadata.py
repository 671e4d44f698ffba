"""The metadata service at 169.254.169.254, answered on each host for that host's own guests.

Per network with guests here: a namespace ``cm-meta-<network>`` whose veth sits on
the network's bridge with 169.254.169.254/32, a route to the subnet and permanent
neighbour entries for the guests (it never asks ARP). Guests reach it on-link (the
DHCP route) or through their gateway: the bridge table rewrites the destination MAC
of their requests to this port, and lets nothing else talk to it.

The HTTP listener is a socket the agent opens inside that namespace (no process
runs there). A request's source address, on that network, names the port (the
anti-spoofing rules make it proof), hence the instance; the agent then asks the
controller for that instance's metadata with a request signed by the host's key,
naming the instance in the signed path. The guest never sees the key, and it is
answered only with its own data.
"""

import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .. import instance_metadata
from ..controller_client import ControllerError
from ..protocol import ProtocolError
from . import links, names
from .commands import Netns
from .netns_thread import call_in

log = logging.getLogger(__name__)

HTTP_PORT = 80
MAX_PATH = 1024


class MetadataServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, sock, network_id, service):
        super().__init__((names.METADATA_ADDRESS, HTTP_PORT), MetadataHandler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.network_id = network_id
        self.service = service


class MetadataHandler(BaseHTTPRequestHandler):
    server_version = "cloudmgr-metadata"
    sys_version = ""

    def log_message(self, fmt, *args):
        log.debug("metadata %s: " + fmt, self.client_address[0], *args)

    def do_GET(self):
        status, content_type, body = self.server.service.respond(
            self.server.network_id, self.client_address[0], self.path[:MAX_PATH]
        )
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _listen(address):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address, HTTP_PORT))
    sock.listen(64)
    return sock


class MetadataService:
    """Metadata namespaces and their listeners; ``lookup(network_id, address)`` -> (port, state)."""

    def __init__(self, namespaces, lookup, fetch):
        self.namespaces = namespaces
        self.lookup = lookup
        self.fetch = fetch  # instance id -> network_protocol.InstanceMetadata (signed GET)
        self._listeners = {}  # network id -> (namespace inode, server, thread)
        self._guard = threading.Lock()

    def respond(self, network_id, address, path):
        found = self.lookup(network_id, address)
        if found is None:
            return 404, "text/plain", b"no instance of this host has that address"
        port, state = found
        try:
            meta = self.fetch(port.instance_id)
        except (ControllerError, ProtocolError) as exc:
            log.warning("metadata for instance %s unavailable: %s", port.instance_id, exc)
            return 503, "text/plain", b"metadata unavailable"
        return instance_metadata.answer(path, meta, state)

    def converge(self, drift, devices, plan):
        wanted = {n.network_id: n for n in plan.metadata_networks()}
        for network in wanted.values():
            self._network(drift, devices, network)
        with self._guard:
            stale = [nid for nid in self._listeners if nid not in wanted]
        for network_id in stale:
            drift.found("metadata", network_id, "unexpected", "listener", lambda n=network_id: self.close(n))

    def _network(self, drift, devices, network):
        ns = Netns(self.namespaces.metadata(network.network_id))
        host_end, address = names.metadata_veth(network.network_id), [f"{names.METADATA_ADDRESS}/32"]
        leg = links.ensure_leg(
            drift,
            devices,
            "interface",
            network,
            host_end,
            ns,
            names.METADATA_DEVICE,
            mac=network.metadata_mac,
            addresses=address,
        )
        if leg is None:
            return
        if leg.get(names.METADATA_DEVICE).get("inet6_addr_gen_mode") != "none":
            ns.ip("link", "set", "dev", names.METADATA_DEVICE, "addrgenmode", "none")
        self._routes_and_neighbours(drift, ns, network)
        self._listener(drift, ns, network.network_id)

    def _routes_and_neighbours(self, drift, ns, network):
        device = names.METADATA_DEVICE
        subnet = network.spec.subnet(4)
        routes = {r["dst"] for r in ns.ip_json("route", "show", "dev", device)}
        if subnet is not None and subnet.cidr not in routes:
            drift.found(
                "metadata",
                ns.name,
                "missing",
                f"route {subnet.cidr}",
                lambda: ns.ip("route", "replace", subnet.cidr, "dev", device),
            )
        present = {
            (n["dst"], n.get("lladdr"))
            for n in ns.ip_json("neigh", "show", "dev", device)
            if "PERMANENT" in n.get("state", ())
        }
        wanted = {(address, port.spec.mac) for port in network.ports for address in port.ipv4}
        for address, mac in sorted(wanted - present):
            drift.found(
                "metadata",
                ns.name,
                "missing",
                f"neighbour {address}",
                lambda a=address, m=mac: ns.ip(
                    "neigh", "replace", a, "lladdr", m, "nud", "permanent", "dev", device
                ),
            )
        for address, _mac in sorted(present - wanted):
            if address not in {a for a, _ in wanted}:
                drift.found(
                    "metadata",
                    ns.name,
                    "unexpected",
                    f"neighbour {address}",
                    lambda a=address: ns.ip("neigh", "del", a, "dev", device),
                )

    def _listener(self, drift, ns, network_id):
        inode = ns.inode()
        with self._guard:
            current = self._listeners.get(network_id)
        if current is not None and current[0] == inode and current[2].is_alive():
            return
        drift.found("metadata", network_id, "missing", "listener", lambda: self._open(ns, network_id, inode))

    def _open(self, ns, network_id, inode):
        self.close(network_id)
        sock = call_in(ns.name, lambda: _listen(names.METADATA_ADDRESS))
        server = MetadataServer(sock, network_id, self)
        thread = threading.Thread(
            target=server.serve_forever, args=(0.2,), name=f"metadata-{network_id[:8]}", daemon=True
        )
        thread.start()
        with self._guard:
            self._listeners[network_id] = (inode, server, thread)

    def close(self, network_id):
        with self._guard:
            found = self._listeners.pop(network_id, None)
        if found is not None:
            found[1].shutdown()
            found[1].server_close()

    def close_all(self):
        with self._guard:
            network_ids = list(self._listeners)
        for network_id in network_ids:
            self.close(network_id)

    def serving(self):
        with self._guard:
            return sorted(self._listeners)
