"""Running ``ip``, ``nft``, ``sysctl`` and daemons inside one network namespace.

Every failure becomes an AgentError with the ``network_error`` code and the
command's own message, so a task report says exactly what the kernel refused.
"""

import json
import logging
import subprocess
from pathlib import Path

from .. import protocol
from ..errors import AgentError

log = logging.getLogger(__name__)

NETNS_DIR = Path("/run/netns")
COMMAND_TIMEOUT_SECONDS = 30


class CommandError(AgentError):
    def __init__(self, argv, message):
        super().__init__(protocol.ERR_NETWORK, f"{' '.join(argv)}: {message.strip()}"[:1000])


def run(argv, input_text=None, check=True):
    """stdout of a command; a non-zero exit raises CommandError unless ``check`` is false."""
    try:
        done = subprocess.run(
            argv, input=input_text, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_SECONDS
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CommandError(argv, str(exc)) from exc
    if check and done.returncode != 0:
        raise CommandError(argv, done.stderr or done.stdout or f"exit {done.returncode}")
    return done.stdout


def namespaces():
    """Every named network namespace on the machine."""
    try:
        return sorted(path.name for path in NETNS_DIR.iterdir())
    except FileNotFoundError:
        return []


class Netns:
    """One network namespace by name; "" is the agent's own."""

    def __init__(self, name=""):
        self.name = name

    def __repr__(self):
        return f"Netns({self.name!r})"

    def exists(self):
        return not self.name or (NETNS_DIR / self.name).exists()

    def inode(self):
        """Identity of the namespace behind the name (it changes when the name is deleted and re-made)."""
        return (NETNS_DIR / self.name).stat().st_ino if self.name else Path("/proc/self/ns/net").stat().st_ino

    def create(self):
        if not self.exists():
            run(["ip", "netns", "add", self.name])
        self.ip("link", "set", "lo", "up")

    def delete(self):
        if self.name and self.exists():
            run(["ip", "netns", "delete", self.name])

    def command(self, argv):
        """``argv`` run inside this namespace."""
        return ["ip", "netns", "exec", self.name, *argv] if self.name else list(argv)

    def run(self, *argv, input_text=None, check=True):
        return run(self.command(argv), input_text=input_text, check=check)

    def ip(self, *args, check=True):
        return run(["ip", *(("-n", self.name) if self.name else ()), *args], check=check)

    def ip_json(self, *args):
        text = self.ip("-j", *args)
        return json.loads(text) if text.strip() else []

    def links(self):
        """name -> ``ip -d link`` JSON of every device in the namespace."""
        return {link["ifname"]: link for link in self.ip_json("-d", "link", "show")}

    def addresses(self, device):
        """The addresses on a device, as "address/prefixlen" strings."""
        found = self.ip_json("addr", "show", "dev", device)
        infos = found[0].get("addr_info", []) if found else []
        return [f"{info['local']}/{info['prefixlen']}" for info in infos]

    def sysctl(self, key, value):
        path = Path("/proc/sys") / key.replace(".", "/")
        if not self.name:
            if path.read_text().strip() != str(value):
                path.write_text(str(value))
            return
        self.run("sysctl", "-q", "-w", f"{key}={value}")

    def nft(self, *args, input_text=None):
        if input_text is not None:
            return self.run("nft", "-f", "-", input_text=input_text)
        return self.run("nft", *args)
