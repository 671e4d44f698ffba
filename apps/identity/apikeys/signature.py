"""Read and check the signature of a request signed with an API key.

The scheme (headers and string to sign) is defined once, in cloudmgr/client.py,
which both this module and API clients use.
"""

import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings

from apps.core.errors import NotAuthenticated
from cloudmgr import client

_AUTHORIZATION = re.compile(
    rf"^{client.ALGORITHM} Credential=(?P<access_key>[A-Z0-9]{{4,32}}),"
    r" ?Signature=(?P<signature>[0-9a-f]{64})$"
)
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _meta_name(header):
    return "HTTP_" + header.upper().replace("-", "_")


DATE_META = _meta_name(client.DATE_HEADER)
NONCE_META = _meta_name(client.NONCE_HEADER)
CONTENT_SHA256_META = _meta_name(client.CONTENT_SHA256_HEADER)


def is_signed(request):
    return request.META.get("HTTP_AUTHORIZATION", "").startswith(client.ALGORITHM + " ")


@dataclass(frozen=True)
class SignedRequest:
    access_key: str
    signature: str
    date: datetime
    nonce: str
    content_sha256: str
    string_to_sign: str

    def replay_window_ends(self):
        """When a copy of this request stops passing the time-window check."""
        return self.date + window()


def window_seconds():
    return settings.CLOUDMGR_API_KEY_SIGNATURE_WINDOW_SECONDS


def window():
    return timedelta(seconds=window_seconds())


def _malformed(message):
    return NotAuthenticated(message, code="malformed_signature")


def parse(request):
    """The SignedRequest of a Django or DRF request, or NotAuthenticated(malformed_signature)."""
    meta = request.META
    match = _AUTHORIZATION.match(meta.get("HTTP_AUTHORIZATION", ""))
    if match is None:
        raise _malformed(
            f"Authorization must read '{client.ALGORITHM} Credential=<access key>, Signature=<64 hex>'."
        )
    date_text = meta.get(DATE_META, "")
    try:
        date = datetime.strptime(date_text, client.DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise _malformed(f"{client.DATE_HEADER} must be a UTC time like 2026-11-25T12:00:00Z.") from None
    nonce = meta.get(NONCE_META, "")
    if not _NONCE.match(nonce):
        raise _malformed(f"{client.NONCE_HEADER} must be 16 to 64 of A-Z a-z 0-9 _ -.")
    content_sha256 = meta.get(CONTENT_SHA256_META, "")
    if not _SHA256.match(content_sha256):
        raise _malformed(f"{client.CONTENT_SHA256_HEADER} must be the body's SHA-256 in lower-case hex.")
    text = client.string_to_sign(
        access_key=match["access_key"],
        method=request.method,
        decoded_path=request.path,
        query_string=meta.get("QUERY_STRING", ""),
        date=date_text,
        nonce=nonce,
        content_sha256=content_sha256,
    )
    return SignedRequest(match["access_key"], match["signature"], date, nonce, content_sha256, text)


def check_window(signed, now):
    if abs(now - signed.date) > window():
        raise NotAuthenticated(
            f"{client.DATE_HEADER} is more than {window_seconds()} seconds away from the server's clock.",
            code="timestamp_out_of_window",
            details={"server_time": client.format_date(now)},
        )


def check_signature(signed, secret):
    expected = client.signature(secret, signed.string_to_sign)
    if not hmac.compare_digest(expected, signed.signature):
        raise NotAuthenticated("The request signature does not match.", code="invalid_signature")
