"""The agent's settings: ``CLOUDMGR_AGENT_*`` environment variables, overridden by command-line options,
completed by what ``enroll`` saved in the data directory (host name, controller URL and keys)."""

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .protocol import queue_for_host

ENV_PREFIX = "CLOUDMGR_AGENT_"
STATE_FILE = "agent.json"
CONTROLLER_KEYS_FILE = "controller_keys.pub"
HOST_KEY_FILE = "host_key.pem"
DEFAULT_DATA_DIR = "/var/lib/cloudmgr-agent"


@dataclass
class AgentSettings:
    broker_url: str = "redis://127.0.0.1:6379/0"
    controller_url: str = ""
    host: str = ""
    libvirt_uri: str = "qemu:///system"
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    # base64 raw Ed25519 keys whose task signatures are accepted (comma-separated in the environment).
    controller_public_keys: list = field(default_factory=list)
    driver: str = "libvirt"  # "libvirt", or "fake" for failure tests
    domain_type: str = "auto"  # auto | kvm | qemu
    concurrency: int = 4
    heartbeat_seconds: int = 30
    image_cache_max_age_seconds: int = 24 * 3600
    image_cache_cleanup_seconds: int = 3600
    # How long the broker waits for an unacknowledged task before redelivering it (acks_late).
    visibility_timeout_seconds: int = 3600
    # Finished tasks are remembered this long, so a redelivered one reports its outcome again.
    journal_retention_seconds: int = 7 * 24 * 3600
    fake_faults: str = ""  # fake driver only: "define:hang,stop:fail"
    # Moves between hosts: where this host serves disks to destinations, and where a live
    # migration's source reaches it (libvirtd itself never listens on the network); the local user
    # that relays an admitted migration to libvirtd (its polkit rules allow migration only).
    # Both over mutual TLS with certificates of the controller's CA.
    transfer_listen: str = "0.0.0.0:16510"
    migration_gateway_listen: str = "0.0.0.0:16514"
    migration_relay_user: str = "cloudmgr-migrate"
    libvirt_socket: str = "/run/libvirt/libvirt-sock"
    fake_fabric_dir: str = ""  # fake driver only: the directory two fake hosts migrate guests through
    # Reported instead of the measured value when > 0 (to offer less than the host has).
    capacity_cpus: int = 0
    capacity_ram_mb: int = 0
    # Monitoring: sample every this many seconds (0: no sampling at all), send the samples to the
    # controller, and serve them for Prometheus on "address:port" (empty: not served).
    metrics_seconds: int = 60
    metrics_to_controller: bool = True
    prometheus_listen: str = ""
    # Interfaces whose traffic is the host's (comma-separated); empty: those backed by a device.
    metrics_interfaces: list = field(default_factory=list)
    log_level: str = "INFO"
    # --- networking (agent/network/) ---
    network_driver: str = "linux"  # "linux", or "none": instances with NICs are refused
    # The network namespace the network driver works in ("" = the agent's own). Agents stay in the
    # root namespace (the broker is on loopback); a named one lets two "hosts" share one machine.
    network_namespace: str = ""
    # physical network -> interface, for flat networks ("public:eth1,physnet1:eth2" in the environment).
    # No other interface is ever touched.
    physical_interfaces: dict = field(default_factory=dict)
    trunk_interface: str = ""  # VLAN networks' 802.1Q sub-interfaces go on this interface
    network_node: bool = False  # may host routers
    network_audit_seconds: int = 300
    # How often dnsmasq processes are checked (and restarted when gone).
    dhcp_check_seconds: int = 5

    @property
    def queue(self):
        return queue_for_host(self.host)

    @classmethod
    def load(cls, environ=None, overrides=None):
        environ = os.environ if environ is None else environ
        values = {}
        for spec in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + spec.name.upper())
            if raw not in (None, ""):
                values[spec.name] = _parse(spec, raw)
        values.update({k: v for k, v in (overrides or {}).items() if v not in (None, "", [])})
        settings = cls(**values)
        settings.data_dir = Path(settings.data_dir)
        settings._complete_from_data_dir()
        return settings

    def _complete_from_data_dir(self):
        state_path = self.data_dir / STATE_FILE
        if state_path.exists():
            state = json.loads(state_path.read_text())
            self.host = self.host or state.get("host", "")
            self.controller_url = self.controller_url or state.get("controller_url", "")
        keys_path = self.data_dir / CONTROLLER_KEYS_FILE
        if not self.controller_public_keys and keys_path.exists():
            self.controller_public_keys = keys_path.read_text().split()


def listen_address(text):
    """("address", port) from "address:port" (an IPv6 address in brackets)."""
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def _parse(spec, raw):
    if spec.type in (list, "list"):
        return [item.strip() for item in raw.split(",") if item.strip()]
    if spec.type in (dict, "dict"):
        return parse_mapping(raw)
    if spec.type in (int, "int"):
        return int(raw)
    if spec.type in (bool, "bool"):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    return raw


def parse_mapping(raw):
    """``"public:eth1,physnet1:eth2"`` -> ``{"public": "eth1", "physnet1": "eth2"}``."""
    mapping = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, sep, interface = item.partition(":")
        if not sep or not name.strip() or not interface.strip():
            raise ValueError(f"physical interface mapping {item!r}: expected NAME:INTERFACE")
        mapping[name.strip()] = interface.strip()
    return mapping
