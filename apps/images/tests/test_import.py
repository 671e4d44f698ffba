"""Importing images from URLs as controller jobs, and the SSRF guard on every hop.

The remote side is a real HTTP server: on 127.0.0.2/127.0.0.3 (loopback, in
this namespace), or on private and link-local addresses inside a network
namespace the test creates and removes, so no test traffic leaves the machine.
"""

import hashlib
import threading
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.actor import Actor
from apps.images import remote
from apps.images.models import Image
from apps.jobs import services as jobs
from apps.jobs.models import Job
from apps.jobs.worker import JobWorker
from apps.quotas import services as quotas

from . import crafted, tls
from .conftest import stored_files
from .http_server import serving
from .netns import isolated_hosts


@pytest.fixture
def worker():
    return JobWorker("test-images:1/job-1", threading.Event())


@pytest.fixture
def disk(files):
    return crafted.random_raw(files, 4 * 1024 * 1024 + 3)


def import_from(api, url, **fields):
    response = api.post(
        "/api/v1/images/",
        {"name": "imported", "disk_format": "raw", "copy_from": url, **fields},
        format="json",
    )
    assert response.status_code == 201, response.content
    return Job.objects.get(pk=response.data["job"]["id"])


def image_of(job):
    return Image.objects.get(pk=job.object_id)


def run(worker, job):
    worker.step()
    job.refresh_from_db()
    return job


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.0.0.2",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
    ],
)
def test_non_global_addresses_are_refused(address):
    assert remote.is_refused(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "2001:4860:4860::8888"])
def test_global_addresses_are_allowed(address):
    assert not remote.is_refused(address)


def test_an_allow_listed_network_is_reachable(settings):
    settings.CLOUDMGR_IMAGE_IMPORT_ALLOWED_NETWORKS = ["10.1.0.0/16"]
    assert not remote.is_refused("10.1.2.3")
    assert remote.is_refused("10.2.0.1")


def test_an_image_imported_from_an_allow_listed_mirror_becomes_active(
    api, project, worker, allowed_mirror, disk
):
    job = import_from(api, f"{allowed_mirror.base_url}/files/{disk.name}")

    job = run(worker, job)

    assert job.state == Job.SUCCEEDED, job.error_message
    image = image_of(job)
    assert (image.status, image.source, image.size_bytes) == ("active", "import", disk.stat().st_size)
    assert image.sha256 == hashlib.sha256(disk.read_bytes()).hexdigest()
    assert job.progress_message == "4.0 of 4.0 MiB received"
    assert quotas.usage_of(project)["image_storage_gb"][1] == 1


def test_a_loopback_address_that_is_not_allow_listed_is_refused_without_a_connection(
    api, worker, refused_server, disk, image_store
):
    job = import_from(api, f"{refused_server.base_url}/files/{disk.name}")

    job = run(worker, job)

    assert (job.state, job.error_code) == (Job.FAILED, "address_refused")
    image = image_of(job)
    assert image.status == Image.KILLED
    assert image.status_reason.startswith("address_refused:")
    assert refused_server.requests == []
    assert stored_files(image_store) == []


def test_a_redirect_to_a_refused_address_is_refused_at_that_hop(
    api, worker, allowed_mirror, refused_server, disk
):
    target = f"{refused_server.base_url}/files/{disk.name}"
    job = import_from(api, f"{allowed_mirror.base_url}/redirect?to={target}")

    job = run(worker, job)

    assert (job.state, job.error_code) == (Job.FAILED, "address_refused")
    assert allowed_mirror.requests == ["/redirect"]
    assert refused_server.requests == []


def test_a_redirect_between_allowed_addresses_is_followed(api, worker, allowed_mirror, disk):
    target = f"{allowed_mirror.base_url}/files/{disk.name}"
    job = import_from(api, f"{allowed_mirror.base_url}/redirect?to={target}")

    assert run(worker, job).state == Job.SUCCEEDED
    assert allowed_mirror.requests == ["/redirect", f"/files/{disk.name}"]


def test_a_name_that_resolves_to_a_refused_address_is_refused(api, worker, refused_server, disk):
    port = refused_server.server_address[1]
    job = import_from(api, f"http://localhost:{port}/files/{disk.name}")

    job = run(worker, job)

    assert (job.state, job.error_code) == (Job.FAILED, "address_refused")
    assert "localhost resolves to" in job.error_message


def test_private_and_link_local_hosts_are_refused_unless_allow_listed(api, worker, files, disk, settings):
    with isolated_hosts(files) as hosts:
        private_job = import_from(api, f"{hosts.private_url}/files/{disk.name}")
        link_local_job = import_from(api, f"{hosts.link_local_url}/files/{disk.name}")
        assert run(worker, private_job).error_code == "address_refused"
        assert run(worker, link_local_job).error_code == "address_refused"

        # The same hosts are reachable once allow-listed: the refusal above was the guard, not the network.
        settings.CLOUDMGR_IMAGE_IMPORT_ALLOWED_NETWORKS = [hosts.private_network, hosts.link_local_network]
        for url in (hosts.private_url, hosts.link_local_url):
            job = import_from(api, f"{url}/files/{disk.name}")
            assert run(worker, job).state == Job.SUCCEEDED, job.error_message


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://images.example.com/disk.img", "bad_url"),
        ("http://user:secret@images.example.com/disk.img", "bad_url"),
    ],
)
def test_an_unusable_url_is_refused_before_any_job_is_queued(api, url, code):
    response = api.post(
        "/api/v1/images/", {"name": "x", "disk_format": "raw", "copy_from": url}, format="json"
    )

    assert response.status_code == 400
    assert response.data["error"]["code"] == code
    assert not Job.objects.exists()
    assert not Image.objects.filter(status=Image.QUEUED).exists()


def test_an_import_over_the_storage_quota_kills_the_image_naming_the_limit(
    api, project, worker, allowed_mirror, disk
):
    quotas.set_limit(Actor.system("test"), project, "image_storage_gb", 0)
    job = import_from(api, f"{allowed_mirror.base_url}/files/{disk.name}")

    job = run(worker, job)

    assert (job.state, job.error_code) == (Job.FAILED, "quota_exceeded")
    assert "image_storage_gb" in job.error_message
    image = image_of(job)
    assert image.status == Image.KILLED
    assert allowed_mirror.requests == [f"/files/{disk.name}"]


def test_an_import_past_its_deadline_is_failed_by_the_sweeper_and_the_image_killed(
    api, settings, allowed_mirror, disk
):
    job = import_from(api, f"{allowed_mirror.base_url}/files/{disk.name}")

    later = timezone.now() + timedelta(seconds=settings.CLOUDMGR_IMAGE_IMPORT_DEADLINE_SECONDS + 1)
    with time_machine.travel(later):
        assert jobs.sweep_overdue() == 1

    job.refresh_from_db()
    image = image_of(job)
    assert (job.state, job.error_code) == (Job.FAILED, "deadline_exceeded")
    assert (image.status, image.status_reason) == (Image.KILLED, f"deadline_exceeded: {job.error_message}")


def test_registering_an_external_location_is_for_cloud_admins_only(api, project):
    response = api.post(
        "/api/v1/images/",
        {"name": "x", "disk_format": "raw", "location": "http://images.example.com/disk.img"},
        format="json",
    )

    assert response.status_code == 403
    assert not Image.objects.exists()


def test_a_registered_location_is_hashed_once_then_read_through_the_guard_and_verified(
    admin_api, project, worker, allowed_mirror, disk, image_store
):
    response = admin_api.post(
        "/api/v1/images/",
        {
            "name": "mirror",
            "disk_format": "raw",
            "owner": str(project.pk),
            "location": f"{allowed_mirror.base_url}/files/{disk.name}",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    job = run(worker, Job.objects.get(pk=response.data["job"]["id"]))
    assert job.state == Job.SUCCEEDED, job.error_message
    image = Image.objects.get(pk=response.data["id"])
    assert (image.status, image.store, image.source) == ("active", "http", "location")
    assert image.sha256 == hashlib.sha256(disk.read_bytes()).hexdigest()
    assert stored_files(image_store) == []

    url = f"/api/v1/images/{image.pk}/file"
    assert b"".join(admin_api.get(url).streaming_content) == disk.read_bytes()
    part = admin_api.get(url, HTTP_RANGE="bytes=5-9")
    assert b"".join(part.streaming_content) == disk.read_bytes()[5:10]

    disk.write_bytes(bytes(disk.stat().st_size))
    changed = admin_api.get(url)
    with pytest.raises(Exception, match="changed since registration"):
        b"".join(changed.streaming_content)


def test_an_import_is_audited_as_the_user_who_asked_for_it(api, member, worker, allowed_mirror, disk):
    job = run(worker, import_from(api, f"{allowed_mirror.base_url}/files/{disk.name}"))

    event = AuditEvent.objects.get(action="images.image.upload", object_id=job.object_id)
    assert (event.outcome, event.actor_name, event.interface) == (AuditEvent.SUCCESS, member.username, "job")


def test_a_registered_image_whose_server_is_gone_answers_503(
    admin_api, project, worker, allowed_mirror, disk
):
    response = admin_api.post(
        "/api/v1/images/",
        {
            "name": "m",
            "disk_format": "raw",
            "owner": str(project.pk),
            "location": f"{allowed_mirror.base_url}/files/{disk.name}",
        },
        format="json",
    )
    assert run(worker, Job.objects.get(pk=response.data["job"]["id"])).state == Job.SUCCEEDED
    disk.unlink()

    gone = admin_api.get(f"/api/v1/images/{response.data['id']}/file")

    assert (gone.status_code, gone.data["error"]["code"]) == (503, "store_unavailable")


def test_an_https_import_checks_the_certificate_against_the_url_while_connecting_to_the_checked_address(
    api, worker, files, disk, settings, tmp_path
):
    ca_file, issue = tls.authority(tmp_path)
    settings.CLOUDMGR_IMAGE_IMPORT_CA_FILE = str(ca_file)
    settings.CLOUDMGR_IMAGE_IMPORT_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with serving("127.0.0.1", files, tls=issue(["127.0.0.1"])) as server:
        trusted = run(worker, import_from(api, f"{server.base_url}/files/{disk.name}"))
    with serving("127.0.0.1", files, tls=issue(["images.example.com"])) as server:
        other_name = run(worker, import_from(api, f"{server.base_url}/files/{disk.name}"))

    assert trusted.state == Job.SUCCEEDED, trusted.error_message
    assert (other_name.state, other_name.error_code) == (Job.FAILED, "fetch_failed")
    assert "certificate verify failed" in other_name.error_message
