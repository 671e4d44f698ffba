"""HTTP Range requests on image data (RFC 9110 §14): one byte range, or the whole image."""

from apps.core.errors import ServiceError


class RangeNotSatisfiable(ServiceError):
    status = 416
    code = "range_not_satisfiable"


def requested_range(header, size, *, if_range=None, etag=None):
    """(start, length) of a satisfiable single range, None for the whole image, or raise.

    Multiple ranges and malformed headers are answered with the whole image, as
    the RFC allows; an If-Range that does not match the ETag does the same.
    """
    if not header or not header.startswith("bytes=") or (if_range and if_range != etag):
        return None
    spec = header[len("bytes=") :].strip()
    if "," in spec:
        return None
    first, dash, last = spec.partition("-")
    if not dash:
        return None
    try:
        if first == "":
            suffix = int(last)
            if suffix <= 0:
                raise _unsatisfiable(size)
            start, end = max(0, size - suffix), size - 1
        else:
            start = int(first)
            end = int(last) if last else size - 1
    except ValueError:
        return None
    if start < 0 or end < start:
        return None
    if start >= size:
        raise _unsatisfiable(size)
    end = min(end, size - 1)
    return start, end - start + 1


def _unsatisfiable(size):
    return RangeNotSatisfiable(
        f"The image has {size} bytes; the requested range is outside it.", details={"size_bytes": size}
    )
