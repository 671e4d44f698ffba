"""Kernels (aki): a Linux bzImage is accepted although its boot sector looks like a partition table.

Every x86 bzImage has the boot-sector signature 0x55AA at offset 510, which oslo's
GPT inspector matches; the setup header's magic "HdrS" at 0x202 tells a kernel
apart. The files are written here with exactly those header bytes (no kernel is
committed); anything else that looks like a disk image stays refused as aki.
"""

import pytest

from apps.images.models import Image

from . import crafted
from .test_upload_download import create, put_file

BOOT_SIGNATURE_OFFSET = 510
SETUP_MAGIC_OFFSET = 0x202


def with_bytes(path, offset, data):
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)
    return path


def boot_sector(directory, name="vmlinuz"):
    """Random bytes ending their first sector with 0x55AA, as a bzImage's boot sector does."""
    return with_bytes(crafted.random_raw(directory, 300_000, name), BOOT_SIGNATURE_OFFSET, b"\x55\xaa")


def bzimage(directory):
    return with_bytes(boot_sector(directory), SETUP_MAGIC_OFFSET, b"HdrS")


def uploaded(api, path, disk_format="aki"):
    image_id = create(api, disk_format=disk_format, container_format=disk_format)
    return put_file(api, image_id, path.read_bytes())


def test_a_linux_bzimage_declared_as_a_kernel_becomes_active_with_its_length_as_virtual_size(api, files):
    path = bzimage(files)

    response = uploaded(api, path)

    assert response.status_code == 200, response.content
    assert response.data["status"] == Image.ACTIVE
    assert response.data["virtual_size_bytes"] == path.stat().st_size


@pytest.mark.parametrize(
    "make",
    [
        boot_sector,
        lambda d: with_bytes(crafted.qcow2(d), SETUP_MAGIC_OFFSET, b"HdrS"),
        crafted.qcow2,
    ],
    ids=["boot-sector-without-setup-header", "qcow2-with-a-setup-header", "qcow2"],
)
def test_a_disk_image_declared_as_a_kernel_is_refused(api, files, make):
    response = uploaded(api, make(files))

    assert response.status_code == 400, response.content
    assert response.data["error"]["code"] == "format_mismatch"


def test_a_bzimage_header_does_not_excuse_a_ramdisk_that_looks_like_a_partition_table(api, files):
    response = uploaded(api, bzimage(files), disk_format="ari")

    assert response.status_code == 400, response.content
    assert response.data["error"]["code"] == "format_mismatch"
