"""Decide whether image data may become active: the host-file-disclosure checks.

Two passes, in this order:

1. oslo.utils' format inspector, fed the data as it streams in (nothing is
   re-read): the content must be of the declared format, and the inspector's
   safety checks must pass (qcow2 backing file, qcow2 external data file,
   unknown qcow2 features, VMDK subformats with flat or external extents…).
2. For formats whose metadata qemu interprets (qcow2, vmdk, vdi, vhd),
   `qemu-img info -f <declared> --output=json` on the staged file, under
   address-space and CPU limits: qemu's own view must agree (same format,
   no backing file, no data file, no extent outside the file).

Either pass refuses with ImageRefused (a stable code per reason); the virtual
size is capped by CLOUDMGR_IMAGE_MAX_VIRTUAL_SIZE_BYTES.
"""

import json
import os
import subprocess
from dataclasses import dataclass

from django.conf import settings
from oslo_utils.imageutils import format_inspector

from apps.core.errors import ServiceError

from . import formats

# oslo's name for the inspector that must accept the stream of each declared format.
_EXPECTED_INSPECTOR = {
    formats.AKI: "raw",
    formats.ARI: "raw",
    formats.AMI: "raw",
}

# Inspectors whose virtual size is simply the number of bytes.
_PLAIN_BYTES = ("raw", "gpt")

# Every x86 bzImage carries the boot-sector signature 0x55AA at offset 510, which oslo's GPT
# inspector takes for a partition table; the setup header's magic "HdrS" at 0x202 marks a kernel.
# A kernel only ever reaches qemu through -kernel, never as a disk, so that match is no danger.
_BZIMAGE_MAGIC_OFFSET = 0x202
_BZIMAGE_MAGIC = b"HdrS"
_HEAD_BYTES = _BZIMAGE_MAGIC_OFFSET + len(_BZIMAGE_MAGIC)

# oslo safety check name -> our refusal code.
_SAFETY_CODES = {
    "backing_file": "backing_file",
    "data_file": "data_file",
    "descriptor": "vmdk_extent",
    "footer": "vmdk_extent",
}


class ImageRefused(ServiceError):
    code = "image_refused"


@dataclass(frozen=True)
class Verdict:
    detected: str
    virtual_size_bytes: int


class _ReadOnly:
    """Hide the source's close(): the inspector must not close a WSGI input it does not own."""

    def __init__(self, read):
        self.read = read


class StreamInspector:
    """Wrap a reader; chunks read through it are inspected until the format is settled.

    Once every inspector has what it needs, the rest of the stream cannot change
    the verdict (formats with a trailer, like a streamOptimized VMDK's footer,
    settle only at the end), so later chunks bypass the inspectors.
    """

    def __init__(self, read, declared_format):
        self.declared = declared_format
        self._read = read
        self._expected = _EXPECTED_INSPECTOR.get(declared_format, declared_format)
        self._wrapper = format_inspector.InspectWrapper(_ReadOnly(read), expected_format=self._expected)
        self._settled = False
        self._bytes_seen = 0
        self._head = b""

    def read(self, size):
        if self._settled:
            chunk = self._read(size)
        else:
            try:
                chunk = self._wrapper.read(size)
            except format_inspector.ImageFormatError as error:
                raise _mismatch(self.declared, str(error)) from error
            self._settled = self._format_known()
        if len(self._head) < _HEAD_BYTES:
            self._head += chunk[: _HEAD_BYTES - len(self._head)]
        self._bytes_seen += len(chunk)
        return chunk

    def _format_known(self):
        try:
            return self._wrapper.formats is not None
        except format_inspector.ImageFormatError:
            return True  # several formats matched: settled, and refused by verdict()

    def verdict(self, local_path):
        """Finish inspection; raise ImageRefused or return what the data is."""
        self._wrapper.close()
        matches = self._matches()
        if self._is_kernel():
            matches = [inspector for inspector in matches if inspector.NAME != "gpt"]
            if not matches:
                _check_virtual_size(self._bytes_seen)
                return Verdict(detected="raw", virtual_size_bytes=self._bytes_seen)
        names = {inspector.NAME for inspector in matches}
        accepted = formats.ACCEPTED_CONTENT[self.declared]
        if not names <= accepted or (self.declared == formats.ISO and "iso" not in names):
            raise _mismatch(self.declared, f"the data is {'+'.join(sorted(names))}")
        for inspector in matches:
            _safety_check(inspector)
        primary = next((i for i in matches if self._expected == i.NAME), matches[0])
        # Raw data's virtual size is its length; its inspector stopped counting when it settled.
        virtual_size = self._bytes_seen if primary.NAME in _PLAIN_BYTES else primary.virtual_size
        _check_virtual_size(virtual_size)
        if self.declared in formats.QEMU_NAMES:
            virtual_size = qemu_img_check(local_path, self.declared)
        return Verdict(detected=primary.NAME, virtual_size_bytes=virtual_size)

    def _is_kernel(self):
        """A Linux bzImage declared as a kernel: its boot-sector signature is not a partition table."""
        magic = self._head[_BZIMAGE_MAGIC_OFFSET:_HEAD_BYTES]
        return self.declared == formats.AKI and magic == _BZIMAGE_MAGIC

    def _matches(self):
        try:
            return self._wrapper.formats
        except format_inspector.ImageFormatError as error:
            raise ImageRefused(
                f"The data is not a usable image: {error}.", code="unrecognised_format"
            ) from error


def _mismatch(declared, what):
    return ImageRefused(
        f"The data does not match the declared disk format {declared}: {what}.",
        code="format_mismatch",
        details={"declared": declared},
    )


def _safety_check(inspector):
    try:
        inspector.safety_check()
    except format_inspector.SafetyCheckFailed as failed:
        name, reason = next(iter(failed.failures.items()))
        name = name.removeprefix("inner_")
        raise ImageRefused(
            f"The {inspector.NAME} image is unsafe: {reason}.",
            code=_SAFETY_CODES.get(name, "unsafe_image"),
            details={"check": name},
        ) from failed
    except format_inspector.ImageFormatError as error:
        raise ImageRefused(
            f"The {inspector.NAME} image cannot be checked: {error}.", code="unrecognised_format"
        ) from error


def _check_virtual_size(virtual_size):
    limit = settings.CLOUDMGR_IMAGE_MAX_VIRTUAL_SIZE_BYTES
    if virtual_size > limit:
        raise ImageRefused(
            f"The image's virtual size ({virtual_size} bytes) is above the limit of {limit} bytes.",
            code="virtual_size_too_large",
            details={"virtual_size_bytes": virtual_size, "limit_bytes": limit},
        )


def qemu_img_check(path, declared):
    """Ask qemu-img (under resource limits) what it makes of the file; return its virtual size."""
    qemu_name = formats.QEMU_NAMES[declared]
    cpu = settings.CLOUDMGR_IMAGE_QEMU_IMG_CPU_SECONDS
    command = [
        "prlimit",
        f"--as={settings.CLOUDMGR_IMAGE_QEMU_IMG_ADDRESS_SPACE_BYTES}",
        f"--cpu={cpu}",
        "qemu-img",
        "info",
        "-f",
        qemu_name,
        "--output=json",
        os.path.abspath(path),
    ]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            timeout=cpu * 2 + 10,
            check=False,
            env={"LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
    except subprocess.TimeoutExpired as error:
        raise ImageRefused("qemu-img took too long to read the image.", code="inspection_failed") from error
    if done.returncode != 0:
        last_line = (done.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
        raise ImageRefused(
            f"qemu-img cannot read the image as {declared}: {last_line[:300]}", code="unrecognised_format"
        )
    info = json.loads(done.stdout)
    _check_qemu_info(info, path, declared, qemu_name)
    return int(info["virtual-size"])


def _check_qemu_info(info, path, declared, qemu_name):
    if info.get("format") != qemu_name:
        raise _mismatch(declared, f"qemu-img reads it as {info.get('format')}")
    if info.get("backing-filename") or info.get("full-backing-filename"):
        raise ImageRefused("The image has a backing file.", code="backing_file")
    data = info.get("format-specific", {}).get("data", {})
    if data.get("data-file"):
        raise ImageRefused("The image has an external data file.", code="data_file")
    own = os.path.realpath(path)
    for extent in data.get("extents", []):
        if os.path.realpath(os.path.join(os.path.dirname(own), extent.get("filename", ""))) != own:
            raise ImageRefused("The VMDK image refers to data outside itself.", code="vmdk_extent")
    _check_virtual_size(int(info["virtual-size"]))
