"""A power cut on a host with a real QEMU guest: qemu, libvirtd and the agent are killed (SIGKILL); libvirtd
and the agent start again; the agent asks the controller before it starts any guest, and the guest, whose
instance is active, boots again and prints its ready marker on the console.

The domain is persistent (defined, then started), as in production. The test runs
its own libvirtd and virtlogd, in a mount namespace of their own whose
/run/libvirt, /etc/libvirt, /var/lib/libvirt and /var/log/libvirt are the test's
directories (the agent reaches it at qemu+unix:///system?socket=…): the machine's
own libvirtd, which other tests may use at the same time, is never touched.
Skipped only when CLOUDMGR_SKIP_REAL_GUEST names a reason.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from apps.compute.models import Instance
from apps.core.tests.controllers import wait_until
from apps.infrastructure.tests.factories import ZoneFactory

from .test_real_guest import (  # noqa: F401 (a fixture)
    SKIP_VARIABLE,
    agent_home,
    console_text,
    launch_real_guest,
    qemu_agent,
    upload_guest,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]

READY = "CLOUDMGR-READY"
# Limits, not measures: TCG boots the guest in seconds, but the machine is shared.
BOOT_SECONDS = 180
PRIVATE = {"run": "/run/libvirt", "lib": "/var/lib/libvirt", "etc": "/etc/libvirt", "log": "/var/log/libvirt"}


class PrivateLibvirt:
    """libvirtd and virtlogd of this test only, in their own mount namespace."""

    def __init__(self, directory):
        self.directory = Path(directory)
        for name in PRIVATE:
            (self.directory / name).mkdir(parents=True)
        shutil.copytree("/etc/libvirt", self.directory / "etc", dirs_exist_ok=True)
        mounts = " && ".join(f"mount --bind {self.directory / name} {path}" for name, path in PRIVATE.items())
        daemons = f"virtlogd -d -p {self.pid_file('virtlogd')} && {self._libvirtd()}"
        subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", f"{mounts} && {daemons}"],
            check=True,
            timeout=60,
        )
        self.wait_ready()

    @property
    def uri(self):
        return f"qemu+unix:///system?socket={self.directory / 'run' / 'libvirt-sock'}"

    def pid_file(self, daemon):
        return self.directory / f"{daemon}.pid"

    def pid(self, daemon):
        return int(self.pid_file(daemon).read_text())

    def _libvirtd(self):
        return f"libvirtd -d -p {self.pid_file('libvirtd')}"

    def virsh(self, *args, check=True):
        return subprocess.run(
            ["virsh", "-c", self.uri, *args], capture_output=True, text=True, timeout=120, check=check
        )

    def wait_ready(self):
        wait_until(lambda: self.virsh("version", check=False).returncode == 0, 60, "the private libvirtd")

    def start_libvirtd(self):
        """Start libvirtd again, in the namespace its virtlogd still holds."""
        subprocess.run(
            ["nsenter", "-t", str(self.pid("virtlogd")), "-m", "sh", "-c", self._libvirtd()],
            check=True,
            timeout=60,
        )
        self.wait_ready()

    def stop(self, domains):
        for name in domains:
            self.virsh("destroy", name, check=False)
            self.virsh("undefine", name, "--managed-save", check=False)
        for daemon in ("libvirtd", "virtlogd"):
            with contextlib.suppress(OSError, ValueError):
                os.kill(self.pid(daemon), signal.SIGTERM)


@pytest.fixture
def private_libvirt(tmp_path):
    reason = os.environ.get(SKIP_VARIABLE)
    if reason:
        pytest.skip(f"{SKIP_VARIABLE}: {reason}")
    libvirt = PrivateLibvirt(tmp_path / "libvirt")
    domains = []
    libvirt.domains = domains
    yield libvirt
    libvirt.stop(domains)


def ready_markers(api, instance_id):
    return sum(line.strip() == READY for line in console_text(api, instance_id).splitlines())


def test_after_a_power_cut_the_agent_asks_first_and_the_guest_boots_again_to_its_ready_marker(
    private_libvirt,
    agent_home,  # noqa: F811
    live_server,
    signing_key,
    api,
    member,
    project,
    tmp_path,
):
    guest = upload_guest(live_server.url, member, project, tmp_path / "guest")
    zone = ZoneFactory(name="zone-real")
    with qemu_agent(
        live_server.url,
        agent_home,
        "cut",
        zone,
        private_libvirt.uri,
        transfer_listen="127.0.0.1:0",
        migration_gateway_listen="127.0.0.1:0",
    ) as agent:
        instance_id = launch_real_guest(api, guest, "survivor", private_libvirt.domains)["id"]
        domain = f"cloudmgr-{instance_id}"
        assert Instance.objects.get(pk=instance_id).vm_state == "active"
        wait_until(lambda: ready_markers(api, instance_id) == 1, BOOT_SECONDS, "the guest's first boot")
        assert "<domain type='qemu'" in private_libvirt.virsh("dumpxml", "--inactive", domain).stdout

        qemu = int((private_libvirt.directory / "run" / "qemu" / f"{domain}.pid").read_text())
        for pid in (qemu, private_libvirt.pid("libvirtd"), agent.process.pid):
            os.kill(pid, signal.SIGKILL)
        agent.process.wait()
        cut_at = time.monotonic()

        private_libvirt.start_libvirtd()
        assert "shut off" in private_libvirt.virsh("domstate", domain).stdout
        agent.start()

        wait_until(
            lambda: ready_markers(api, instance_id) == 2, BOOT_SECONDS, "the guest's boot after the cut"
        )
        assert "running" in private_libvirt.virsh("domstate", domain).stdout
        assert agent.log().count("recovery: fenced False, 1 instances here") == 1
        instance = Instance.objects.get(pk=instance_id)
        assert (instance.vm_state, instance.task_state) == ("active", None)
        print(
            f"\nPOWER CUT: the guest booted again to {READY} {time.monotonic() - cut_at:.1f} s after the cut"
        )
