"""Tenant-isolation cases of the image routes (see apps/core/tests/isolation.py)."""

from apps.core.tests.isolation import Case, per_tenant
from apps.identity.tests.factories import ProjectFactory

from .factories import active_image, deactivated_image, pending_delete_image, queued_image, shared_image


def _second_project(tenants):
    return ProjectFactory(domain=tenants.other.domain)


@per_tenant("api:image-detail")
def another_tenants_queued_image(tenants):
    image = queued_image(tenants.other.project)
    return Case(image, {"pk": image.pk}, body={"name": "taken-over"})


@per_tenant("api:image-file")
def another_tenants_image_waiting_for_data(tenants):
    image = queued_image(tenants.other.project)
    return Case(image, {"image_id": image.pk})


@per_tenant("api:image-import")
def another_tenants_image_to_import_into(tenants):
    image = queued_image(tenants.other.project)
    return Case(image, {"pk": image.pk}, body={"url": "http://images.example.com/disk.img"})


@per_tenant("api:image-restore")
def another_tenants_deleted_image(tenants):
    image = pending_delete_image(tenants.other.project)
    return Case(image, {"pk": image.pk})


@per_tenant("api:image-deactivate")
def another_tenants_active_image(tenants):
    image = active_image(tenants.other.project)
    return Case(image, {"pk": image.pk})


@per_tenant("api:image-reactivate")
def another_tenants_deactivated_image(tenants):
    image = deactivated_image(tenants.other.project)
    return Case(image, {"pk": image.pk})


@per_tenant("api:image-move")
def another_tenants_image_to_move(tenants):
    image = active_image(tenants.other.project)
    return Case(image, {"pk": image.pk}, body={"project_id": str(_second_project(tenants).pk)})


@per_tenant("api:image-share")
def another_tenants_image_to_share(tenants):
    image = queued_image(tenants.other.project, visibility="shared")
    return Case(image, {"pk": image.pk}, body={"project_id": str(_second_project(tenants).pk)})


@per_tenant("api:image-members", "api:image-unshare", "api:image-accept", "api:image-reject")
def another_tenants_image_shared_inside_its_domain(tenants):
    member = _second_project(tenants)
    image = shared_image(tenants.other.project, member)
    return Case(image, {"pk": image.pk}, body={"project_id": str(member.pk)})


@per_tenant("images:image-list", "images:image-import")
def another_tenants_project_image_pages(tenants):
    project = tenants.other.project
    body = {
        "import-name": "imported",
        "import-disk_format": "raw",
        "import-visibility": "private",
        "import-url": "http://images.example.com/disk.img",
    }
    return Case(project, {"project_id": project.pk}, body=body)


@per_tenant("images:image-detail", "images:image-action")
def another_tenants_image_page(tenants):
    image = pending_delete_image(tenants.other.project)
    return Case(image, {"project_id": tenants.other.project.pk, "image_id": image.pk}, body={"op": "restore"})


@per_tenant("images:image-delete")
def another_tenants_image_to_delete_from_its_page(tenants):
    image = queued_image(tenants.other.project)
    return Case(image, {"project_id": tenants.other.project.pk, "image_id": image.pk})


@per_tenant("images:admin-image-delete")
def another_tenants_image_to_delete_in_the_admin_portal(tenants):
    image = active_image(tenants.other.project)
    return Case(image, {"image_id": image.pk})


@per_tenant("images:admin-image-purge")
def another_tenants_deleted_image_to_purge_in_the_admin_portal(tenants):
    image = pending_delete_image(tenants.other.project)
    return Case(image, {"image_id": image.pk})


@per_tenant("images:admin-image-detail", "images:admin-image-action")
def another_tenants_image_in_the_admin_portal(tenants):
    image = active_image(tenants.other.project)
    return Case(image, {"image_id": image.pk}, body={"op": "protect"})
