"""A real guest, end to end, on qemu:///system.

scripts/build_test_guest.py builds a Debian cloud kernel (aki), a busybox
initramfs (ari) and a 64 MiB qcow2 holding a random token, and uploads the three
through the API with an API key. An instance of that image is launched through
the API; a real agent process (`python -m agent run`, data directory under
/var/lib, domain type qemu: KVM is advertised here but cannot boot guests)
fetches the images into its cache, boots the domain from a qcow2 overlay on the
cached image, and the guest's init prints the token read from /dev/vda on the
serial console, which the test reads back through the console-log API.

qemu runs as libvirt's unprivileged user (checked on the running process).
Skipped only when CLOUDMGR_SKIP_REAL_GUEST names a reason.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from apps.compute.models import Instance
from apps.core.actor import Actor
from apps.core.tests.controllers import wait_until
from apps.identity.tests.signing import create_key
from apps.images.tests.guest_script import run_script
from apps.infrastructure.models import Host
from apps.infrastructure.tests.factories import ZoneFactory

from .agent_processes import REPOSITORY, AgentProcess
from .factories import OfferingFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.processes]

SKIP_VARIABLE = "CLOUDMGR_SKIP_REAL_GUEST"
START_LIBVIRT = REPOSITORY / "scripts" / "start_libvirt.sh"
SYSTEM_URI = "qemu:///system"
MARKER = "CLOUDMGR-DISK-TOKEN="
# Limits, not measures: TCG boots the guest in seconds, but the machine is shared.
SPAWN_SECONDS = 180
CONSOLE_SECONDS = 180


def virsh(*args, check=True):
    return subprocess.run(
        ["virsh", "-c", SYSTEM_URI, *args], capture_output=True, text=True, timeout=120, check=check
    )


@pytest.fixture
def system_libvirt():
    """libvirtd and virtlogd answer on qemu:///system; daemons started here are stopped after."""
    reason = os.environ.get(SKIP_VARIABLE)
    if reason:
        pytest.skip(f"{SKIP_VARIABLE}: {reason}")
    done = subprocess.run(
        ["bash", str(START_LIBVIRT)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    started = [line.split()[2] for line in done.stdout.splitlines() if line.startswith("started ")]
    yield
    for pid in reversed(started):
        subprocess.run(["kill", pid], check=False)


@pytest.fixture
def agent_home():
    """A directory under /var/lib that libvirt's qemu user can traverse (0711), removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="cloudmgr-real-guest-", dir="/var/lib"))
    directory.chmod(0o711)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def domains_removed():
    """Names of domains the test made; each is destroyed and undefined afterwards, whatever happened."""
    names = []
    yield names
    for name in names:
        virsh("destroy", name, check=False)
        virsh("undefine", name, "--managed-save", check=False)


def upload_guest(live_server_url, member, project, directory):
    access_key, secret, _ = create_key(member, project)
    done = run_script(directory, live_server_url, access_key, secret)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@contextmanager
def qemu_agent(live_server_url, agent_home, name, zone, libvirt_uri, **settings):
    """An agent process whose guests are real QEMU (TCG) machines of `libvirt_uri`, once it heartbeats;
    stopped on the way out."""
    agent = AgentProcess(
        Actor.system("test"),
        f"{name}-{uuid.uuid4().hex[:10]}",
        zone,
        live_server_url,
        agent_home,
        libvirt_uri=libvirt_uri,
        domain_type="qemu",
        **settings,
    )
    try:
        wait_until(lambda: Host.objects.filter(name=agent.name, state=Host.UP).exists(), 90, "the heartbeat")
        yield agent
    finally:
        agent.stop()


def launch_real_guest(api, guest, name, domains):
    """Launch an instance of the uploaded guest on a 256 MB offering and wait for the end of its spawn;
    the name of its domain is added to `domains` (removed after the test). The API's answer."""
    offering = OfferingFactory(name="real.tiny", vcpus=1, ram_mb=256, root_disk_gb=1)
    body = {"name": name, "offering_id": str(offering.pk), "image_id": guest["image_id"]}
    response = api.post("/api/v1/instances/", body, format="json")
    assert response.status_code == 202, response.content
    domains.append(f"cloudmgr-{response.data['id']}")
    wait_until(
        lambda: Instance.objects.filter(pk=response.data["id"], task_state__isnull=True).exists(),
        SPAWN_SECONDS,
        "the spawn",
    )
    return response.data


def delete_real_guest(api, instance_id):
    """Delete the instance through the API and wait until it is gone."""
    response = api.delete(f"/api/v1/instances/{instance_id}/")
    assert response.status_code == 202, response.content
    wait_until(
        lambda: Instance.objects.filter(pk=instance_id, vm_state="deleted").exists(),
        SPAWN_SECONDS,
        "the delete",
    )


def console_text(api, instance_id):
    response = api.post(f"/api/v1/instances/{instance_id}/console-log/", {}, format="json")
    assert response.status_code in (200, 202), response.content
    return response.data.get("text", "")


def read_token_from_console(api, instance_id):
    deadline = time.monotonic() + CONSOLE_SECONDS
    text = ""
    while time.monotonic() < deadline:
        text = console_text(api, instance_id)
        for line in text.splitlines():
            if line.strip().startswith(MARKER):
                return line.strip().removeprefix(MARKER)
        time.sleep(1)
    raise AssertionError(f"no {MARKER} line on the console in {CONSOLE_SECONDS} s; it reads:\n{text[-3000:]}")


def qemu_user(domain_name):
    pid = Path(f"/run/libvirt/qemu/{domain_name}.pid").read_text().strip()
    return Path(f"/proc/{pid}").stat().st_uid


def test_a_guest_booted_from_uploaded_images_prints_its_disk_token_through_the_console_log_api(
    system_libvirt,
    agent_home,
    domains_removed,
    live_server,
    signing_key,
    api,
    member,
    project,
    tmp_path,
    capsys,
):
    guest = upload_guest(live_server.url, member, project, tmp_path / "guest")
    zone = ZoneFactory(name="zone-real")
    with qemu_agent(live_server.url, agent_home, "real", zone, SYSTEM_URI) as agent:
        instance_id = launch_real_guest(api, guest, "real-guest", domains_removed)["id"]
        domain_name = f"cloudmgr-{instance_id}"
        instance = Instance.objects.get(pk=instance_id)
        assert (instance.vm_state, instance.power_state) == ("active", "running"), (
            instance.fault_code,
            instance.fault_message,
            agent.log()[-3000:],
        )

        token = read_token_from_console(api, instance_id)

        assert token == guest["token"]
        with capsys.disabled():
            print(f"\nREAL GUEST TOKEN {token} read back through the console-log API ({domain_name})")
        xml = virsh("dumpxml", domain_name).stdout
        assert "<domain type='qemu'" in xml
        assert qemu_user(domain_name) != 0
        root_disk = agent.data_dir / "instances" / instance_id / "root.qcow2"
        info = json.loads(
            subprocess.run(
                ["qemu-img", "info", "-U", "--output=json", str(root_disk)],
                capture_output=True,
                check=True,
                timeout=60,
            ).stdout
        )
        assert Path(info["full-backing-filename"]).parent == agent.data_dir / "images"
        assert info["virtual-size"] == 1024**3

        delete_real_guest(api, instance_id)
        assert virsh("dominfo", domain_name, check=False).returncode != 0
