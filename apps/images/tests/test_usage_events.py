"""Images' usage events: stored when the data is complete, moved with the image, deleted when purged, each in
the transaction of that change; nothing for an image that never held data.

An instance's snapshot through compute's service and the host's signed upload
is metered as a snapshot: apps/compute/tests/test_usage_events_snapshot.py.
"""

import pytest
from django.db import IntegrityError, connection, transaction

from apps.core.actor import Actor
from apps.core.errors import ServiceError
from apps.identity.tests.factories import ProjectFactory
from apps.images.models import Image
from apps.images.periodic import purge_deleted
from apps.images.services import data, records
from apps.metering import events as e
from apps.metering.models import UsageEvent
from apps.quotas import services as quotas

from .factories import active_image, queued_image

SYSTEM = Actor.system("test")
CONTENT = b"x" * 5000


def events_of(image):
    return list(
        UsageEvent.objects.filter(resource_id=image.pk)
        .order_by("id")
        .values_list("resource_type", "event_type", "project_id", "size_bytes")
    )


def test_an_uploaded_image_is_metered_from_the_moment_its_data_is_stored(api, project):
    image = api.post("/api/v1/images/", {"name": "web", "disk_format": "raw"}, format="json").data
    assert UsageEvent.objects.filter(resource_id=image["id"]).count() == 0
    response = api.put(f"/api/v1/images/{image['id']}/file", CONTENT, content_type="application/octet-stream")
    assert response.status_code == 200, response.content
    stored = Image.objects.get(pk=image["id"])
    assert events_of(stored) == [(e.IMAGE, e.STORED, project.pk, len(CONTENT))]
    event = UsageEvent.objects.get(resource_id=stored.pk)
    assert (event.resource_name, event.domain_path) == ("web", project.domain.path)


def test_a_deleted_image_stays_metered_until_it_is_purged(api, project):
    image = active_image(project, content=CONTENT)
    api.delete(f"/api/v1/images/{image.pk}/")
    api.post(f"/api/v1/images/{image.pk}/restore/")
    api.delete(f"/api/v1/images/{image.pk}/")
    assert events_of(image) == [(e.IMAGE, e.STORED, project.pk, len(CONTENT))]
    assert purge_deleted(ignore_retention=True) == 1
    assert events_of(image)[1:] == [(e.IMAGE, e.DELETED, project.pk, None)]


def test_an_image_that_never_held_data_is_never_metered(api, project):
    queued = queued_image(project, name="never-filled")
    assert api.delete(f"/api/v1/images/{queued.pk}/").data["status"] == "deleted"
    refused = queued_image(project, name="not-qcow2", disk_format="qcow2")
    response = api.put(f"/api/v1/images/{refused.pk}/file", CONTENT, content_type="application/octet-stream")
    assert response.status_code == 400, response.content
    assert Image.objects.get(pk=refused.pk).status == Image.KILLED
    assert api.delete(f"/api/v1/images/{refused.pk}/").data["status"] == "deleted"
    assert UsageEvent.objects.count() == 0


def test_an_image_given_to_another_project_is_metered_there_from_the_move(admin_api, project):
    image = active_image(project, content=CONTENT)
    target = ProjectFactory()
    response = admin_api.post(
        f"/api/v1/images/{image.pk}/move/", {"project_id": str(target.pk)}, format="json"
    )
    assert response.status_code == 200, response.content
    assert events_of(image) == [
        (e.IMAGE, e.STORED, project.pk, len(CONTENT)),
        (e.IMAGE, e.STORED, target.pk, len(CONTENT)),
    ]


def test_a_move_the_target_has_no_room_for_records_nothing(admin_api, project):
    image = active_image(project, content=CONTENT)
    target = ProjectFactory()
    quotas.set_limit(SYSTEM, target, "image_storage_gb", 0)
    response = admin_api.post(
        f"/api/v1/images/{image.pk}/move/", {"project_id": str(target.pk)}, format="json"
    )
    assert response.status_code == 409
    assert events_of(image) == [(e.IMAGE, e.STORED, project.pk, len(CONTENT))]


def test_an_upload_over_the_storage_quota_is_refused_and_never_metered(api, project):
    quotas.set_limit(SYSTEM, project, "image_storage_gb", 0)
    image = api.post("/api/v1/images/", {"name": "too-big", "disk_format": "raw"}, format="json").data
    response = api.put(f"/api/v1/images/{image['id']}/file", CONTENT, content_type="application/octet-stream")
    assert response.status_code == 409
    assert Image.objects.get(pk=image["id"]).status == Image.QUEUED
    assert UsageEvent.objects.count() == 0


def refuse_usage_events():
    """The database refuses every new usage event (this test's transaction only)."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE metering_usageevent ADD CONSTRAINT refused CHECK (false) NOT VALID")


def test_data_whose_usage_event_the_database_refuses_is_never_stored(project, tmp_path):
    image = queued_image(project)
    path = tmp_path / "disk.raw"
    path.write_bytes(CONTENT)
    refuse_usage_events()
    with pytest.raises(ServiceError):
        data.store_file(SYSTEM, image, path)
    image.refresh_from_db()
    assert (image.status, image.location) == (Image.KILLED, "")
    assert quotas.claimed_by(image) == {"images": 1}


def test_a_purge_whose_usage_event_is_refused_keeps_the_image_and_its_quota(project):
    image = records.delete_image(SYSTEM, active_image(project, content=CONTENT))
    refuse_usage_events()
    with pytest.raises(IntegrityError), transaction.atomic():
        records.purge_image(SYSTEM, image)
    image.refresh_from_db()
    assert image.status == Image.PENDING_DELETE
    assert quotas.claimed_by(image) == {"images": 1, "image_storage_gb": 1}


def test_a_tenant_cannot_mark_an_image_as_a_snapshot(api, project):
    claimed = "6d1f3c1e-0000-4000-8000-000000000001"
    body = {"name": "cheap", "disk_format": "raw", "source_instance_id": claimed}
    created = api.post("/api/v1/images/", body, format="json")
    assert created.status_code == 201, created.content
    api.patch(f"/api/v1/images/{created.data['id']}/", {"source_instance_id": claimed}, format="json")
    api.put(f"/api/v1/images/{created.data['id']}/file", CONTENT, content_type="application/octet-stream")
    assert Image.objects.get(pk=created.data["id"]).source_instance_id is None
    assert events_of(Image(pk=created.data["id"])) == [(e.IMAGE, e.STORED, project.pk, len(CONTENT))]
