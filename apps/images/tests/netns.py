"""A network namespace with private and link-local test hosts that nothing can leave.

`isolated_hosts(directory)` creates a namespace joined to this one by a veth
pair, gives it 10.x and 169.254.x addresses (with no route out: its only
link is the veth), starts the test HTTP server on each address inside it, and
removes everything afterwards, pass or fail. Test traffic never leaves the
machine: the host side only routes those two /24s to the veth.
"""

import random
import subprocess
import sys
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SERVER = Path(__file__).with_name("http_server.py")


def ip(*args, check=True):
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


def _free_octet():
    routes = ip("-4", "route", "show", "table", "all").stdout
    while True:
        octet = random.randint(16, 250)
        if f"10.{octet}.{octet}." not in routes and f"169.254.{octet}." not in routes:
            return octet


@dataclass(frozen=True)
class Hosts:
    private_url: str
    link_local_url: str
    private_network: str
    link_local_network: str


@contextmanager
def isolated_hosts(directory):
    name = f"cmimg-{uuid.uuid4().hex[:8]}"
    host_side, inner_side = f"vh{name[-8:]}", f"vn{name[-8:]}"
    octet = _free_octet()
    private, link_local = f"10.{octet}.{octet}", f"169.254.{octet}"
    servers = []
    try:
        ip("netns", "add", name)
        ip("link", "add", host_side, "type", "veth", "peer", "name", inner_side)
        ip("link", "set", inner_side, "netns", name)
        for prefix in (private, link_local):
            ip("addr", "add", f"{prefix}.1/24", "dev", host_side)
            ip("-n", name, "addr", "add", f"{prefix}.2/24", "dev", inner_side)
        ip("link", "set", host_side, "up")
        ip("-n", name, "link", "set", inner_side, "up")
        ip("-n", name, "link", "set", "lo", "up")
        urls = []
        for prefix in (private, link_local):
            server = subprocess.Popen(
                ["ip", "netns", "exec", name, sys.executable, str(SERVER), f"{prefix}.2", str(directory)],
                stdout=subprocess.PIPE,
                text=True,
            )
            servers.append(server)
            urls.append("http://" + server.stdout.readline().split()[-1])
        yield Hosts(urls[0], urls[1], f"{private}.0/24", f"{link_local}.0/24")
    finally:
        for server in servers:
            server.kill()
            server.wait()
        ip("netns", "del", name, check=False)
        ip("link", "del", host_side, check=False)
