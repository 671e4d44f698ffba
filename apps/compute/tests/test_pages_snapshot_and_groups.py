"""The instance page's snapshot form and the affinity groups page, through Django's client.

The snapshot's real path (agent, upload, report) runs in test_browser_snapshot.py;
here the end of a snapshot is set in the database as the host's report leaves it.
"""

import re

import pytest
from django.urls import reverse

from apps.compute import states
from apps.compute.models import AffinityGroup
from apps.compute.services.affinity import create_affinity_group
from apps.core import policy
from apps.core.actor import Actor
from apps.identity.tests.factories import ProjectFactory, UserFactory, grant
from apps.images.models import Image
from apps.infrastructure.tests.factories import HostFactory
from apps.infrastructure.tests.test_pages import signed_in
from apps.jobs.models import Job
from apps.quotas import services as quotas

from .factories import InstanceFactory
from .test_pages import url

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


@pytest.fixture
def web(member):
    return signed_in(member)


def snapshot(web, instance, name):
    return web.post(url("instance-snapshot", instance.project, instance.pk), {"snapshot-name": name})


def test_the_snapshot_form_is_offered_only_in_the_states_the_state_table_allows(web, project):
    for vm_state, task_state, offered in [
        (states.ACTIVE, None, True),
        (states.STOPPED, None, True),
        (states.SUSPENDED, None, True),
        (states.ERROR, None, False),
        (states.ACTIVE, states.REBOOTING, False),
    ]:
        instance = InstanceFactory(project=project, vm_state=vm_state, task_state=task_state)
        page = web.get(url("instance-detail", project, instance.pk)).content.decode()
        assert (url("instance-snapshot", project, instance.pk) in page) == offered, (vm_state, task_state)
        assert offered == states.allows("snapshot", vm_state, task_state)


def test_a_snapshot_shows_its_job_then_links_to_the_image_it_made(web, project, image):
    instance = InstanceFactory(project=project, name="web", image=image)
    response = snapshot(web, instance, "golden")
    assert response.status_code == 302
    assert response["Location"] == url("instance-detail", project, instance.pk)
    job = Job.objects.get(object_id=str(instance.pk), kind="compute.instance.snapshot")
    made = Image.objects.get(pk=job.payload["image_id"])
    assert (made.name, made.status, made.owner_id) == ("golden", Image.QUEUED, project.pk)
    page = web.get(response["Location"]).content.decode()
    assert "Snapshot of web into image golden started" in page
    assert f'id="job-{job.pk}"' in page
    assert "Saving into image golden" in page
    # Polled while the snapshot runs; no second snapshot is offered meanwhile.
    assert url("instance-state", project, instance.pk) in page
    assert url("instance-snapshot", project, instance.pk) not in page

    # As the host's upload and report leave it.
    Image.objects.filter(pk=made.pk).update(status=Image.ACTIVE, size_bytes=1024, location="file:///golden")
    quotas.claim(project, {"image_storage_gb": 1}, made)
    Job.objects.filter(pk=job.pk).update(state=Job.SUCCEEDED, progress=100)
    type(instance).objects.filter(pk=instance.pk).update(task_state=None)
    fragment = web.get(url("instance-state", project, instance.pk)).content.decode()
    image_url = reverse("images:image-detail", args=[project.pk, made.pk])
    assert re.search(rf'<a href="{image_url}">Image golden</a>', fragment)
    assert "hx-trigger" not in fragment
    assert url("instance-snapshot", project, instance.pk) in fragment


def test_a_refused_snapshot_says_why_and_leaves_the_instance_idle(web, project):
    instance = InstanceFactory(project=project, name="web")
    response = snapshot(web, instance, "  ")
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_snapshot-name_error"' in page
    assert re.search(r'<input[^>]*name="snapshot-name"[^>]*autofocus', page)

    quotas.set_limit(SYSTEM, project, "images", quotas.usage_of(project)["images"][1])
    response = snapshot(web, instance, "one-too-many")
    assert response.status_code == 409
    assert re.search(
        r'class="form-errors" role="alert"><p>Quota exceeded for images', response.content.decode()
    )
    instance.refresh_from_db()
    assert (instance.task_state, Image.objects.count(), Job.objects.count()) == (None, 0, 0)


def test_a_snapshot_of_an_instance_in_an_action_is_refused_with_the_state_it_is_in(web, project):
    instance = InstanceFactory(project=project, name="web", task_state=states.REBOOTING)
    response = snapshot(web, instance, "golden")
    assert response.status_code == 409
    assert "cannot snapshot while it is active (rebooting)" in response.content.decode()
    assert not Image.objects.exists()


def test_the_groups_page_lists_policies_and_members_of_this_project_only(web, project):
    group = create_affinity_group(SYSTEM, project, name="db-pair", policy=AffinityGroup.ANTI_AFFINITY)
    InstanceFactory(project=project, name="db-1", affinity_group=group)
    InstanceFactory(project=project, name="db-gone", affinity_group=group, vm_state=states.DELETED)
    create_affinity_group(SYSTEM, ProjectFactory(), name="not-ours", policy=AffinityGroup.AFFINITY)
    page = web.get(url("affinity-group-list", project)).content.decode()
    row = re.search(r'data-group="db-pair">(.*?)</tr>', page, re.S).group(1)
    assert "anti-affinity" in row
    assert re.findall(r">(db-[\w-]+)</a>", row) == ["db-1"]
    assert "not-ours" not in page
    dashboard = web.get(f"/dashboard/projects/{project.pk}/").content.decode()
    assert url("affinity-group-list", project) in dashboard


def test_a_group_is_created_from_the_page_and_a_duplicate_name_is_refused_at_its_field(web, project):
    response = web.post(url("affinity-group-create", project), {"name": "web", "policy": "affinity"})
    assert response.status_code == 302
    assert "Affinity group web (affinity) created" in web.get(response["Location"]).content.decode()
    response = web.post(url("affinity-group-create", project), {"name": "web", "policy": "anti-affinity"})
    assert response.status_code == 409
    assert re.search(r'id="id_name_error">An affinity group named', response.content.decode())
    response = web.post(url("affinity-group-create", project), {"name": "other", "policy": "nearby"})
    assert response.status_code == 400
    assert 'id="id_policy_error"' in response.content.decode()
    assert list(AffinityGroup.objects.values_list("name", "policy")) == [("web", "affinity")]


def test_a_group_is_deleted_after_confirmation_and_one_with_instances_is_kept_with_the_reason(web, project):
    empty = create_affinity_group(SYSTEM, project, name="empty", policy=AffinityGroup.AFFINITY)
    used = create_affinity_group(SYSTEM, project, name="used", policy=AffinityGroup.AFFINITY)
    InstanceFactory(project=project, name="member", affinity_group=used)
    confirm = web.get(url("affinity-group-delete", project, used.pk)).content.decode()
    assert "Delete affinity group used?" in confirm
    assert "It still holds 1 instance" in confirm
    response = web.post(url("affinity-group-delete", project, used.pk), follow=True)
    assert "Affinity group used still has instances." in response.content.decode()
    assert web.post(url("affinity-group-delete", project, empty.pk)).status_code == 302
    assert list(AffinityGroup.objects.values_list("name", flat=True)) == ["used"]


def test_a_project_reader_sees_the_groups_but_no_form_and_cannot_create_or_delete(project):
    reader = UserFactory(domain=project.domain)
    grant(reader, policy.PROJECT_READER, project)
    group = create_affinity_group(SYSTEM, project, name="kept", policy=AffinityGroup.AFFINITY)
    as_reader = signed_in(reader)
    page = as_reader.get(url("affinity-group-list", project)).content.decode()
    assert "kept" in page
    assert url("affinity-group-create", project) not in page
    assert url("affinity-group-delete", project, group.pk) not in page
    created = as_reader.post(url("affinity-group-create", project), {"name": "x", "policy": "affinity"})
    assert created.status_code == 403
    assert as_reader.post(url("affinity-group-delete", project, group.pk)).status_code == 403
    assert AffinityGroup.objects.count() == 1


def test_the_admin_instance_list_narrows_to_one_host(cloud_admin):
    host = HostFactory(name="kvm-07")
    InstanceFactory(name="on-kvm-07", host=host)
    InstanceFactory(name="elsewhere")
    page = signed_in(cloud_admin).get("/admin-portal/instances/?host=kvm-07").content.decode()
    assert "on-kvm-07" in page
    assert "elsewhere" not in page
