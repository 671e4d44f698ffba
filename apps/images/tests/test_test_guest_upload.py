"""scripts/build_test_guest.py --upload: the three images reach a live controller's registry through the API.

The script runs as its own process and signs with an API key made through the
API; the controller is pytest-django's live server on the test database.
"""

import hashlib
import json

import pytest

from apps.core import policy
from apps.identity.tests.factories import ProjectFactory, UserFactory, grant
from apps.identity.tests.signing import create_key
from apps.images.models import Image

from .guest_script import run_script


@pytest.fixture
def key_holder(root):
    project = ProjectFactory()
    user = UserFactory(domain=project.domain)
    grant(user, policy.PROJECT_MEMBER, project)
    access_key, secret, _ = create_key(user, project)
    return project, access_key, secret


def sha256_of(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_kernel_ramdisk_and_machine_image_are_uploaded_active_and_linked(
    live_server, key_holder, tmp_path
):
    project, access_key, secret = key_holder

    done = run_script(tmp_path, live_server.url, access_key, secret)

    assert done.returncode == 0, done.stderr
    ids = json.loads(done.stdout.splitlines()[-1])
    assert ids["token"] == (tmp_path / "token").read_text().strip()
    assert ids["marker"] == f"CLOUDMGR-DISK-TOKEN={ids['token']}"
    kernel = Image.objects.get(pk=ids["kernel_id"])
    ramdisk = Image.objects.get(pk=ids["ramdisk_id"])
    machine = Image.objects.get(pk=ids["image_id"])
    assert (kernel.name, kernel.disk_format, kernel.container_format) == ("guest-kernel", "aki", "aki")
    assert (ramdisk.name, ramdisk.disk_format, ramdisk.container_format) == ("guest-ramdisk", "ari", "ari")
    assert (machine.name, machine.disk_format, machine.container_format) == ("guest", "qcow2", "bare")
    assert (machine.kernel_id, machine.ramdisk_id) == (kernel.pk, ramdisk.pk)
    for image, name in ((kernel, "vmlinuz"), (ramdisk, "initrd.gz"), (machine, "disk.qcow2")):
        assert image.status == Image.ACTIVE
        assert image.owner_id == project.pk
        assert image.sha256 == sha256_of(tmp_path / name)
    assert machine.virtual_size_bytes == 64 * 1024 * 1024


def test_a_refused_signature_stops_the_upload_with_one_line_and_creates_nothing(
    live_server, key_holder, tmp_path
):
    project, access_key, _ = key_holder

    done = run_script(tmp_path, live_server.url, access_key, "not-the-secret")

    assert done.returncode == 1
    assert done.stderr.startswith("build_test_guest: creating image guest-kernel answered 401")
    assert len(done.stderr.strip().splitlines()) == 1
    assert not Image.objects.filter(owner=project).exists()
