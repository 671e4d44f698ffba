"""Check a streamed request body against its declared SHA-256 while it is read, never buffering it.

A view taking a large body (an image upload) sets `streams_request_body = True`,
so that API-key authentication leaves the body unread, and reads the body
through `request_body(request)`:

    class ImageFileView(APIView):
        streams_request_body = True

        def put(self, request, pk):
            body = request_body(request)
            while chunk := body.read(1 << 20):
                destination.write(chunk)

The SHA-256 is the one the client declared in X-Cloudmgr-Content-SHA256 —
covered by the signature on an API-key request, optional on a token request.
When the last byte has been read and the hash differs, `read` raises
BodyHashMismatch (400, code body_hash_mismatch): the view must then discard
what it wrote, e.g. by letting the error leave its service's transaction.
"""

import hashlib
import re

from apps.core.errors import ValidationFailed

from .signature import CONTENT_SHA256_META

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BodyHashMismatch(ValidationFailed):
    code = "body_hash_mismatch"

    def __init__(self):
        super().__init__("The body does not match its SHA-256 in X-Cloudmgr-Content-SHA256.")


class VerifiedStream:
    """A readable over `stream` that hashes what passes and checks the hash at the end of the body."""

    def __init__(self, stream, expected_sha256, length=None):
        self._stream = stream
        self._expected = expected_sha256
        self._length = length
        self._digest = hashlib.sha256()
        self._seen = 0
        self._checked = False

    def read(self, size=-1):
        if self._checked:
            return b""
        chunk = self._stream.read(size)
        self._digest.update(chunk)
        self._seen += len(chunk)
        reached_length = self._length is not None and self._seen >= self._length
        if not chunk or size is None or size < 0 or reached_length:
            self._check()
        return chunk

    @property
    def bytes_read(self):
        return self._seen

    def _check(self):
        self._checked = True
        if self._digest.hexdigest() != self._expected:
            raise BodyHashMismatch()


def declared_sha256(request):
    """The body's SHA-256 as signed (API key) or declared (any request), or None."""
    signed = getattr(getattr(request, "auth", None), "content_sha256", None)
    if signed:
        return signed
    declared = request.META.get(CONTENT_SHA256_META)
    if declared is None:
        return None
    if not _SHA256.match(declared):
        raise ValidationFailed(
            "X-Cloudmgr-Content-SHA256 must be a SHA-256 in lower-case hex.", code="malformed_content_sha256"
        )
    return declared


def request_body(request):
    """The body of a DRF or Django request as a stream; checked at its end when a SHA-256 was declared."""
    django_request = getattr(request, "_request", request)
    expected = declared_sha256(request)
    if expected is None:
        return django_request
    length = int(django_request.META.get("CONTENT_LENGTH") or 0)
    return VerifiedStream(django_request, expected, length)
