"""Inspect a downloaded image before any use: the declared format, and nothing that reaches other files.

A qcow2 with a backing file or an external data file, a VMDK whose extents are
other files (or a bare descriptor), or a "raw" image whose header is another
format's would let a guest read host files once qemu opens it. The header is
checked by hand first, then ``qemu-img info -f <declared format>`` (under
prlimit) must agree.

A disk received from another host (a migration) is a qcow2 overlay: the same
checks, except that its backing file may be one thing only, this host's cached
copy of the instance's own base image (``received_backing`` reads the name
before qemu opens anything; ``check_received_disk`` checks qemu's view of the
whole chain once the overlay points at the local base).
"""

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from . import qemu_img

QCOW2_MAGIC = b"QFI\xfb"
VMDK_SPARSE_MAGIC = b"KDMV"
QCOW2_INCOMPATIBLE_DATA_FILE = 1 << 2
QCOW2_HEADER_READ_BYTES = 65536
BACKING_NAME_MAX_BYTES = 1023
# Headers of formats that qemu would probe; a "raw" image must start with none of them.
FOREIGN_MAGICS = {
    QCOW2_MAGIC: "qcow2",
    VMDK_SPARSE_MAGIC: "vmdk",
    b"# Disk DescriptorFile": "vmdk descriptor",
    b"QED\x00": "qed",
    b"vhdxfile": "vhdx",
    b"conectix": "vpc",
    b"<<< Oracle VM VirtualBox Disk Image >>>": "vdi",
    b"LUKS\xba\xbe": "luks",
}
ALLOWED_VMDK_TYPES = ("monolithicSparse", "streamOptimized")
QEMU_FORMAT = {"qcow2": "qcow2", "raw": "raw", "ami": "raw", "vmdk": "vmdk", "aki": "raw", "ari": "raw"}


class ImageRefused(Exception):
    pass


@dataclass(frozen=True)
class InspectedImage:
    qemu_format: str  # what qemu is told: "qcow2", "raw" or "vmdk"
    virtual_size_bytes: int


def inspect(path, declared_format):
    """Return what the image is, or raise ImageRefused."""
    qemu_format = QEMU_FORMAT.get(declared_format)
    if qemu_format is None:
        raise ImageRefused(f"format {declared_format!r} is not supported")
    with Path(path).open("rb") as handle:
        header = handle.read(512)
    _check_header(header, qemu_format)
    try:
        details = qemu_img.info(path, qemu_format)
    except qemu_img.QemuImgError as exc:
        raise ImageRefused(f"not a valid {declared_format} image: {exc}") from exc
    _check_details(details, qemu_format)
    return InspectedImage(qemu_format, int(details["virtual-size"]))


def _check_header(header, qemu_format):
    if qemu_format == "raw":
        for magic, name in FOREIGN_MAGICS.items():
            if header.startswith(magic):
                raise ImageRefused(f"declared raw but the content is {name}")
    elif qemu_format == "qcow2":
        if len(header) < 104 or not header.startswith(QCOW2_MAGIC):
            raise ImageRefused("declared qcow2 but the header is not qcow2")
        version, backing_offset = struct.unpack(">IQ", header[4:16])
        if backing_offset:
            raise ImageRefused("the qcow2 image has a backing file")
        if version >= 3 and struct.unpack(">Q", header[72:80])[0] & QCOW2_INCOMPATIBLE_DATA_FILE:
            raise ImageRefused("the qcow2 image has an external data file")
    elif not header.startswith(VMDK_SPARSE_MAGIC):
        raise ImageRefused("declared vmdk but not a single-file sparse VMDK")


def _check_details(details, qemu_format):
    if details.get("format") != qemu_format:
        raise ImageRefused(f"qemu-img sees {details.get('format')!r}, not {qemu_format!r}")
    if "backing-filename" in details or "full-backing-filename" in details:
        raise ImageRefused("the image has a backing file")
    specific = details.get("format-specific", {}).get("data", {})
    if "data-file" in specific:
        raise ImageRefused("the image has an external data file")
    if qemu_format == "vmdk":
        if specific.get("create-type") not in ALLOWED_VMDK_TYPES:
            raise ImageRefused(f"VMDK type {specific.get('create-type')!r} is not allowed")
        own_name = details.get("filename")
        if any(extent.get("filename") != own_name for extent in specific.get("extents", [])):
            raise ImageRefused("the VMDK has extents in other files")
    if int(details.get("virtual-size", 0)) <= 0:
        raise ImageRefused("the image has no virtual size")


def received_backing(path):
    """The backing file name a received qcow2 disk's header names (None: standalone), or ImageRefused.

    Read by hand: qemu has not opened the file yet. The disk must be a qcow2 with
    no external data file and no encryption.
    """
    with Path(path).open("rb") as handle:
        header = handle.read(QCOW2_HEADER_READ_BYTES)
    if len(header) < 104 or not header.startswith(QCOW2_MAGIC):
        raise ImageRefused("the received disk is not a qcow2")
    version, backing_offset, backing_size = struct.unpack(">IQI", header[4:20])
    if struct.unpack(">I", header[32:36])[0]:
        raise ImageRefused("the received disk is encrypted")
    if version >= 3 and struct.unpack(">Q", header[72:80])[0] & QCOW2_INCOMPATIBLE_DATA_FILE:
        raise ImageRefused("the received disk has an external data file")
    if not backing_offset:
        return None
    end = backing_offset + backing_size
    if not 0 < backing_size <= BACKING_NAME_MAX_BYTES or end > len(header):
        raise ImageRefused("the received disk's backing file name is out of bounds")
    return header[backing_offset:end].decode("utf-8", "replace")


def check_received_disk(path, backing=None):
    """qemu-img's view of a received disk: a qcow2 without data file whose chain is exactly itself and
    `backing` (this host's cached base; None: no backing file). Returns its virtual size."""
    try:
        chain = qemu_img.info_chain(path)
    except (qemu_img.QemuImgError, ValueError) as exc:
        raise ImageRefused(f"the received disk cannot be read as a qcow2: {exc}") from exc
    top = chain[0]
    if top.get("format") != "qcow2":
        raise ImageRefused(f"qemu-img sees {top.get('format')!r}, not 'qcow2'")
    if "data-file" in top.get("format-specific", {}).get("data", {}):
        raise ImageRefused("the received disk has an external data file")
    wanted = [os.path.realpath(path)] + ([os.path.realpath(backing)] if backing else [])
    if [os.path.realpath(entry["filename"]) for entry in chain] != wanted:
        raise ImageRefused("the received disk's backing chain is not its own cached base")
    if int(top.get("virtual-size", 0)) <= 0:
        raise ImageRefused("the received disk has no virtual size")
    return int(top["virtual-size"])
