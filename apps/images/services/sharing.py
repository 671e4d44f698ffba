"""Sharing an image with other projects: the owner offers, the member project accepts or rejects.

The owner names the member project by id, and is told nothing about it: the
answer is the same whether it exists, is another tenant's or was never created.
"""

from apps.audit.recorder import audited
from apps.core.errors import Conflict, NotFound, ValidationFailed
from apps.identity.services.common import require

from ..models import Image, ImageMember
from .common import locked, not_in
from .records import GONE


def share(actor, image, project_id):
    action = "images.image.share"
    with audited(actor, action, target=image.target(), obj=image) as op:
        require(actor, action, image.target(), f"You may not share image {image}.")
        image = locked(image)
        not_in(image, GONE, "it cannot be shared")
        if image.visibility != Image.SHARED:
            raise Conflict(
                "Set the image's visibility to shared before adding members.", code="image_not_shared"
            )
        if str(project_id) == str(image.owner_id):
            raise ValidationFailed("An image is not shared with its own project.", code="own_project")
        member, created = ImageMember.objects.get_or_create(image=image, project_id=project_id)
        if not created:
            raise Conflict(
                f"Image {image} is already shared with project {project_id}.", code="already_member"
            )
        op.details = {"project_id": str(project_id)}
    return member


def unshare(actor, image, project_id):
    action = "images.image.share"
    with audited(actor, action, target=image.target(), obj=image) as op:
        require(actor, action, image.target(), f"You may not change who shares image {image}.")
        deleted, _ = ImageMember.objects.filter(image=image, project_id=project_id).delete()
        if not deleted:
            raise NotFound(f"Image {image} is not shared with that project.")
        op.details = {"project_id": str(project_id), "removed": True}


def answer(actor, image, project, status):
    """The member project accepts (lists the image) or rejects (hides it) a share."""
    action = "images.member.update"
    with audited(actor, action, target=project.target(), obj=image) as op:
        require(actor, action, project.target(), f"You may not answer shares for project {project}.")
        member = ImageMember.objects.select_for_update().filter(image=image, project=project).first()
        if member is None:
            raise NotFound(f"Image {image} is not shared with that project.")
        op.details = {"project_id": str(project.pk), "status": status}
        member.status = status
        member.save(update_fields=["status", "updated_at"])
    return member
