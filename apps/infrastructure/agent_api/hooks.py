"""What other apps do with agent messages, registered in their AppConfig.ready().

Task reports are host work's (apps.infrastructure.hostwork).

- inventory handler: fn(host, inventory) applies what a heartbeat says exists on the host;
- image reader: fn(host) -> Q over images.Image, the images the host may fetch;
- image writer: fn(host) -> Q over images.Image, the images the host may upload (snapshots).
"""

from django.db.models import Q

_inventory_handlers = []
_image_readers = []
_image_writers = []


def register_inventory_handler(handler):
    _inventory_handlers.append(handler)


def register_image_reader(reader):
    _image_readers.append(reader)


def register_image_writer(writer):
    _image_writers.append(writer)


def inventory_handlers():
    return list(_inventory_handlers)


def readable_images(host):
    """A condition on images.Image: what the host may fetch (nothing when no reader is registered)."""
    condition = Q(pk__in=[])
    for reader in _image_readers:
        condition |= reader(host)
    return condition


def writable_images(host):
    """A condition on images.Image: what the host may upload to (nothing when no writer is registered)."""
    condition = Q(pk__in=[])
    for writer in _image_writers:
        condition |= writer(host)
    return condition
