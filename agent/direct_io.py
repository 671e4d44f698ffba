"""Writing a received disk past the page cache (O_DIRECT), where the file system allows it.

A disk that arrives from another host is written once and read by nothing here
until its guest starts. Written through the page cache it costs a memory copy
per byte into freshly allocated pages, and the whole file is still to flush at
the final fsync. With O_DIRECT each write goes from the caller's page-aligned
buffer (aligned_buffer) to the device while the next buffer is being
received, and the fsync at the end has next to nothing left to do.

Only whole blocks go direct: the tail of a file that is not a whole number of
blocks is written through the page cache, and so is everything on a file
system that refuses O_DIRECT (tmpfs).
"""

import errno
import fcntl
import mmap
import os

BLOCK_BYTES = 4096


def aligned_buffer(size):
    """A writable buffer of `size` bytes at a page boundary (what O_DIRECT needs)."""
    return mmap.mmap(-1, size)


class DirectWriter:
    """A new file (mode 0600) written from start to end; `close()` makes it durable."""

    def __init__(self, path):
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
        try:
            self.fd = os.open(path, flags | os.O_DIRECT, 0o600)
            self.direct = True
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            self.fd = os.open(path, flags, 0o600)
            self.direct = False

    def __enter__(self):
        return self

    def __exit__(self, *_):
        os.close(self.fd)

    def write(self, view):
        """Write all of `view` (a slice from the start of an aligned_buffer). Only the file's last write
        may be a size that is not whole blocks."""
        whole = len(view) - len(view) % BLOCK_BYTES if self.direct else len(view)
        self._write_all(view[:whole])
        if whole < len(view):
            self._through_the_page_cache()
            self._write_all(view[whole:])

    def sync(self):
        os.fsync(self.fd)

    def _write_all(self, view):
        while view:
            try:
                view = view[os.write(self.fd, view) :]
            except OSError as exc:
                # A file system that took the flag at open but refuses the write: the page cache then.
                if exc.errno != errno.EINVAL or not self.direct:
                    raise
                self._through_the_page_cache()

    def _through_the_page_cache(self):
        if self.direct:
            fcntl.fcntl(self.fd, fcntl.F_SETFL, fcntl.fcntl(self.fd, fcntl.F_GETFL) & ~os.O_DIRECT)
            self.direct = False
