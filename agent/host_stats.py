"""The host's own counters: CPU, memory, the data directory's disk, network (psutil reads /proc).

Disk I/O is that of the block device holding the agent's data directory (where
the instances' disks are), or of every disk when the directory is on no block
device (a container's overlay). Network traffic is that of the interfaces named
in the settings, by default those backed by a device (physical NICs), so the
guests' taps and bridges are not counted twice.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import psutil

SYS_NET = Path("/sys/class/net")
SYS_BLOCK = Path("/sys/dev/block")


@dataclass(frozen=True)
class HostCounters:
    cpus: int
    cpu_busy_seconds: float  # every CPU together, since boot
    memory_total_bytes: int
    memory_used_bytes: int
    disk_total_bytes: int
    disk_used_bytes: int  # counting what is reserved for root: the agent cannot use it either
    disk_read_bytes: int
    disk_write_bytes: int
    net_rx_bytes: int
    net_tx_bytes: int


def default_interfaces(sys_net=SYS_NET):
    """Interfaces backed by a device; every one but loopback when there is none (a container)."""
    names = sorted(path.name for path in sys_net.iterdir()) if sys_net.exists() else []
    physical = [name for name in names if (sys_net / name / "device").exists()]
    return physical or [name for name in names if name != "lo"]


def block_device_of(path, sys_block=SYS_BLOCK):
    """The kernel name of the block device holding `path` ("vda", "nvme0n1p2"), or None."""
    device = os.stat(path).st_dev
    link = sys_block / f"{os.major(device)}:{os.minor(device)}"
    return link.resolve().name if link.exists() else None


class HostStats:
    def __init__(self, data_dir, interfaces=()):
        self.data_dir = str(data_dir)
        self.interfaces = list(interfaces) or default_interfaces()
        self.disk = block_device_of(self.data_dir)

    def _disk_io(self):
        if self.disk is not None:
            counters = psutil.disk_io_counters(perdisk=True).get(self.disk)
            if counters is not None:
                return counters
        return psutil.disk_io_counters(perdisk=False)

    def read(self):
        cpu = psutil.cpu_times()
        # On Linux guest time is already inside user time.
        busy = cpu.user + cpu.nice + cpu.system + cpu.irq + cpu.softirq + cpu.steal
        memory = psutil.virtual_memory()
        filesystem = os.statvfs(self.data_dir)
        disk_total = filesystem.f_blocks * filesystem.f_frsize
        disk_io = self._disk_io()
        nics = psutil.net_io_counters(pernic=True)
        counted = [nics[name] for name in self.interfaces if name in nics]
        return HostCounters(
            cpus=psutil.cpu_count() or 1,
            cpu_busy_seconds=busy,
            memory_total_bytes=memory.total,
            memory_used_bytes=memory.total - memory.available,
            disk_total_bytes=disk_total,
            disk_used_bytes=disk_total - filesystem.f_bavail * filesystem.f_frsize,
            disk_read_bytes=disk_io.read_bytes if disk_io else 0,
            disk_write_bytes=disk_io.write_bytes if disk_io else 0,
            net_rx_bytes=sum(nic.bytes_recv for nic in counted),
            net_tx_bytes=sum(nic.bytes_sent for nic in counted),
        )
