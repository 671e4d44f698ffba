"""A driver with no hypervisor behind it, which fails, hangs or stalls at any named step on demand.

For failure-path tests (and, later, features libvirt's test driver lacks). The
steps are the Driver method names (``define``, ``start``, ``stop``,
``export_disk``, ...). Faults come from the constructor and from an optional
JSON file (``{"define": "hang", "stop": "fail"}``) read at every step, so a
test can change them while a worker process runs. A hung step blocks until
``release_hangs()`` (in-process tests) or for good, then fails. A stalled step
waits while its fault stays set (or until ``release_hangs()``), then goes on as
if nothing happened: a hypervisor that answers late.

Live migration between two fake drivers (two agent processes) goes through a
directory they share, the fake's stand-in for the network between two
hypervisors: the source writes the guest there and forgets it, the destination
takes it from there when asked for the guest that arrived. A stalled migration
(``live_migrate: stall``) is aborted when its deadline comes near, and the guest
stays where it was, as libvirt's abort leaves it.

NICs are real: each is a veth into a namespace per instance (fake_nics.py), in the
network namespace the agent's network driver works in; they exist while the domain runs.
"""

import json
import logging
import threading
import time
from dataclasses import asdict
from pathlib import Path

from .. import protocol, qemu_img
from ..errors import AgentError
from . import fake_nics
from .base import DomainCounters, Driver, PluggedNic, domain_name

log = logging.getLogger(__name__)

FAIL, HANG, STALL = "fail", "hang", "stall"
STALL_POLL_SECONDS = 0.05
FAKE_DISK_BYTES = 1024 * 1024
# What a fake running domain does each second: a quarter of a vCPU, some disk and network traffic.
FAKE_RATES_PER_SECOND = {
    "cpu_time_ns": 250_000_000,
    "disk_read_bytes": 40_960,
    "disk_write_bytes": 20_480,
    "disk_read_ops": 10,
    "disk_write_ops": 5,
    "net_rx_bytes": 12_500,
    "net_tx_bytes": 6_250,
}
FAKE_MEMORY_USED_KIB = 262_144


def parse_faults(text):
    """``"define:hang,stop:fail"`` -> ``{"define": "hang", "stop": "fail"}`` (the env var form)."""
    faults = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        step, _, mode = item.partition(":")
        if mode not in (FAIL, HANG, STALL):
            raise ValueError(f"fault {item!r}: the mode must be {FAIL!r}, {HANG!r} or {STALL!r}")
        faults[step] = mode
    return faults


class FakeDriver(Driver):
    supports_live_migration = True

    def __init__(
        self, faults=None, faults_file=None, cpus=8, ram_mb=16384, fabric_dir=None, network_namespace=""
    ):
        self.faults = dict(faults or {})
        self.network_namespace = network_namespace
        self.faults_file = Path(faults_file) if faults_file else None
        self.fabric_dir = Path(fabric_dir) if fabric_dir else None
        self.cpus, self.ram_mb = cpus, ram_mb
        self.domains = {}
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.hung = threading.Semaphore(0)  # released once per step that starts hanging

    def release_hangs(self):
        self._release.set()

    def _faults(self):
        faults = dict(self.faults)
        if self.faults_file is not None and self.faults_file.exists():
            faults.update(json.loads(self.faults_file.read_text()))
        return faults

    def _step(self, name):
        mode = self._faults().get(name)
        if mode == FAIL:
            raise AgentError(protocol.ERR_HYPERVISOR, f"fake driver: injected failure at {name}")
        if mode == HANG:
            log.warning("fake driver: hanging at %s", name)
            self.hung.release()
            self._release.wait()
            raise AgentError(protocol.ERR_HYPERVISOR, f"fake driver: hang at {name} released")
        if mode == STALL:
            log.warning("fake driver: stalling at %s", name)
            self.hung.release()
            while self._faults().get(name) == STALL and not self._release.wait(STALL_POLL_SECONDS):
                pass
            log.warning("fake driver: %s goes on", name)

    def _domain(self, instance_id):
        domain = self.domains.get(instance_id)
        if domain is None:
            raise AgentError(protocol.ERR_INSTANCE_NOT_FOUND, f"no domain for instance {instance_id}")
        return domain

    def _status(self, instance_id):
        domain = self._domain(instance_id)
        return protocol.DomainStatus(
            instance_id=instance_id,
            domain_name=domain_name(instance_id),
            power_state=domain["state"],
            reason=domain["reason"],
            has_managed_save=domain["saved"],
            spec_sha256=domain["spec_sha256"],
        )

    def _set(self, instance_id, state, reason, saved=False):
        with self._lock:
            domain = self._domain(instance_id)
            if state == "running" and domain["state"] != "running":
                domain["running_since"] = time.monotonic()  # counters restart with the domain
            domain.update(state=state, reason=reason, saved=saved)
        return self._status(instance_id)

    def hypervisor_info(self):
        self._step("hypervisor_info")
        return protocol.HypervisorInfo("FAKE", "0.0.0", "0.0.0", "qemu", "x86_64", "fake://")

    def host_cpus_and_ram_mb(self):
        return self.cpus, self.ram_mb

    def define(self, spec, files, replace=False, nics=()):
        self._step("define")
        wanted = spec.spec_sha256()
        with self._lock:
            domain = self.domains.get(spec.instance_id)
            if domain is not None and domain["spec_sha256"] != wanted:
                if not replace:
                    raise AgentError(protocol.ERR_SPEC_CONFLICT, "exists with another specification")
                if domain["state"] != "shutoff":
                    raise AgentError(protocol.ERR_INVALID_STATE, "must be off to be redefined")
                domain = None
            if domain is None:
                self.domains[spec.instance_id] = {
                    "spec_sha256": wanted,
                    "state": "shutoff",
                    "reason": "unknown",
                    "saved": False,
                    "nics": list(nics),
                }
        return self._status(spec.instance_id)

    def _plug_all(self, instance_id):
        for index, nic in enumerate(self._domain(instance_id)["nics"]):
            fake_nics.plug(self.network_namespace, instance_id, index, nic)

    def _unplug_all(self, instance_id):
        for nic in self._domain(instance_id)["nics"]:
            fake_nics.unplug(self.network_namespace, nic)

    def attach_nic(self, instance_id, nic):
        self._step("attach_nic")
        domain = self._domain(instance_id)
        if nic.mac not in {n.mac for n in domain["nics"]}:
            domain["nics"].append(nic)
            if domain["state"] == "running":
                fake_nics.plug(self.network_namespace, instance_id, len(domain["nics"]) - 1, nic)
        return self._status(instance_id)

    def detach_nic(self, instance_id, port_id, mac):
        self._step("detach_nic")
        domain = self._domain(instance_id)
        for nic in [n for n in domain["nics"] if n.mac == mac]:
            fake_nics.unplug(self.network_namespace, nic)
            domain["nics"].remove(nic)
        return self._status(instance_id)

    def start(self, instance_id):
        self._step("start")
        if self._status(instance_id).power_state == "shutoff":
            self._plug_all(instance_id)
            return self._set(
                instance_id, "running", "restored" if self._domain(instance_id)["saved"] else "booted"
            )
        return self._status(instance_id)

    def stop(self, instance_id, graceful_timeout_seconds):
        self._step("stop")
        if self._status(instance_id).power_state == "shutoff":
            return self._status(instance_id)
        self._unplug_all(instance_id)
        return self._set(instance_id, "shutoff", "shutdown" if graceful_timeout_seconds else "destroyed")

    def reboot(self, instance_id, hard, graceful_timeout_seconds):
        self._step("reboot")
        self._domain(instance_id)
        return self._set(instance_id, "running", "booted")

    def pause(self, instance_id):
        self._step("pause")
        return self._require_then_set(instance_id, ("running", "paused"), "paused", "user")

    def unpause(self, instance_id):
        self._step("unpause")
        return self._require_then_set(instance_id, ("paused", "running"), "running", "unpaused")

    def suspend(self, instance_id):
        self._step("suspend")
        if self._domain(instance_id)["saved"]:
            return self._status(instance_id)
        status = self._require_then_set(instance_id, ("running", "paused"), "shutoff", "saved", saved=True)
        self._unplug_all(instance_id)
        return status

    def resume(self, instance_id):
        self._step("resume")
        if self._status(instance_id).power_state == "running":
            return self._status(instance_id)
        if not self._domain(instance_id)["saved"]:
            raise AgentError(protocol.ERR_INVALID_STATE, "not suspended")
        self._plug_all(instance_id)
        return self._set(instance_id, "running", "restored")

    def _require_then_set(self, instance_id, allowed, state, reason, saved=False):
        current = self._status(instance_id).power_state
        if current not in allowed:
            raise AgentError(protocol.ERR_INVALID_STATE, f"cannot go from {current} to {state}")
        if current == state:
            return self._status(instance_id)
        return self._set(instance_id, state, reason, saved)

    def export_disk(self, instance_id, disk_path, dest):
        self._step("export_disk")
        self._domain(instance_id)
        qemu_img.create_blank(dest, FAKE_DISK_BYTES)

    def delete(self, instance_id):
        self._step("delete")
        with self._lock:
            domain = self.domains.pop(instance_id, None)
        if domain is not None and domain["nics"]:
            fake_nics.remove(self.network_namespace, instance_id, domain["nics"])
        return domain is not None

    def status(self, instance_id):
        self._step("status")
        return self._status(instance_id)

    def close(self):
        """Nothing to release."""

    def accept_incoming(self, instance_id):
        self._step("accept_incoming")
        super().accept_incoming(instance_id)

    def live_migrate(self, spec, destination_files, peer, options, progress, deadline, nics=()):
        instance_id = spec.instance_id
        if self._status(instance_id).power_state != "running":
            raise AgentError(protocol.ERR_INVALID_STATE, "only a running guest migrates live")
        while self._faults().get("live_migrate") == STALL:
            if deadline.passed:
                raise AgentError(protocol.ERR_MIGRATION_ABORTED, "fake driver: aborted at the deadline")
            progress(50, "copying memory")
            self._release.wait(STALL_POLL_SECONDS)
        self._step("live_migrate")
        progress(90, "switching over")
        with self._lock:
            domain = self.domains.pop(instance_id)
        # The guest leaves with the NICs it has here; it arrives with those it is sent with.
        fake_nics.remove(self.network_namespace, instance_id, domain["nics"])
        arrival = self._arrival(instance_id)
        arrival.parent.mkdir(parents=True, exist_ok=True)
        sent = [asdict(nic) for nic in nics]
        arrival.write_text(json.dumps({**domain, "nics": sent, "destination": peer.host}))

    def finish_incoming(self, instance_id, files, nics=()):
        self._step("finish_incoming")
        arrival = self._arrival(instance_id)
        with self._lock:
            if instance_id not in self.domains:
                if not arrival.exists():
                    raise AgentError(protocol.ERR_INSTANCE_NOT_FOUND, f"no guest of {instance_id} arrived")
                domain = json.loads(arrival.read_text())
                domain.pop("destination")
                domain["nics"] = [PluggedNic(**nic) for nic in domain["nics"]]
                if set(domain["nics"]) - set(nics):
                    # As libvirt's driver refuses it: a NIC that is not one of the instance's ports here.
                    raise AgentError(protocol.ERR_SPEC_CONFLICT, "the migrated guest has NICs not its own")
                self.domains[instance_id] = domain
                self._plug_all(instance_id)
        arrival.unlink(missing_ok=True)
        return self._status(instance_id)

    def _arrival(self, instance_id):
        if self.fabric_dir is None:
            raise AgentError(protocol.ERR_LIVE_MIGRATION_UNSUPPORTED, "fake driver: no fabric directory")
        return self.fabric_dir / f"{instance_id}.json"

    def domain_counters(self):
        self._step("domain_counters")
        now = time.monotonic()
        with self._lock:
            running = {i: d["running_since"] for i, d in self.domains.items() if d["state"] == "running"}
        return [
            DomainCounters(
                instance_id=instance_id,
                memory_used_kib=FAKE_MEMORY_USED_KIB,
                **{name: int(rate * (now - since)) for name, rate in FAKE_RATES_PER_SECOND.items()},
            )
            for instance_id, since in running.items()
        ]

    def inventory(self):
        self._step("inventory")
        with self._lock:
            ids = list(self.domains)
        return protocol.Inventory(instances=[self._status(i) for i in ids])
