"""Image files made at test time: by qemu-img where it can, by small writers where an attack needs it.

No binary fixture is committed; each function writes into a directory the test owns.
"""

import os
import struct
import subprocess
from pathlib import Path


def qemu_img(*args):
    subprocess.run(["qemu-img", *args], check=True, capture_output=True)


def random_raw(directory, size_bytes, name="disk.raw"):
    path = Path(directory) / name
    with open(path, "wb") as handle:
        remaining = size_bytes
        while remaining:
            chunk = os.urandom(min(remaining, 1 << 20))
            handle.write(chunk)
            remaining -= len(chunk)
    return path


def created(directory, name, disk_format, size="16M", *options):
    path = Path(directory) / name
    qemu_img("create", "-f", disk_format, *options, str(path), size)
    return path


def qcow2(directory, size="16M", name="disk.qcow2"):
    return created(directory, name, "qcow2", size)


def qcow2_with_backing_file(directory, backing="/etc/passwd"):
    """The classic: a qcow2 whose unallocated clusters read through to a host file."""
    path = Path(directory) / "backed.qcow2"
    qemu_img("create", "-f", "qcow2", "-F", "raw", "-b", backing, "-u", str(path), "16M")
    return path


def qcow2_with_data_file(directory):
    """A qcow2 whose guest data lives in an external file qemu would open.

    qemu-img creates (truncates) the data file, so it is one of the test's own, never a host file:
    what matters is that the header names a file outside the image.
    """
    path = Path(directory) / "external-data.qcow2"
    data_file = Path(directory) / "external-data.raw"
    qemu_img("create", "-f", "qcow2", "-o", f"data_file={data_file},data_file_raw=on", str(path), "1M")
    return path


def vmdk_sparse(directory):
    return created(directory, "disk.vmdk", "vmdk")


def vmdk_flat_extent(directory, extent="/etc/passwd"):
    """A VMDK descriptor (text) whose flat extent is a host file: qemu would serve that file as the disk."""
    path = Path(directory) / "flat.vmdk"
    path.write_text(
        "# Disk DescriptorFile\n"
        "version=1\n"
        "CID=fffffffe\n"
        "parentCID=ffffffff\n"
        'createType="monolithicFlat"\n'
        "\n"
        f'RW 2048 FLAT "{extent}" 0\n'
        "\n"
        'ddb.adapterType = "ide"\n'
    )
    return path


def vdi(directory):
    return created(directory, "disk.vdi", "vdi")


def vhd(directory):
    return created(directory, "disk.vhd", "vpc")


def iso(directory, blocks=64):
    """A minimal ISO 9660 image: 16 empty system sectors, a primary volume descriptor, a terminator."""
    sector = 2048
    descriptor = bytearray(sector)
    descriptor[0:7] = b"\x01CD001\x01"
    descriptor[80:88] = struct.pack("<L", blocks) + struct.pack(">L", blocks)
    descriptor[128:132] = struct.pack("<H", sector) + struct.pack(">H", sector)
    terminator = b"\xffCD001\x01".ljust(sector, b"\0")
    path = Path(directory) / "disk.iso"
    content = bytes(16 * sector) + bytes(descriptor) + terminator
    path.write_bytes(content.ljust(blocks * sector, b"\0"))
    return path
