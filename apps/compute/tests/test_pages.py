"""Dashboard and admin pages of compute, through Django's client: what each page offers and what it does."""

import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.test import Client
from django.urls import reverse

from apps.compute import states
from apps.compute.models import Instance, Keypair
from apps.compute.services.keypairs import create_keypair
from apps.core.actor import Actor
from apps.identity.tests.factories import ProjectFactory
from apps.infrastructure.tests.factories import HostFactory
from apps.jobs.models import Job

from .factories import InstanceFactory

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")
PUBLIC_KEY = (
    ed25519.Ed25519PrivateKey.generate()
    .public_key()
    .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    .decode()
)


@pytest.fixture
def web(member):
    client = Client()
    client.force_login(member)
    return client


def url(name, project, *more):
    return reverse(f"compute:{name}", args=[project.pk, *more])


def launch(web, project, **fields):
    return web.post(url("instance-launch", project), fields)


def test_the_launch_wizard_offers_the_projects_images_offerings_keypairs_and_groups(
    web, project, offering, image
):
    create_keypair(SYSTEM, project, name="laptop", public_key=PUBLIC_KEY)
    other = ProjectFactory()
    create_keypair(SYSTEM, other, name="someone-elses-key", public_key=PUBLIC_KEY)
    page = web.get(url("instance-launch", project)).content.decode()
    assert "debian" in page
    assert "m1.small: 1 vCPU, 1024 MB RAM, 10 GB disk" in page
    assert "laptop" in page
    assert "someone-elses-key" not in page
    assert 'name="user_data"' in page
    assert 'name="affinity_group_id"' in page


def test_launching_goes_to_the_instance_page_showing_the_spawn_job(web, project, offering, image, zone):
    HostFactory(name="kvm-01", zone=zone)
    response = launch(
        web,
        project,
        name="web-1",
        image_id=image.pk,
        offering_id=offering.pk,
        user_data="#!/bin/sh\r\necho hi\r\n",
    )
    instance = Instance.objects.get(name="web-1")
    assert response.status_code == 302
    assert response["Location"] == url("instance-detail", project, instance.pk)
    assert instance.user_data.tobytes() == b"#!/bin/sh\necho hi\n"
    job = Job.objects.get(object_id=str(instance.pk))
    page = web.get(response["Location"]).content.decode()
    assert f'id="job-{job.pk}"' in page
    assert '<span class="job-kind">Launch</span>' in page
    assert 'data-task-state="spawning"' in page
    # The state polls itself while the spawn is under way; the only action offered is delete, apart.
    assert url("instance-state", project, instance.pk) in page
    assert re.findall(r'name="op" value="(\w+)"', page) == []
    assert f'href="{url("instance-delete", project, instance.pk)}"' in page


def test_a_refused_launch_says_why_next_to_the_field(web, project, offering, image):
    response = launch(web, project, name="x" * 64, image_id=image.pk, offering_id=offering.pk)
    assert response.status_code == 400
    assert re.search(r'id="id_name_error">[^<]*at most 63', response.content.decode())
    response = launch(web, project, name="web", offering_id=offering.pk)
    assert response.status_code == 400
    assert 'id="id_image_id_error"' in response.content.decode()
    assert not Instance.objects.exists()


def test_a_launch_with_no_host_to_take_it_says_so_and_leaves_nothing(web, project, offering, image):
    response = launch(web, project, name="web", image_id=image.pk, offering_id=offering.pk)
    assert response.status_code == 409
    assert 'class="form-errors"' in response.content.decode()
    assert not Instance.objects.exists()
    assert not Job.objects.exists()


def test_the_list_polls_only_while_an_instance_is_in_an_action(web, project):
    busy = InstanceFactory(project=project, name="busy", vm_state=states.BUILDING, task_state=states.SPAWNING)
    InstanceFactory(project=project, name="idle")
    InstanceFactory(project=ProjectFactory(), name="not-ours")
    page = web.get(url("instance-list", project)).content.decode()
    assert "busy" in page
    assert "idle" in page
    assert "not-ours" not in page
    assert 'hx-trigger="every 2s"' in page
    Instance.objects.filter(pk=busy.pk).update(vm_state=states.ACTIVE, task_state=None)
    rows = web.get(url("instance-rows", project)).content.decode()
    assert rows.lstrip().startswith("<tbody")
    assert "hx-trigger" not in rows
    assert rows.count('data-vm-state="active"') == 2


@pytest.mark.parametrize(
    ("vm_state", "offered"),
    [
        (states.ACTIVE, ["stop", "reboot", "reboot_hard", "pause", "suspend"]),
        (states.STOPPED, ["start", "reboot_hard"]),
        (states.PAUSED, ["stop", "reboot_hard", "unpause"]),
        (states.SUSPENDED, ["stop", "reboot_hard", "resume"]),
    ],
)
def test_the_instance_page_offers_only_the_actions_its_state_allows(web, project, vm_state, offered):
    instance = InstanceFactory(project=project, vm_state=vm_state)
    page = web.get(url("instance-detail", project, instance.pk)).content.decode()
    assert re.findall(r'name="op" value="(\w+)"', page) == offered
    # Delete is offered in every resting state, apart from the others, behind a confirmation.
    assert re.search(
        rf'class="danger-zone">.*href="{url("instance-delete", project, instance.pk)}"', page, re.S
    )
    assert (url("instance-rebuild", project, instance.pk) in page) == (
        vm_state in (states.ACTIVE, states.STOPPED)
    )


def test_an_action_starts_its_job_and_the_page_shows_its_progress(web, project):
    instance = InstanceFactory(project=project, name="web")
    response = web.post(url("instance-action", project, instance.pk), {"op": "stop"})
    assert response.status_code == 302
    job = Job.objects.get(object_id=str(instance.pk), kind="compute.instance.stop")
    assert job.payload["graceful_timeout_seconds"] > 0
    assert "Stop: started on web" in web.get(response["Location"]).content.decode()
    page = web.get(response["Location"]).content.decode()
    assert f'id="job-{job.pk}"' in page
    assert 'data-task-state="powering-off"' in page
    assert re.findall(r'name="op" value="(\w+)"', page) == []


def test_an_action_the_state_no_longer_allows_is_refused_with_a_message(web, project):
    instance = InstanceFactory(project=project, name="web")
    response = web.post(url("instance-action", project, instance.pk), {"op": "start"}, follow=True)
    assert "cannot start while it is active" in response.content.decode()
    assert not Job.objects.exists()
    assert web.post(url("instance-action", project, instance.pk), {"op": "format-disk"}).status_code == 400


def test_a_rebuild_needs_an_image_the_project_may_use(web, project, image):
    instance = InstanceFactory(project=project, name="web")
    response = web.post(url("instance-rebuild", project, instance.pk), {"rebuild-image_id": ""})
    assert response.status_code == 400
    assert 'id="id_rebuild-image_id_error"' in response.content.decode()
    unconfirmed = web.post(url("instance-rebuild", project, instance.pk), {"rebuild-image_id": image.pk})
    assert unconfirmed.status_code == 400
    assert "root disk&#x27;s contents may be lost" in unconfirmed.content.decode()
    response = web.post(
        url("instance-rebuild", project, instance.pk), {"rebuild-image_id": image.pk, "rebuild-confirm": "on"}
    )
    assert response.status_code == 302
    assert Job.objects.filter(object_id=str(instance.pk), kind="compute.instance.rebuild").exists()


def test_the_console_page_asks_the_host_and_shows_the_job_while_it_has_not_answered(web, project, settings):
    settings.CLOUDMGR_CONSOLE_LOG_WAIT_SECONDS = 0
    instance = InstanceFactory(project=project, name="web")
    assert "Fetch the console log" in web.get(url("instance-console", project, instance.pk)).content.decode()
    page = web.post(url("instance-console", project, instance.pk)).content.decode()
    job = Job.objects.get(kind="compute.instance.console_log")
    assert f'id="job-{job.pk}"' in page
    assert "has not answered yet" in page
    assert f"?job={job.pk}" in page


def test_the_console_page_shows_the_text_the_host_sent(web, project, settings):
    settings.CLOUDMGR_CONSOLE_LOG_WAIT_SECONDS = 0
    instance = InstanceFactory(project=project, name="web")
    web.post(url("instance-console", project, instance.pk))
    job = Job.objects.get(kind="compute.instance.console_log")
    # As the host's report leaves it (the report path itself is covered by test_end_to_end).
    Job.objects.filter(pk=job.pk).update(
        state=Job.SUCCEEDED,
        progress=100,
        result={"text": "login: <root>", "size_bytes": 13, "truncated": False},
    )
    page = web.get(url("instance-console", project, instance.pk) + f"?job={job.pk}").content.decode()
    assert "login: &lt;root&gt;" in page
    assert "13 bytes" in page
    other = InstanceFactory(project=project, name="other")
    assert web.get(url("instance-console", project, other.pk) + f"?job={job.pk}").status_code == 404
    assert web.get(url("instance-console", project, other.pk) + "?job=nonsense").status_code == 404


def test_a_generated_private_key_is_shown_once(web, project):
    response = web.post(url("keypair-create", project), {"name": "new", "key_type": "ed25519"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "BEGIN OPENSSH PRIVATE KEY" in page
    keypair = Keypair.objects.get(name="new")
    assert keypair.fingerprint in page
    assert "BEGIN OPENSSH PRIVATE KEY" not in web.get(url("keypair-list", project)).content.decode()


def test_an_imported_key_is_listed_and_a_bad_one_is_refused_at_its_field(web, project):
    response = web.post(
        url("keypair-create", project), {"name": "laptop", "public_key": PUBLIC_KEY, "key_type": "ed25519"}
    )
    assert response.status_code == 302
    assert "laptop" in web.get(response["Location"]).content.decode()
    response = web.post(
        url("keypair-create", project),
        {"name": "bad", "public_key": "ssh-rsa nonsense", "key_type": "ed25519"},
    )
    assert response.status_code == 400
    assert re.search(r'id="id_public_key_error">This is not an OpenSSH public key', response.content.decode())
    response = web.post(
        url("keypair-create", project), {"name": "laptop", "public_key": PUBLIC_KEY, "key_type": "ed25519"}
    )
    assert response.status_code == 409
    assert 'id="id_name_error"' in response.content.decode()


def test_a_keypair_is_deleted_from_its_page(web, project):
    keypair, _ = create_keypair(SYSTEM, project, name="laptop", public_key=PUBLIC_KEY)
    response = web.post(url("keypair-delete", project, keypair.pk))
    assert response.status_code == 302
    assert not Keypair.objects.exists()


def test_another_projects_instance_is_a_404(web, project):
    other = InstanceFactory(project=ProjectFactory(), name="not-ours")
    assert web.get(url("instance-detail", project, other.pk)).status_code == 404
    assert web.post(url("instance-action", project, other.pk), {"op": "stop"}).status_code == 404
    assert not Job.objects.exists()


def test_the_admin_portal_lists_instances_of_every_tenant_for_the_cloud_admin(cloud_admin, project, member):
    InstanceFactory(project=project, name="tenant-a-vm")
    InstanceFactory(project=ProjectFactory(), name="tenant-b-vm")
    InstanceFactory(project=project, name="gone", vm_state=states.DELETED)
    admin = Client()
    admin.force_login(cloud_admin)
    page = admin.get("/admin-portal/instances/").content.decode()
    assert "tenant-a-vm" in page
    assert "tenant-b-vm" in page
    assert "gone" not in page
    assert "gone" in admin.get("/admin-portal/instances/?vm_state=deleted").content.decode()
    overview = admin.get("/admin-portal/").content.decode()
    assert "All instances" in overview
    tenant = Client()
    tenant.force_login(member)
    assert tenant.get("/admin-portal/instances/").status_code == 404


def test_the_dashboard_has_instance_and_keypair_entries_and_a_card(web, project):
    InstanceFactory(project=project, name="web")
    page = web.get(f"/dashboard/projects/{project.pk}/").content.decode()
    assert url("instance-list", project) in page
    assert url("keypair-list", project) in page
    assert "In an action" in page


def test_the_api_token_of_a_member_sees_the_instance_a_page_launched(
    api, web, project, offering, image, zone
):
    HostFactory(zone=zone)
    launch(web, project, name="web-1", image_id=image.pk, offering_id=offering.pk)
    listed = api.get("/api/v1/instances/").data
    assert [i["name"] for i in listed["results"]] == ["web-1"]
