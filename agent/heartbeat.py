"""The heartbeat (capacity, hypervisor, inventory) and the agent's other periodic chores.

One daemon thread: every heartbeat period it POSTs a signed Heartbeat and
flushes the report outbox; every cleanup period it prunes the image cache and
the task journal. A failure in one round is logged and the next round runs.
Each heartbeat's answer goes to ``on_answer`` (agent.worker): a host that was
fenced destroys its guests and takes no task until it is returned to service.
"""

import logging
import os
import threading
import time
from dataclasses import dataclass

from . import protocol
from .instance_files import all_instance_disks

log = logging.getLogger(__name__)

AGENT_VERSION = "0.1.0"
MIB = 1024 * 1024


@dataclass(frozen=True)
class MoveEndpoints:
    """What other hosts use of this one in moves: where it serves disks and admits a live migration's
    source (0: not serving), and whether its hypervisor migrates running guests."""

    transfer_port: int = 0
    migration_gateway_port: int = 0
    live_migration: bool = False


def build_heartbeat(settings, driver, cache, watchdog, moves=MoveEndpoints()):
    cpus, ram_mb = driver.host_cpus_and_ram_mb()
    stats = os.statvfs(settings.data_dir)
    capacity = protocol.Capacity(
        cpus=settings.capacity_cpus or cpus,
        ram_mb=settings.capacity_ram_mb or ram_mb,
        disk_total_mb=stats.f_blocks * stats.f_frsize // MIB,
        disk_free_mb=stats.f_bavail * stats.f_frsize // MIB,
    )
    return protocol.Heartbeat(
        protocol_version=protocol.PROTOCOL_VERSION,
        host=settings.host,
        agent_version=AGENT_VERSION,
        sent_at=int(time.time()),
        capacity=capacity,
        hypervisor=driver.hypervisor_info(),
        inventory=driver.inventory(),
        cached_images=[entry.as_message() for entry in cache.entries()],
        stuck_operations=watchdog.stuck,
        transfer_port=moves.transfer_port,
        migration_gateway_port=moves.migration_gateway_port,
        live_migration=moves.live_migration,
    )


class Housekeeper(threading.Thread):
    def __init__(self, settings, driver, cache, client, reporter, journal, watchdog):
        super().__init__(name="agent-housekeeping", daemon=True)
        self.settings = settings
        self.driver, self.cache, self.client = driver, cache, client
        self.reporter, self.journal, self.watchdog = reporter, journal, watchdog
        self.stopping = threading.Event()
        self.moves = MoveEndpoints()
        self.on_answer = None
        self._next_cleanup = 0.0

    def run(self):
        while not self.stopping.is_set():
            self.round()
            self.stopping.wait(self.settings.heartbeat_seconds)

    def round(self):
        try:
            heartbeat = build_heartbeat(self.settings, self.driver, self.cache, self.watchdog, self.moves)
            answer = protocol.HeartbeatAnswer.from_dict(
                self.client.post_message(protocol.HEARTBEAT_PATH, heartbeat)
            )
            self.reporter.flush()
        except Exception:
            log.exception("heartbeat failed")
            answer = None
        if answer is not None and self.on_answer is not None:
            try:
                self.on_answer(answer)
            except Exception:
                log.exception("acting on the heartbeat's answer failed")
        if time.monotonic() >= self._next_cleanup:
            self._next_cleanup = time.monotonic() + self.settings.image_cache_cleanup_seconds
            try:
                self.cache.cleanup(all_instance_disks(self.settings.data_dir))
                self.journal.prune(self.settings.journal_retention_seconds)
            except Exception:
                log.exception("image cache cleanup failed")
