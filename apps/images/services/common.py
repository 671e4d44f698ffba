"""Small helpers the image services share: permission checks, locking, quota headroom."""

from apps.core.errors import Conflict
from apps.identity.models import Domain
from apps.quotas import services as quotas
from apps.quotas.models import UNLIMITED
from apps.quotas.resources import GIB, gib_rounded_up

from ..models import Image

STORAGE = "image_storage_gb"
COUNT = "images"
# An image's data counts against STORAGE from the moment it is complete until the image is purged.
WITH_DATA = (Image.ACTIVE, Image.PENDING_DELETE)


def quota_held(status, size_bytes):
    """What an image holds of its project's quota: one image from its creation, its data once complete."""
    return {COUNT: 1, STORAGE: gib_rounded_up(size_bytes) if status in WITH_DATA else 0}


def locked(image):
    """The image row, locked for the rest of the transaction, with its owner as it is now."""
    return Image.objects.select_for_update(of=("self",)).select_related("owner__domain").get(pk=image.pk)


def not_in(image, statuses, what):
    if image.status in statuses:
        raise Conflict(f"Image {image} is {image.status}: {what}.", code=f"image_{image.status}")


def storage_headroom(project, reader):
    """(bytes the project may still store, the QuotaExceeded to raise past it), or (None, None).

    Read without claiming: the claim itself comes when the size is known. This only
    lets an upload fail early, before the data arrives, instead of after. The refusal
    is for `reader` (see apps.quotas.services.quota_exceeded).
    """
    scopes = [project, *Domain.objects.filter(pk__in=project.domain.ancestor_ids)]
    tightest = None
    for scope in scopes:
        limit, used = quotas.usage_of(scope)[STORAGE]
        if limit == UNLIMITED:
            continue
        room = max(0, limit - used) * GIB
        if tightest is None or room < tightest[0]:
            tightest = (room, scope, limit, used)
    if tightest is None:
        return None, None
    room, scope, limit, used = tightest

    def exceeded(size_bytes):
        return quotas.quota_exceeded(
            scope, STORAGE, limit, used, gib_rounded_up(size_bytes), project=project, reader=reader
        )

    return room, exceeded
