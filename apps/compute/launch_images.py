"""The image an instance is launched from: found as the caller sees it, and checked against the offering."""

from agent.protocol import DISK_FORMATS
from apps.core.errors import Conflict, ValidationFailed
from apps.images.models import Image, ImageMember
from apps.images.selectors import images_for
from apps.quotas.resources import GIB

from .scheduler.request import ImageTraits

# What the formats an instance cannot boot from are, in words; kernels and ramdisks boot along with
# a machine image that names them.
KINDS = {
    "aki": "a kernel (aki)",
    "ari": "a ramdisk (ari)",
    "iso": "an installation disc (iso)",
    "vdi": "a VirtualBox disk (vdi)",
    "vhd": "a Hyper-V disk (vhd)",
}


def bootable(images):
    """Only the images an instance can boot from: never a kernel or ramdisk on its own."""
    return images.filter(disk_format__in=DISK_FORMATS)


def usable_by(image, project):
    """The project's own image, a public one, or one shared with the project (and accepted)."""
    if image.owner_id == project.pk or image.visibility == Image.PUBLIC:
        return True
    return (
        image.visibility == Image.SHARED
        and ImageMember.objects.filter(image=image, project=project, status=ImageMember.ACCEPTED).exists()
    )


def launch_image(actor, image_id, project, offering):
    """The image for a launch in `project` with `offering`, or a ServiceError saying what is wrong."""
    image = images_for(actor.principal).filter(pk=image_id).first()
    if image is None or not usable_by(image, project):
        raise ValidationFailed("No such image.", code="image_not_found", details={"image_id": str(image_id)})
    if image.status != Image.ACTIVE or image.deactivated:
        raise Conflict(
            f"Image {image} is not active.", code="image_not_active", details={"status": image.status}
        )
    if image.disk_format not in DISK_FORMATS:
        raise ValidationFailed(
            f"Image {image} is {KINDS.get(image.disk_format, f'a {image.disk_format} image')}, which cannot"
            f" boot an instance: choose a disk image ({', '.join(DISK_FORMATS)}).",
            code="image_not_bootable",
        )
    _check_fits(image, offering)
    return image


def _check_fits(image, offering):
    root_bytes = offering.root_disk_gb * GIB
    problems = {}
    if image.min_ram_mb > offering.ram_mb:
        problems["ram_mb"] = {"image_needs": image.min_ram_mb, "offering_has": offering.ram_mb}
    if image.min_disk_gb > offering.root_disk_gb:
        problems["root_disk_gb"] = {"image_needs": image.min_disk_gb, "offering_has": offering.root_disk_gb}
    elif (image.virtual_size_bytes or 0) > root_bytes:
        problems["root_disk_gb"] = {
            "image_virtual_size_bytes": image.virtual_size_bytes,
            "offering_has": offering.root_disk_gb,
        }
    if problems:
        raise ValidationFailed(
            f"Offering {offering} is too small for image {image}.",
            code="offering_too_small",
            details=problems,
        )


def traits(image):
    return ImageTraits(
        architecture=image.architecture, hypervisor_type=image.hypervisor_type, isolated=image.isolated
    )
