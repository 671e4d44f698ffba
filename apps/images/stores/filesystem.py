"""The default store: image files in a directory (CLOUDMGR_IMAGE_STORE_DIR).

Layout: `.staging/<image>.<token>.part` while an upload runs, then an atomic
rename to `<first two hex digits>/<image>.<token>` once the data is complete
and synced. Several controllers share the directory (NFS or the like).
"""

import ctypes
import os
import shutil
from pathlib import Path

from django.conf import settings

from .base import Store, StoreError, StoreWriter, read_chunks

STAGING = ".staging"
WRITEBACK_BYTES = 32 * 1024 * 1024
SYNC_FILE_RANGE_WRITE = 2


class FilesystemStore(Store):
    name = "file"
    writable = True

    def __init__(self, root=None):
        self.root = Path(root or settings.CLOUDMGR_IMAGE_STORE_DIR)

    def upload_location(self, image_id, upload_token):
        hex_id = image_id.hex if hasattr(image_id, "hex") else str(image_id).replace("-", "")
        token = upload_token.hex if hasattr(upload_token, "hex") else str(upload_token).replace("-", "")
        return f"{hex_id[:2]}/{hex_id}.{token}"

    def _staging_path(self, image_id, upload_token):
        return self.root / STAGING / (self.upload_location(image_id, upload_token).split("/")[1] + ".part")

    def path_of(self, location):
        path = (self.root / location).resolve()
        if self.root.resolve() not in path.parents:
            raise StoreError(f"location {location!r} is outside the store")
        return path

    def writer(self, image_id, upload_token):
        location = self.upload_location(image_id, upload_token)
        return FileWriter(self._staging_path(image_id, upload_token), self.path_of(location), location)

    def discard_upload(self, image_id, upload_token):
        self._staging_path(image_id, upload_token).unlink(missing_ok=True)
        self.delete(self.upload_location(image_id, upload_token))

    def open_range(self, location, start=0, length=None):
        try:
            handle = open(self.path_of(location), "rb")  # noqa: SIM115  (closed by the generator)
        except OSError as error:
            raise StoreError(f"cannot open image data: {error.strerror}") from error
        return _read_range(handle, start, length)

    def delete(self, location):
        if location:
            self.path_of(location).unlink(missing_ok=True)

    def disk_usage(self):
        return shutil.disk_usage(self.root) if self.root.exists() else None


def _read_range(handle, start, length):
    with handle:
        handle.seek(start)
        yield from read_chunks(handle.read, length)


class FileWriter(StoreWriter):
    def __init__(self, staging_path, final_path, location):
        self.local_path = str(staging_path)
        self._final_path = final_path
        self._location = location
        staging_path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(staging_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        self._written = self._flushed = 0

    def write(self, chunk):
        view = memoryview(chunk)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
            self._written += written
        if self._written - self._flushed >= WRITEBACK_BYTES:
            _start_writeback(self._fd, self._flushed, self._written - self._flushed)
            self._flushed = self._written

    def commit(self):
        os.fsync(self._fd)
        self._close()
        self._final_path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.local_path, self._final_path)
        _fsync_directory(self._final_path.parent)
        return self._location

    def abort(self):
        self._close()
        Path(self.local_path).unlink(missing_ok=True)

    def _close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _load_sync_file_range():
    try:
        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    return function


_sync_file_range = _load_sync_file_range()


def _start_writeback(fd, offset, length):
    """Have the kernel start writing a range to disk now, without waiting (Linux sync_file_range).

    The data then reaches the disk while the rest still arrives, so the fsync at commit
    waits for the tail only, and a big upload never piles up gigabytes of dirty pages.
    """
    if _sync_file_range is not None:
        _sync_file_range(fd, offset, length, SYNC_FILE_RANGE_WRITE)


def _fsync_directory(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
