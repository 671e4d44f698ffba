"""The entry point for instance snapshots: a disk file or a host's upload becomes an image.

The disk must stand alone (no backing file: flatten an overlay with `qemu-img
convert` first); it is inspected like any upload, and the image counts against
the owner's `images` and `image_storage_gb` quotas. A snapshot that never
arrives leaves its image killed with the reason.
"""

from ..models import Image
from . import data, records


def create_image_from_file(actor, *, owner, path, name, disk_format, container_format="bare", **properties):
    """Create an image of `owner` holding a copy of the file at `path`; returns it active, or raises.

    On refusal the image stays, killed with the reason, as after a failed upload.
    """
    image = records.create_image(
        actor,
        owner=owner,
        name=name,
        disk_format=disk_format,
        container_format=container_format,
        **properties,
    )
    return data.store_file(actor, image, path)


def receive_snapshot_data(actor, image, read, length):
    """Store a host's upload of `length` bytes as the (queued) snapshot image's data; returns it active."""
    return data.upload(actor, image, read, length)


def abandon_snapshot_image(image_id, reason):
    """Kill a snapshot image whose data did not arrive (queued, or still saving); True if it was killed."""
    image = Image.objects.filter(pk=image_id, status__in=(Image.QUEUED, Image.SAVING)).first()
    if image is None:
        return False
    return bool(
        data.kill_upload(image.pk, image.upload_token, reason, from_statuses=(Image.QUEUED, Image.SAVING))
    )
