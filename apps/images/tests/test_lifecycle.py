"""Deleting, restoring, purging, protecting, deactivating images; kernels and ramdisks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.conftest import login
from apps.core import policy
from apps.identity.tests.factories import UserFactory, grant
from apps.images.models import Image
from apps.images.periodic import purge_deleted
from apps.quotas import services as quotas

from .conftest import stored_files
from .factories import active_image, queued_image


def usage(project):
    return {name: quotas.usage_of(project)[name][1] for name in ("images", "image_storage_gb")}


def test_a_deleted_image_is_recoverable_until_restored(api, project, image_store):
    image = active_image(project)

    deleted = api.delete(f"/api/v1/images/{image.pk}/")

    assert deleted.status_code == 200
    assert deleted.data["status"] == "pending_delete"
    assert deleted.data["purge_after"] is not None
    assert api.get(f"/api/v1/images/{image.pk}/file").data["error"]["code"] == "image_not_active"
    assert usage(project) == {"images": 1, "image_storage_gb": 1}
    restored = api.post(f"/api/v1/images/{image.pk}/restore/")
    assert restored.data["status"] == "active"
    assert b"".join(api.get(f"/api/v1/images/{image.pk}/file").streaming_content) == (
        b"cloudmgr test image data\n"
    )


def test_a_pending_delete_image_is_purged_after_its_retention_keeping_its_metadata(
    api, project, image_store, settings
):
    settings.CLOUDMGR_IMAGE_PENDING_DELETE_SECONDS = 60
    image = active_image(project)
    api.delete(f"/api/v1/images/{image.pk}/")
    now = timezone.now()

    assert purge_deleted(now=now + timedelta(seconds=30)) == 0
    assert purge_deleted(now=now + timedelta(seconds=61)) == 1

    image.refresh_from_db()
    assert (image.status, image.location, image.name) == (Image.DELETED, "", "an-image")
    assert len(image.sha256) == 64
    assert stored_files(image_store) == []
    assert usage(project) == {"images": 0, "image_storage_gb": 0}
    assert api.post(f"/api/v1/images/{image.pk}/restore/").status_code == 409


def test_deleted_images_are_listed_only_when_asked_for(api, project):
    kept, gone = queued_image(project, name="kept"), queued_image(project, name="gone")
    api.delete(f"/api/v1/images/{gone.pk}/")

    listed = [i["id"] for i in api.get("/api/v1/images/").data["results"]]
    deleted = [i["id"] for i in api.get("/api/v1/images/?status=deleted").data["results"]]

    assert listed == [str(kept.pk)]
    assert deleted == [str(gone.pk)]


def test_an_image_without_data_is_deleted_at_once_and_its_quota_released(api, project):
    image = queued_image(project)
    assert usage(project) == {"images": 1, "image_storage_gb": 0}

    response = api.delete(f"/api/v1/images/{image.pk}/")

    assert response.data["status"] == "deleted"
    assert usage(project) == {"images": 0, "image_storage_gb": 0}


def test_a_protected_image_cannot_be_deleted_until_unprotected(api, project):
    image = active_image(project, protected=True)

    refused = api.delete(f"/api/v1/images/{image.pk}/")

    assert refused.status_code == 409
    assert refused.data["error"]["code"] == "image_protected"
    api.patch(f"/api/v1/images/{image.pk}/", {"protected": False}, format="json")
    assert api.delete(f"/api/v1/images/{image.pk}/").data["status"] == "pending_delete"


def test_a_project_that_owns_images_cannot_be_deleted(admin_api, project):
    queued_image(project)

    response = admin_api.delete(f"/api/v1/projects/{project.pk}/")

    assert response.status_code == 409
    assert response.data["error"]["details"]["owned"]["images"] == 1


def test_a_machine_image_refers_to_its_kernel_and_ramdisk(api, project):
    kernel = active_image(project, name="vmlinuz", disk_format="aki")
    ramdisk = active_image(project, name="initrd", disk_format="ari")

    response = api.post(
        "/api/v1/images/",
        {
            "name": "machine",
            "disk_format": "ami",
            "container_format": "ami",
            "kernel_id": str(kernel.pk),
            "ramdisk_id": str(ramdisk.pk),
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert (response.data["kernel_id"], response.data["ramdisk_id"]) == (str(kernel.pk), str(ramdisk.pk))
    in_use = api.delete(f"/api/v1/images/{kernel.pk}/")
    assert (in_use.status_code, in_use.data["error"]["code"]) == (409, "image_in_use")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"disk_format": "ami", "container_format": "bare"}, "amazon_format_mismatch"),
        ({"disk_format": "raw", "container_format": "aki"}, "amazon_format_mismatch"),
        ({"disk_format": "ami", "container_format": "ami", "kernel": "ramdisk"}, "bad_reference"),
        ({"disk_format": "aki", "container_format": "aki", "kernel": "kernel"}, "bad_reference"),
        ({"disk_format": "raw", "architecture": "x86 64"}, "bad_property"),
    ],
)
def test_inconsistent_formats_and_references_are_refused(api, project, fields, code):
    refs = {
        "kernel": active_image(project, disk_format="aki"),
        "ramdisk": active_image(project, disk_format="ari"),
    }
    body = {"name": "x", **fields}
    if "kernel" in body:
        body["kernel_id"] = str(refs[body.pop("kernel")].pk)

    response = api.post("/api/v1/images/", body, format="json")

    assert response.status_code == 400, response.content
    assert response.data["error"]["code"] == code


def test_a_deactivated_image_can_be_read_by_its_operators_only(api, project):
    image = active_image(project)
    domain_admin = UserFactory(domain=project.domain)
    grant(domain_admin, policy.DOMAIN_ADMIN, project.domain)
    operator = login(domain_admin)
    assert api.post(f"/api/v1/images/{image.pk}/deactivate/").status_code == 403

    assert operator.post(f"/api/v1/images/{image.pk}/deactivate/").data["deactivated"] is True

    refused = api.get(f"/api/v1/images/{image.pk}/file")
    assert (refused.status_code, refused.data["error"]["code"]) == (403, "image_deactivated")
    assert operator.get(f"/api/v1/images/{image.pk}/file").status_code == 200
    operator.post(f"/api/v1/images/{image.pk}/reactivate/")
    assert api.get(f"/api/v1/images/{image.pk}/file").status_code == 200
