"""Move image data from a reader into a store writer: hashed, counted and inspected on the way.

One pass, fixed memory: each chunk is read once, fed to the format inspector,
hashed, written, and dropped. Nothing here touches the database; `on_chunk`
lets the caller keep the upload alive and report progress.
"""

import hashlib
from dataclasses import dataclass

from apps.core.errors import ServiceError

from .inspection import StreamInspector, Verdict

# Read size: small enough that cheroot's pure-Python reader does not churn 1 MiB buffers per
# socket read, large enough that per-chunk Python work stays negligible.
READ_BYTES = 256 * 1024


class IncompleteData(ServiceError):
    code = "incomplete_data"


@dataclass(frozen=True)
class Received:
    size_bytes: int
    sha256: str
    verdict: Verdict


def receive(
    read, writer, declared_format, *, expected_size=None, max_bytes=None, too_large=None, on_chunk=None
):
    """Drain `read(n)` into `writer`; refuse what is short, long, over `max_bytes` or unsafe.

    `too_large(size)` builds the error raised past max_bytes (the quota's wording).
    """
    inspector = StreamInspector(read, declared_format)
    digest = hashlib.sha256()
    size = 0
    while chunk := inspector.read(READ_BYTES):
        size += len(chunk)
        if expected_size is not None and size > expected_size:
            raise IncompleteData(f"More data arrived than the {expected_size} bytes announced.")
        if max_bytes is not None and size > max_bytes:
            raise too_large(size)
        digest.update(chunk)
        writer.write(chunk)
        if on_chunk is not None:
            on_chunk(size)
    if expected_size is not None and size != expected_size:
        raise IncompleteData(f"The data ended after {size} of {expected_size} bytes.")
    if size == 0:
        raise IncompleteData("No data arrived.", code="empty_image")
    return Received(size, digest.hexdigest(), inspector.verdict(writer.local_path))
