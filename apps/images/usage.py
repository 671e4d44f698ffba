"""What images tell metering: an image's data stored, given to another project or deleted, recorded in the
transaction of that change.

An image, or an instance's snapshot, is billed per GiB-hour while its data
counts against its project's storage quota (services/common.py): from the
moment its data is complete (active) until it is purged (deleted); pending
deletion it is still stored.
"""

from apps.metering.events import DELETED, IMAGE, SNAPSHOT, STORED
from apps.metering.recorder import record


def _metered(image, event_type, **values):
    record(
        SNAPSHOT if image.is_snapshot else IMAGE,
        event_type,
        resource_id=image.pk,
        resource_name=image.name,
        project_id=image.owner_id,
        **values,
    )


def record_stored(image, size_bytes):
    """The image's data of `size_bytes` is stored for its owner (as `image.owner_id` says now)."""
    _metered(image, STORED, size_bytes=size_bytes)


def record_deleted(image):
    _metered(image, DELETED)
