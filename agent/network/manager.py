"""The host's desired network state: pulled from the controller, kept, applied, audited, reported.

The state is pulled (signed GET) rather than sent in a task: other hosts read the
broker, and the state can be large. The last state pulled is kept on disk, so the
agent repairs drift (a killed dnsmasq, a deleted rule) even while the controller
is away and after a restart. A host that never got a state changes nothing: the
agent never removes what it does not know to be unwanted.

One state is applied at a time (a lock); the metadata service reads the current
plan without it (the plan is replaced whole).
"""

import json
import logging
import threading
import time
from pathlib import Path

from .. import protocol
from ..controller_client import ControllerError
from ..errors import AgentError
from ..instance_files import ensure_dir
from ..network_protocol import InstanceMetadata, NetworkReport, NetworkState

log = logging.getLogger(__name__)

STATE_FILE = "desired-state.json"
# How long a sync waits for the controller to serve the generation it asks for.
GENERATION_WAIT_SECONDS = 20
GENERATION_POLL_SECONDS = 0.5


class NetworkManager:
    def __init__(self, host, data_dir, client, driver=None, clock=time.time):
        self.host = host
        self.client = client
        self.driver = driver
        self.clock = clock
        self.dir = ensure_dir(Path(data_dir) / "network", 0o711)
        self._lock = threading.RLock()
        self.state = self._load()
        self.plan = None

    # --- desired state ----------------------------------------------------------------------

    def _load(self):
        path = self.dir / STATE_FILE
        if not path.exists():
            return None
        try:
            return NetworkState.from_dict(json.loads(path.read_text()))
        except (ValueError, protocol.ProtocolError):
            log.exception("the kept network state is unreadable: waiting for the controller's")
            return None

    def _keep(self, state):
        path = self.dir / STATE_FILE
        temp = path.with_name(f".{STATE_FILE}.tmp")
        temp.write_text(json.dumps(state.to_dict()))
        temp.chmod(0o600)
        temp.replace(path)

    def pull(self):
        """The controller's desired state for this host (checked, kept)."""
        try:
            state = NetworkState.from_dict(self.client.get_json(protocol.NETWORK_STATE_PATH))
        except (ControllerError, ValueError, protocol.ProtocolError) as exc:
            raise AgentError(protocol.ERR_NETWORK_STATE_UNAVAILABLE, f"network state: {exc}") from exc
        if state.host != self.host:
            raise AgentError(protocol.ERR_NETWORK_STATE_UNAVAILABLE, f"the state is for host {state.host!r}")
        self._keep(state)
        return state

    def _pull_generation(self, generation):
        deadline = time.monotonic() + GENERATION_WAIT_SECONDS
        while True:
            state = self.pull()
            if state.generation >= generation:
                return state
            if time.monotonic() >= deadline:
                raise AgentError(
                    protocol.ERR_NETWORK_STATE_UNAVAILABLE,
                    f"the controller serves generation {state.generation}, the task asks for {generation}",
                )
            time.sleep(GENERATION_POLL_SECONDS)

    # --- applying ---------------------------------------------------------------------------

    def _converge(self, state, repair):
        drift, plan = self.driver.converge(state, repair)
        self.state = state
        if plan is not None:
            self.plan = plan
        return drift

    def sync(self, generation):
        """Reach at least ``generation``; the differences found on the way (all repaired)."""
        with self._lock:
            state = self.state
            if state is None or state.generation < generation or self.plan is None:
                state = self._pull_generation(generation)
            drift = self._converge(state, repair=True)
            self._send_report(drift.items)
            if drift.failures:
                raise AgentError(protocol.ERR_NETWORK, "; ".join(drift.failures)[:1000])
            return protocol.NetworkSyncResult(generation=state.generation, drift=drift.items)

    def audit(self, repair=True):
        """Compare (and repair) against the controller's latest state, or the kept one when it is away."""
        with self._lock:
            try:
                state = self.pull()
            except AgentError as exc:
                log.warning("network audit uses the kept state: %s", exc.message)
                state = self.state
            if state is None:
                return protocol.NetworkSyncResult(generation=0)
            drift = self._converge(state, repair)
            self._send_report(drift.items)
            return protocol.NetworkSyncResult(generation=state.generation, drift=drift.items)

    def supervise(self):
        """Bring back dead daemons (dnsmasq); reported as drift when any was."""
        with self._lock:
            items = self.driver.supervise(self.plan) if self.plan is not None else []
            if items:
                log.warning("network daemons restarted: %s", [i.name for i in items])
                self._send_report(items, complete=False)

    def bindings(self, port_ids):
        """{port id: (bridge, MTU)}; pulls and applies the state first when a port is not there yet."""
        with self._lock:
            known = {p.spec.port_id for p in self.plan.ports} if self.plan is not None else set()
            if not set(port_ids) <= known:
                state = self.pull()
                drift = self._converge(state, repair=True)
                if drift.failures:
                    raise AgentError(protocol.ERR_NETWORK, "; ".join(drift.failures)[:1000])
            return {port_id: self.driver.nic_binding(self.plan, port_id) for port_id in port_ids}

    # --- reporting and metadata ---------------------------------------------------------------

    def _send_report(self, items, complete=True):
        try:
            report = NetworkReport(
                protocol_version=protocol.PROTOCOL_VERSION,
                host=self.host,
                sent_at=int(self.clock()),
                generation=self.state.generation if self.state is not None else 0,
                observed=self.driver.observe(self.plan),
                drift=list(items),
                complete=complete,
            )
            self.client.post_message(protocol.NETWORK_REPORT_PATH, report)
        except (ControllerError, AgentError, OSError) as exc:
            log.warning("the network report was not delivered: %s", exc)

    def lookup(self, network_id, address):
        """(the port, the state) of the local guest with ``address`` on ``network_id``, or None."""
        plan = self.plan
        port = plan.port_for(network_id, address) if plan is not None else None
        return (port.spec, plan.state) if port is not None else None

    def fetch_metadata(self, instance_id):
        return InstanceMetadata.from_dict(self.client.get_json(protocol.instance_metadata_path(instance_id)))

    def close(self):
        if self.driver is not None:
            self.driver.close()


class NetworkWatch(threading.Thread):
    """On start a full audit; then dnsmasq checks every few seconds and an audit every period."""

    def __init__(self, manager, audit_seconds, check_seconds):
        super().__init__(name="agent-network", daemon=True)
        self.manager = manager
        self.audit_seconds = audit_seconds
        self.check_seconds = check_seconds
        self.stopping = threading.Event()

    def run(self):
        next_audit = 0.0
        while not self.stopping.is_set():
            try:
                if time.monotonic() >= next_audit:
                    next_audit = time.monotonic() + self.audit_seconds
                    self.manager.audit(repair=True)
                else:
                    self.manager.supervise()
            except Exception:
                log.exception("network chores failed")
            self.stopping.wait(self.check_seconds)
