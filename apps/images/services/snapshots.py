"""The entry point for instance snapshots: the compute app hands over a disk file, it becomes an image.

The file must stand alone (no backing file: flatten an overlay with `qemu-img
convert` first); it is inspected like any upload, and the image counts against
the owner's `images` and `image_storage_gb` quotas.
"""

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
