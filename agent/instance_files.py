"""Where one instance's files live under the agent's data directory.

Paths are derived only from the instance's UUID (validated by the protocol),
never from anything else in a task. Every directory is o+x so that qemu, running
as libvirt's unprivileged user, can reach the files libvirt labels for it.
"""

import shutil
from pathlib import Path

DIR_MODE = 0o711
PRIVATE_DIR_MODE = 0o700
# Guest data is root's alone; libvirt gives qemu's user access while the domain runs.
FILE_MODE = 0o600


def ensure_dir(path, mode=DIR_MODE):
    path = Path(path)
    path.mkdir(mode=mode, parents=True, exist_ok=True)
    path.chmod(mode)
    return path


class InstanceFiles:
    def __init__(self, data_dir, instance_id):
        self.dir = Path(data_dir) / "instances" / instance_id
        self.root_disk = self.dir / "root.qcow2"
        self.ephemeral_disk = self.dir / "ephemeral.qcow2"
        self.kernel = self.dir / "kernel"
        self.ramdisk = self.dir / "ramdisk"
        self.console_log = self.dir / "console.log"
        self.config_drive = self.dir / "config.iso"

    def create(self):
        ensure_dir(self.dir.parent)
        return ensure_dir(self.dir)

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def all_instance_disks(data_dir):
    """Every disk file of an instance, and of a copy handed over for a migration (for the image cache's
    in-use check: a resize's source copy keeps its base until the resize is confirmed or reverted)."""
    data_dir = Path(data_dir)
    return sorted([*(data_dir / "instances").glob("*/*.qcow2"), *(data_dir / "migrations").glob("*/*.qcow2")])
