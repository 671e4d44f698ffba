"""The interface every image store implements, so callers never know which store holds the data.

A store keeps image data under opaque locations (strings it hands out). A
writable store receives data through a `StoreWriter`: bytes go to a staging
file, and `commit()` makes them durable and visible at their final location
in one atomic step. Names are derived from (image id, upload token), so a
controller that finds an upload dead can remove its leftovers without having
written them.
"""

from abc import ABC, abstractmethod

# Reads of stored data (downloads): large pieces keep the WSGI server's per-chunk work low.
CHUNK_BYTES = 1024 * 1024


def read_chunks(read, length=None):
    """Call read(n) for chunks of up to CHUNK_BYTES until `length` bytes (or EOF when None)."""
    remaining = length
    while remaining is None or remaining > 0:
        chunk = read(CHUNK_BYTES if remaining is None else min(CHUNK_BYTES, remaining))
        if not chunk:
            return
        if remaining is not None:
            remaining -= len(chunk)
        yield chunk


class StoreError(Exception):
    """The store could not do what was asked (I/O error, read-only store, missing data)."""


class StoreWriter(ABC):
    # A local file holding the bytes written so far, for inspectors that need a path.
    local_path = None

    @abstractmethod
    def write(self, chunk):
        """Append bytes."""

    @abstractmethod
    def commit(self):
        """Make the data durable at its final place and return its location."""

    @abstractmethod
    def abort(self):
        """Drop everything written; harmless after commit() failed or when called twice."""


class Store(ABC):
    name = ""
    writable = False
    # True when the data can change behind our back, so reads are checked against size and sha256.
    verify_reads = False

    def writer(self, image_id, upload_token):
        raise StoreError(f"the {self.name} store is read-only")

    def upload_location(self, image_id, upload_token):
        """Where the data of upload `upload_token` lands once committed."""
        raise StoreError(f"the {self.name} store is read-only")

    def discard_upload(self, image_id, upload_token):
        """Remove whatever an upload left behind (staged or committed); idempotent."""
        raise StoreError(f"the {self.name} store is read-only")

    @abstractmethod
    def open_range(self, location, start=0, length=None):
        """An iterator of byte chunks from `start`, `length` bytes long (to the end when None)."""

    @abstractmethod
    def delete(self, location):
        """Forget the data at `location`; idempotent. Read-only stores only drop their reference."""

    def disk_usage(self):
        """(total, used, free) bytes of the space the store writes to, or None when it cannot tell."""
        return None
