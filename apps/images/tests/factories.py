"""Images for tests, made through the services (claims and all), with real data files."""

import os
import tempfile

from apps.core.actor import Actor
from apps.images.models import Image
from apps.images.services import data, records, sharing

SYSTEM = Actor.system("test")


def queued_image(owner, *, name="an-image", disk_format="raw", container_format=None, **fields):
    if container_format is None:
        container_format = disk_format if disk_format in ("aki", "ari", "ami") else "bare"
    return records.create_image(
        SYSTEM, owner=owner, name=name, disk_format=disk_format, container_format=container_format, **fields
    )


def active_image(owner, content=b"cloudmgr test image data\n", **fields):
    """A queued image filled from a real file holding `content` (through the same path as uploads)."""
    image = queued_image(owner, **fields)
    handle, path = tempfile.mkstemp(prefix="cloudmgr-image-")
    try:
        os.write(handle, content)
        os.close(handle)
        return data.store_file(SYSTEM, image, path)
    finally:
        os.unlink(path)


def pending_delete_image(owner, **fields):
    return records.delete_image(SYSTEM, active_image(owner, **fields))


def deactivated_image(owner, **fields):
    return records.set_deactivated(SYSTEM, active_image(owner, **fields), True)


def shared_image(owner, member_project, **fields):
    image = active_image(owner, visibility=Image.SHARED, **fields)
    sharing.share(SYSTEM, image, member_project.pk)
    return image
