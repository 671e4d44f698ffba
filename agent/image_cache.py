"""The host's image cache: each image fetched once, then shared by instances as a qcow2 backing file.

An entry is ``images/<sha256>`` (the bytes, never converted) and
``images/<sha256>.json`` (what it is). A fetch streams into a temporary file in
the same directory while hashing, checks size and sha256 against the signed
task, inspects the file (agent.image_inspect), writes the metadata, then renames
the bytes into place: an entry is either whole and checked or absent.

Instance disks are qcow2 overlays on a cached base, grown to the offering's
size. A base is removed when it has not been used for ``max_age_seconds`` and
no disk on the host has it in its backing chain (read from the disk files).
"""

import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import image_inspect, protocol, qemu_img
from .errors import AgentError
from .instance_files import FILE_MODE, ensure_dir

log = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
# Left free on the data directory's filesystem after a download.
FREE_SPACE_MARGIN_BYTES = 256 * 1024 * 1024
TEMP_PREFIX = ".tmp-"
STALE_TEMP_SECONDS = 24 * 3600


@dataclass(frozen=True)
class CachedImage:
    path: Path
    image_id: str
    sha256: str
    size_bytes: int
    disk_format: str
    qemu_format: str
    virtual_size_bytes: int

    def as_message(self):
        return protocol.CachedImage(self.image_id, self.sha256, self.size_bytes, self.disk_format)


@dataclass
class CleanupReport:
    removed: list = field(default_factory=list)
    in_use: list = field(default_factory=list)
    error: str = ""


class ImageCache:
    """``open_stream(image_ref)`` returns a context manager with ``read(n)``: the controller's download."""

    def __init__(self, root, open_stream, max_age_seconds, free_space_margin_bytes=FREE_SPACE_MARGIN_BYTES):
        self.root = ensure_dir(root)
        self.open_stream = open_stream
        self.max_age_seconds = max_age_seconds
        self.free_space_margin_bytes = free_space_margin_bytes
        self._locks = {}
        self._locks_guard = threading.Lock()

    def _lock(self, sha256):
        with self._locks_guard:
            return self._locks.setdefault(sha256, threading.Lock())

    def _paths(self, sha256):
        return self.root / sha256, self.root / f"{sha256}.json"

    def lookup(self, sha256):
        data, meta = self._paths(sha256)
        try:
            info = json.loads(meta.read_text())
        except (OSError, ValueError):
            return None
        if not data.exists():
            return None
        return CachedImage(path=data, **info)

    def entries(self):
        found = (self.lookup(meta.stem) for meta in self.root.glob("*.json"))
        return [entry for entry in found if entry is not None]

    def ensure(self, image, progress=None):
        """The cached copy of ``image`` (a protocol.ImageRef), fetching it if needed.

        Returns ``(CachedImage, already_cached)``.
        """
        with self._lock(image.sha256):
            cached = self.lookup(image.sha256)
            if cached is None:
                cached = self._fetch(image, progress)
                already = False
            else:
                already = True
                if cached.qemu_format != image_inspect.QEMU_FORMAT[image.disk_format]:
                    raise AgentError(
                        protocol.ERR_IMAGE_REFUSED,
                        f"image {image.image_id} is declared {image.disk_format} but is {cached.qemu_format}",
                    )
            os.utime(cached.path)
            return cached, already

    def _fetch(self, image, progress):
        self._check_free_space(image.size_bytes)
        temp = self.root / f"{TEMP_PREFIX}{image.sha256}-{os.getpid()}-{threading.get_ident()}"
        try:
            self._download(image, temp, progress)
            try:
                inspected = image_inspect.inspect(temp, image.disk_format)
            except image_inspect.ImageRefused as exc:
                raise AgentError(protocol.ERR_IMAGE_REFUSED, f"image {image.image_id}: {exc}") from exc
            temp.chmod(FILE_MODE)
            data, meta = self._paths(image.sha256)
            info = {
                "image_id": image.image_id,
                "sha256": image.sha256,
                "size_bytes": image.size_bytes,
                "disk_format": image.disk_format,
                "qemu_format": inspected.qemu_format,
                "virtual_size_bytes": inspected.virtual_size_bytes,
            }
            _write_atomically(meta, json.dumps(info).encode())
            os.rename(temp, data)
            _fsync_dir(self.root)
            log.info("cached image %s (%s, %d bytes)", image.image_id, image.sha256[:12], image.size_bytes)
            return CachedImage(path=data, **info)
        finally:
            temp.unlink(missing_ok=True)

    def _download(self, image, temp, progress):
        digest = hashlib.sha256()
        received = 0
        try:
            with self.open_stream(image) as stream, temp.open("wb") as out:
                while chunk := stream.read(CHUNK_BYTES):
                    received += len(chunk)
                    if received > image.size_bytes:
                        raise AgentError(
                            protocol.ERR_IMAGE_CHECKSUM_MISMATCH,
                            f"image {image.image_id} is larger than its {image.size_bytes} bytes",
                        )
                    digest.update(chunk)
                    out.write(chunk)
                    if progress is not None:
                        progress(received, image.size_bytes)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise AgentError(protocol.ERR_IMAGE_FETCH_FAILED, f"image {image.image_id}: {exc}") from exc
        if received != image.size_bytes or digest.hexdigest() != image.sha256:
            raise AgentError(
                protocol.ERR_IMAGE_CHECKSUM_MISMATCH,
                f"image {image.image_id}: got {received} bytes with sha256 {digest.hexdigest()}",
            )

    def _check_free_space(self, size_bytes):
        stats = os.statvfs(self.root)
        free = stats.f_bavail * stats.f_frsize
        if free < size_bytes + self.free_space_margin_bytes:
            raise AgentError(
                protocol.ERR_INSUFFICIENT_DISK,
                f"{free} bytes free on the image cache, {size_bytes} needed plus a margin",
            )

    def create_overlay(self, base, dest, size_bytes):
        """Give an instance its disk: a qcow2 backed by ``base``; kept as is when it already exists.

        ``size_bytes`` 0 means the base's virtual size.
        """
        dest = Path(dest)
        size = size_bytes or base.virtual_size_bytes
        if size < base.virtual_size_bytes:
            raise AgentError(
                protocol.ERR_ROOT_DISK_TOO_SMALL,
                f"the root disk ({size} bytes) is smaller than the image ({base.virtual_size_bytes} bytes)",
            )
        if dest.exists():
            chain = qemu_img.backing_chain(dest)
            if len(chain) < 2 or Path(chain[1]) != base.path:
                raise AgentError(protocol.ERR_SPEC_CONFLICT, f"{dest.name} exists with another backing file")
            return dest
        _create_atomically(
            dest, lambda temp: qemu_img.create_overlay(base.path, base.qemu_format, temp, size)
        )
        os.utime(base.path)
        return dest

    def create_blank(self, dest, size_bytes):
        """An empty qcow2 disk (the ephemeral disk); kept as is when it already exists."""
        dest = Path(dest)
        if not dest.exists():
            _create_atomically(dest, lambda temp: qemu_img.create_blank(temp, size_bytes))
        return dest

    def cleanup(self, disk_paths, now=None):
        """Remove bases unused for ``max_age_seconds`` that no disk in ``disk_paths`` is backed by.

        When a disk's chain cannot be read, nothing is removed: an unreadable disk
        might be backed by any base.
        """
        now = time.time() if now is None else now
        report = CleanupReport()
        self._remove_stale_temporaries(now)
        old = [entry for entry in self.entries() if now - entry.path.stat().st_mtime > self.max_age_seconds]
        if not old:
            return report
        in_use = set()
        for disk in disk_paths:
            try:
                in_use.update(os.path.realpath(name) for name in qemu_img.backing_chain(disk))
            except (qemu_img.QemuImgError, ValueError) as exc:
                report.error = f"cannot read the backing chain of {disk}: {exc}"
                log.warning("image cache cleanup skipped: %s", report.error)
                return report
        for entry in old:
            with self._lock(entry.sha256):
                # ensure() touches a base before its overlay exists: a fresh mtime means "about to be used".
                if now - entry.path.stat().st_mtime <= self.max_age_seconds:
                    continue
                if os.path.realpath(entry.path) in in_use:
                    report.in_use.append(entry.sha256)
                    continue
                for path in self._paths(entry.sha256):
                    path.unlink(missing_ok=True)
                report.removed.append(entry.sha256)
                log.info("removed cached image %s (%s)", entry.image_id, entry.sha256[:12])
        return report

    def _remove_stale_temporaries(self, now):
        for temp in self.root.glob(f"{TEMP_PREFIX}*"):
            if now - temp.stat().st_mtime > STALE_TEMP_SECONDS:
                temp.unlink(missing_ok=True)


def _create_atomically(dest, create):
    temp = dest.with_name(f"{TEMP_PREFIX}{dest.name}")
    temp.unlink(missing_ok=True)
    try:
        create(temp)
        temp.chmod(FILE_MODE)
        os.rename(temp, dest)
    finally:
        temp.unlink(missing_ok=True)


def _write_atomically(path, data):
    temp = path.with_name(f"{TEMP_PREFIX}{path.name}")
    with temp.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.rename(temp, path)


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
