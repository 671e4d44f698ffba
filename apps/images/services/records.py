"""Image records: create, change, delete (pending_delete), restore, purge, deactivate, move.

Quota: an image holds `images: 1` from creation to purge, and
`image_storage_gb` (its size in whole GiB, rounded up) from the moment its
data is complete (apps/images/services/data.py) to purge. Purging releases
both in the transaction that marks it deleted.
"""

import logging
import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.audit.recorder import audited
from apps.core.errors import Conflict, ValidationFailed
from apps.core.tree import PLATFORM
from apps.identity.services.common import require
from apps.quotas import services as quotas

from .. import formats, states, usage
from ..models import Image
from ..stores import StoreError, get_store
from .common import COUNT, WITH_DATA, locked, not_in

log = logging.getLogger(__name__)

_PROPERTY_VALUE = re.compile(r"^[A-Za-z0-9_.-]{0,32}$")
TEXT_PROPERTIES = ("architecture", "hypervisor_type", "os_type")
SIMPLE_PROPERTIES = (*TEXT_PROPERTIES, "min_ram_mb", "min_disk_gb", "isolated", "protected", "name")
GONE = (Image.DELETED, Image.PENDING_DELETE)


def _check_properties(values):
    for field in TEXT_PROPERTIES:
        if field in values and not _PROPERTY_VALUE.match(values[field] or ""):
            raise ValidationFailed(
                f"{field} is up to 32 letters, digits, '.', '_' or '-'.", code="bad_property"
            )
    for field in ("min_ram_mb", "min_disk_gb"):
        if field in values and (values[field] is None or int(values[field]) < 0):
            raise ValidationFailed(f"{field} is a whole number from 0 up.", code="bad_property")
    if "name" in values and not (values["name"] or "").strip():
        raise ValidationFailed("An image needs a name.", code="bad_property")


def _check_visibility(actor, visibility, current=None):
    if visibility not in (Image.PUBLIC, Image.PRIVATE, Image.SHARED):
        raise ValidationFailed(f"Unknown visibility {visibility!r}.", code="bad_visibility")
    if Image.PUBLIC in (visibility, current) and visibility != current:
        require(actor, "images.image.publicize", PLATFORM, "Only cloud administrators publish images.")


def _check_reference(image_format, ref, wanted_format, role):
    if ref is None:
        return
    if image_format in (formats.AKI, formats.ARI):
        raise ValidationFailed(f"A {image_format} image cannot have a {role}.", code="bad_reference")
    if ref.disk_format != wanted_format:
        raise ValidationFailed(f"The {role} must be an {wanted_format} image.", code="bad_reference")
    if ref.status in (*GONE, Image.KILLED):
        raise ValidationFailed(f"The {role} image is {ref.status}.", code="bad_reference")


def create_image(
    actor,
    *,
    owner,
    name,
    disk_format,
    container_format=formats.BARE,
    visibility=Image.PRIVATE,
    kernel=None,
    ramdisk=None,
    **properties,
):
    """Record a queued image (no data yet) and claim one `images` for it."""
    action = "images.image.create"
    with audited(actor, action, target=owner.target()) as op:
        require(actor, action, owner.target(), f"You may not create images in project {owner}.")
        formats.validate_formats(disk_format, container_format)
        _check_visibility(actor, visibility)
        _check_properties({"name": name, **properties})
        _check_reference(disk_format, kernel, formats.AKI, "kernel")
        _check_reference(disk_format, ramdisk, formats.ARI, "ramdisk")
        image = Image(
            owner=owner,
            name=name.strip(),
            disk_format=disk_format,
            container_format=container_format,
            visibility=visibility,
            kernel=kernel,
            ramdisk=ramdisk,
            created_by_id=actor.user.pk if actor.user is not None else None,
            **properties,
        )
        op.object = image
        image.save()
        quotas.claim(owner, {COUNT: 1}, image, reader=actor.principal)
    return image


def update_image(actor, image, **changes):
    """Change names, properties, flags, visibility; formats only while no data was sent."""
    action = "images.image.update"
    with audited(actor, action, target=image.target(), obj=image) as op:
        require(actor, action, image.target(), f"You may not change image {image}.")
        image = locked(image)
        not_in(image, GONE, "it cannot be changed")
        _check_properties(changes)
        if "visibility" in changes:
            _check_visibility(actor, changes["visibility"], image.visibility)
        if {"disk_format", "container_format"} & changes.keys():
            if image.status != Image.QUEUED:
                raise Conflict("Formats can only change before data is uploaded.", code="image_has_data")
            formats.validate_formats(
                changes.get("disk_format", image.disk_format),
                changes.get("container_format", image.container_format),
            )
        disk_format = changes.get("disk_format", image.disk_format)
        if "kernel" in changes:
            _check_reference(disk_format, changes["kernel"], formats.AKI, "kernel")
        if "ramdisk" in changes:
            _check_reference(disk_format, changes["ramdisk"], formats.ARI, "ramdisk")
        applied = {}
        for field, value in changes.items():
            if getattr(image, field) != value:
                setattr(image, field, value)
                applied[field] = str(value.pk) if hasattr(value, "pk") else value
        op.details = {"changes": applied}
        image.save()
    return image


def _referencing(image):
    field = {formats.AKI: "kernel", formats.ARI: "ramdisk"}.get(image.disk_format)
    if field is None:
        return 0
    return Image.objects.filter(**{field: image}).exclude(status__in=GONE).count()


def delete_image(actor, image):
    """An image with data goes to pending_delete (recoverable); one without is deleted at once."""
    action = "images.image.delete"
    with audited(actor, action, target=image.target(), obj=image) as op:
        require(actor, action, image.target(), f"You may not delete image {image}.")
        image = locked(image)
        not_in(image, GONE, "it is already deleted")
        if image.protected:
            raise Conflict(f"Image {image} is protected: unprotect it first.", code="image_protected")
        users = _referencing(image)
        if users:
            raise Conflict(f"Image {image} is used by {users} other image(s).", code="image_in_use")
        now = timezone.now()
        if image.status == Image.ACTIVE:
            retention = timedelta(seconds=settings.CLOUDMGR_IMAGE_PENDING_DELETE_SECONDS)
            states.transition(
                image.pk, Image.ACTIVE, Image.PENDING_DELETE, deleted_at=now, purge_after=now + retention
            )
        else:
            _forget(image, image.status, now)
        op.details = {"from": image.status}
    image.refresh_from_db()
    return image


def _forget(image, from_status, now):
    """Mark deleted and release the quota (inside the caller's transaction); data goes after commit."""
    token = image.upload_token
    forgotten = states.transition(
        image.pk, from_status, Image.DELETED, deleted_at=now, upload_token=None, upload_deadline=None
    )
    quotas.release(image)
    if forgotten and from_status in WITH_DATA:
        usage.record_deleted(image)
    if from_status == Image.SAVING and token is not None:
        store = get_store(image.store)
        transaction.on_commit(lambda: store.discard_upload(image.pk, token))
    if image.location:
        transaction.on_commit(lambda: remove_data(image.pk))


def restore_image(actor, image):
    action = "images.image.restore"
    with audited(actor, action, target=image.target(), obj=image):
        require(actor, action, image.target(), f"You may not restore image {image}.")
        if not states.transition(
            image.pk, Image.PENDING_DELETE, Image.ACTIVE, deleted_at=None, purge_after=None
        ):
            raise Conflict(f"Image {image} is not pending deletion.", code="image_not_pending_delete")
    image.refresh_from_db()
    return image


def purge_image(actor, image):
    """Delete the data of a pending_delete image now and release its quota."""
    action = "images.image.purge"
    with audited(actor, action, target=image.admin_target(), obj=image):
        require(actor, action, image.admin_target(), f"You may not purge image {image}.")
        image = locked(image)
        if image.status != Image.PENDING_DELETE:
            raise Conflict(f"Image {image} is not pending deletion.", code="image_not_pending_delete")
        _forget(image, Image.PENDING_DELETE, timezone.now())
    image.refresh_from_db()
    return image


def remove_data(image_id):
    """Delete a deleted image's data from its store, then forget the location. Safe to repeat."""
    image = Image.objects.filter(pk=image_id, status=Image.DELETED).exclude(location="").first()
    if image is None:
        return False
    try:
        get_store(image.store).delete(image.location)
    except (OSError, StoreError):
        log.exception("image %s: could not delete its data at %s; will retry", image.pk, image.location)
        return False
    Image.objects.filter(pk=image.pk, status=Image.DELETED, location=image.location).update(location="")
    return True


def set_deactivated(actor, image, deactivated):
    """Hold (or release) an active image: while deactivated only operators may read its data."""
    action = "images.image.deactivate"
    verb = "deactivate" if deactivated else "reactivate"
    with audited(actor, action, target=image.admin_target(), obj=image) as op:
        require(actor, action, image.admin_target(), f"You may not {verb} image {image}.")
        op.details = {"deactivated": deactivated}
        if not states.set_flag(image.pk, "deactivated", deactivated):
            image.refresh_from_db()
            if image.status != Image.ACTIVE:
                raise Conflict(f"Only active images can be {verb}d.", code=f"image_{image.status}")
            raise Conflict(f"Image {image} is already {verb}d.", code=f"already_{verb}d")
    image.refresh_from_db()
    return image


def move_image(actor, image, new_owner):
    """Give an image to another project; its quota usage moves along or the move is refused."""
    action = "images.image.move"
    with audited(actor, action, target=image.admin_target(), obj=image) as op:
        require(actor, action, image.admin_target(), f"You may not move image {image}.")
        require(actor, action, new_owner.admin_target(), f"You may not move images into {new_owner}.")
        image = locked(image)
        not_in(image, (*GONE, Image.SAVING), "it cannot move now")
        if image.owner_id == new_owner.pk:
            raise ValidationFailed(f"Image {image} already belongs to {new_owner}.", code="same_project")
        claimed = quotas.claimed_by(image)
        quotas.release(image)
        quotas.claim(new_owner, claimed, image, reader=actor.principal)
        op.details = {"from": str(image.owner_id), "to": str(new_owner.pk), "usage": claimed}
        image.members.filter(project=new_owner).delete()
        image.owner = new_owner
        image.save(update_fields=["owner", "updated_at"])
        if image.status == Image.ACTIVE:
            usage.record_stored(image, image.size_bytes)
    return image
