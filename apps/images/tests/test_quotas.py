"""Image quotas: `images` from creation, `image_storage_gb` once the data is complete; moving images."""

import pytest
from django.core.management.base import CommandError

from apps.audit.models import AuditEvent
from apps.conftest import login
from apps.core import policy
from apps.core.actor import Actor
from apps.identity.tests.commands import call
from apps.identity.tests.factories import DomainFactory, ProjectFactory, UserFactory, grant
from apps.images.inspection import ImageRefused
from apps.images.models import Image
from apps.images.services import snapshots
from apps.quotas import services as quotas
from apps.quotas.models import QuotaClaim

from . import crafted
from .conftest import stored_files
from .factories import active_image, queued_image

SYSTEM = Actor.system("test")


def used(scope, resource):
    return quotas.usage_of(scope)[resource][1]


def test_the_images_quota_refuses_one_image_too_many_naming_the_limit(api, project):
    quotas.set_limit(SYSTEM, project, "images", 1)
    queued_image(project)

    response = api.post("/api/v1/images/", {"name": "second", "disk_format": "raw"}, format="json")

    assert response.status_code == 409
    assert response.data["error"]["code"] == "quota_exceeded"
    assert response.data["error"]["details"]["resource"] == "images"
    assert Image.objects.filter(owner=project).count() == 1


def test_an_upload_bigger_than_the_storage_left_is_refused_before_reading_it(api, project, image_store):
    quotas.set_limit(SYSTEM, project, "image_storage_gb", 1)
    active_image(project)
    image = queued_image(project)

    response = api.generic(
        "PUT", f"/api/v1/images/{image.pk}/file", b"x" * 10, content_type="application/octet-stream"
    )

    assert response.status_code == 409
    assert response.data["error"]["code"] == "quota_exceeded"
    assert response.data["error"]["details"]["resource"] == "image_storage_gb"
    image.refresh_from_db()
    assert image.status == Image.QUEUED
    assert len(stored_files(image_store)) == 1


def test_a_domain_limit_applies_to_the_projects_below_it(api, project):
    quotas.set_limit(SYSTEM, project.domain, "image_storage_gb", 0)
    image = queued_image(project)

    response = api.generic(
        "PUT", f"/api/v1/images/{image.pk}/file", b"x", content_type="application/octet-stream"
    )

    assert response.status_code == 409
    assert response.data["error"]["details"] == {
        "resource": "image_storage_gb",
        "scope": "domain",
        "requested": 1,
    }


def test_a_domain_limit_refusing_a_member_names_neither_its_limit_nor_its_usage(api, project, member):
    quotas.set_limit(SYSTEM, project.domain, "images", 7)
    used_by_others = ProjectFactory(domain=project.domain)
    for n in range(7):
        queued_image(used_by_others, name=f"theirs-{n}")
    domain_admin = UserFactory(domain=project.domain)
    grant(domain_admin, policy.DOMAIN_ADMIN, project.domain)
    body = {"name": "one-too-many", "disk_format": "raw", "owner": str(project.pk)}

    refused = api.post("/api/v1/images/", body, format="json").data["error"]
    explained = login(domain_admin).post("/api/v1/images/", body, format="json").data["error"]

    assert refused == {
        "code": "quota_exceeded",
        "message": f"Quota exceeded for images: a domain above project '{project.name}' has no room for 1"
        " more.",
        "details": {"resource": "images", "scope": "domain", "requested": 1},
    }
    assert explained["message"] == refused["message"]
    assert explained["details"] == {
        **refused["details"],
        "scope_id": str(project.domain.pk),
        "scope_name": project.domain.name,
        "limit": 7,
        "used": 7,
    }
    # The member reads the project's audit events: the failures are there, as neutral as the answer.
    failures = AuditEvent.objects.using("audit").filter(action="images.image.create", outcome="failure")
    assert [(e.project_id, e.error_message) for e in failures] == [(project.pk, refused["message"])] * 2


def test_storage_counts_each_image_in_whole_gib_from_activation(project):
    queued_image(project)
    assert used(project, "image_storage_gb") == 0

    active_image(project)
    active_image(project)

    assert used(project, "images") == 3
    assert used(project, "image_storage_gb") == 2


def test_an_image_moves_to_another_project_with_its_usage(admin_api, project):
    image = active_image(project)
    target = ProjectFactory()

    response = admin_api.post(
        f"/api/v1/images/{image.pk}/move/", {"project_id": str(target.pk)}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.data["owner"] == str(target.pk)
    assert (used(project, "images"), used(project, "image_storage_gb")) == (0, 0)
    assert (used(target, "images"), used(target, "image_storage_gb")) == (1, 1)
    assert (used(project.domain, "images"), used(target.domain, "images")) == (0, 1)


def test_a_move_the_target_has_no_room_for_is_refused_naming_the_limit(admin_api, project):
    image = active_image(project)
    target = ProjectFactory(domain=DomainFactory())
    quotas.set_limit(SYSTEM, target.domain, "image_storage_gb", 0)

    response = admin_api.post(
        f"/api/v1/images/{image.pk}/move/", {"project_id": str(target.pk)}, format="json"
    )

    assert response.status_code == 409
    assert response.data["error"]["details"]["resource"] == "image_storage_gb"
    assert response.data["error"]["details"]["scope_name"] == target.domain.name
    image.refresh_from_db()
    assert image.owner_id == project.pk
    assert (used(project, "images"), used(project, "image_storage_gb")) == (1, 1)


def test_a_project_member_cannot_move_images(api, project):
    image = active_image(project)

    response = api.post(f"/api/v1/images/{image.pk}/move/", {"project_id": str(project.pk)}, format="json")

    assert response.status_code == 403
    image.refresh_from_db()
    assert image.owner_id == project.pk


def test_a_snapshot_file_becomes_an_image_counted_against_the_project(project, files):
    disk = crafted.qcow2(files, size="64M")

    image = snapshots.create_image_from_file(
        SYSTEM, owner=project, path=disk, name="snap-of-vm1", disk_format="qcow2", min_disk_gb=1
    )

    assert (image.status, image.source, image.virtual_size_bytes) == ("active", "file", 64 * 1024 * 1024)
    assert image.size_bytes == disk.stat().st_size
    assert (used(project, "images"), used(project, "image_storage_gb")) == (1, 1)


def test_a_snapshot_of_an_overlay_with_a_backing_file_is_refused(project, files):
    base = crafted.qcow2(files, name="base.qcow2")
    overlay = files / "overlay.qcow2"
    crafted.qemu_img("create", "-f", "qcow2", "-F", "qcow2", "-b", str(base), str(overlay))

    with pytest.raises(ImageRefused) as refused:
        snapshots.create_image_from_file(
            SYSTEM, owner=project, path=overlay, name="snap", disk_format="qcow2"
        )

    assert refused.value.code == "backing_file"
    assert Image.objects.get(name="snap").status == Image.KILLED
    assert used(project, "image_storage_gb") == 0


def test_recalcquota_reports_an_image_whose_data_holds_no_storage_claim_and_fix_records_it(project):
    image = active_image(project, content=b"x" * 10)
    QuotaClaim.objects.filter(holder_id=str(image.pk), resource="image_storage_gb").delete()

    with pytest.raises(CommandError, match="1 unheld claim"):
        call("recalcquota")
    printed = call("recalcquota", "--fix")

    assert f"unheld claim: images.image:{image.pk} holds 0 image_storage_gb but should hold 1" in printed
    assert quotas.claimed_by(image) == {"images": 1, "image_storage_gb": 1}


def test_recalcquota_reports_the_claims_of_a_purged_image_as_orphans(project):
    image = active_image(project)
    Image.objects.filter(pk=image.pk).update(status=Image.DELETED)

    with pytest.raises(CommandError, match="2 orphan claim"):
        call("recalcquota")
    call("recalcquota", "--fix")

    assert quotas.claimed_by(image) == {}
    assert used(project, "images") == 0
