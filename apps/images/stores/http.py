"""The read-only HTTP store: images registered at an external URL, read through the SSRF guard.

cloudmgr does not own this data and never deletes it. The remote bytes may
change after registration, so reads through this store are verified against
the recorded size and checksum (`verify_reads`).
"""

from apps.core.errors import ServiceError

from ..remote import open_url
from .base import Store, StoreError, read_chunks


class HttpStore(Store):
    name = "http"
    verify_reads = True

    def open_range(self, location, start=0, length=None):
        headers = {}
        if start or length is not None:
            end = "" if length is None else str(start + length - 1)
            headers["Range"] = f"bytes={start}-{end}"
        try:
            remote = open_url(location, headers=headers)
        except ServiceError as error:
            raise StoreError(f"{error.code}: {error.message}") from error
        if headers and remote.status != 206 and start != 0:
            remote.close()
            raise StoreError(f"{location} ignored the range request")
        return _read(remote, length)

    def delete(self, location):
        """The data is not ours: forgetting the location is all there is to do."""


def _read(remote, length):
    with remote:
        yield from read_chunks(remote.read, length)
