"""Which images a host may read or write at the agents' path, as the apps that know decide.

Registered in their AppConfig.ready() (compute: the images of a host's instances,
of its prefetch jobs, and the snapshots it is taking):

- image reader: fn(host) -> Q over images.Image, the images the host may fetch;
- image writer: fn(host) -> Q over images.Image, the images the host may upload (snapshots).
"""

from django.db.models import Q

_image_readers = []
_image_writers = []


def register_image_reader(reader):
    _image_readers.append(reader)


def register_image_writer(writer):
    _image_writers.append(writer)


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
