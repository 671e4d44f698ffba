"""Sign cloudmgr API requests with an API key, and send them: standard library only, no Django.

Programs may copy this one file. The controller checks signatures with the same
`string_to_sign`, so client and server cannot drift apart.

A signed request carries four headers:

    X-Cloudmgr-Date: 2026-11-25T12:00:00Z        UTC, within the server's window
    X-Cloudmgr-Nonce: 9f2c0a…                    16-64 of [A-Za-z0-9_-], never reused
    X-Cloudmgr-Content-SHA256: e3b0c4…           hex SHA-256 of the body (of b"" without one)
    Authorization: CLOUDMGR-HMAC-SHA256 Credential=<access key>, Signature=<hex>

Signature = hex HMAC-SHA256(secret, string_to_sign), where string_to_sign is
these lines joined by "\\n" (no trailing newline):

    CLOUDMGR-HMAC-SHA256
    <access key>
    <METHOD>
    <path, percent-decoded then percent-encoded keeping only A-Za-z0-9 - _ . ~ />
    <query: name=value pairs decoded, sorted, each side encoded the same way, joined by &>
    <X-Cloudmgr-Date>
    <X-Cloudmgr-Nonce>
    <X-Cloudmgr-Content-SHA256>

The host is not signed: proxies in front of the controller may rewrite it.
"""

import hashlib
import hmac
import http.client
import json
import secrets
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

ALGORITHM = "CLOUDMGR-HMAC-SHA256"
DATE_HEADER = "X-Cloudmgr-Date"
NONCE_HEADER = "X-Cloudmgr-Nonce"
CONTENT_SHA256_HEADER = "X-Cloudmgr-Content-SHA256"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
CHUNK_BYTES = 1 << 20
_UNRESERVED = "-_.~"
# A reused keep-alive connection the server already closed fails with one of these.
_STALE_CONNECTION = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
_IDEMPOTENT = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}


def canonical_path(decoded_path):
    return quote(decoded_path, safe="/" + _UNRESERVED)


def canonical_query(query_string):
    pairs = sorted(parse_qsl(query_string, keep_blank_values=True))
    return "&".join(f"{quote(k, safe=_UNRESERVED)}={quote(v, safe=_UNRESERVED)}" for k, v in pairs)


def string_to_sign(*, access_key, method, decoded_path, query_string, date, nonce, content_sha256):
    return "\n".join(
        [
            ALGORITHM,
            access_key,
            method.upper(),
            canonical_path(decoded_path),
            canonical_query(query_string),
            date,
            nonce,
            content_sha256,
        ]
    )


def signature(secret, text):
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def format_date(moment=None):
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime(DATE_FORMAT)


def sign(access_key, secret, method, url, content_sha256=EMPTY_SHA256, *, date=None, nonce=None):
    """The headers that sign one request to `url` (a path with its query, or a full URL)."""
    parts = urlsplit(url)
    date = date or format_date()
    nonce = nonce or secrets.token_hex(16)
    text = string_to_sign(
        access_key=access_key,
        method=method,
        decoded_path=unquote(parts.path),
        query_string=parts.query,
        date=date,
        nonce=nonce,
        content_sha256=content_sha256,
    )
    return {
        DATE_HEADER: date,
        NONCE_HEADER: nonce,
        CONTENT_SHA256_HEADER: content_sha256,
        "Authorization": f"{ALGORITHM} Credential={access_key}, Signature={signature(secret, text)}",
    }


def file_sha256(fileobj, chunk_bytes=CHUNK_BYTES):
    """SHA-256 of a seekable file from its current position, which is restored afterwards."""
    start = fileobj.tell()
    digest = hashlib.sha256()
    while chunk := fileobj.read(chunk_bytes):
        digest.update(chunk)
    fileobj.seek(start)
    return digest.hexdigest()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body) if self.body else None

    def __repr__(self):
        return f"<Response {self.status} {self.body[:200]!r}>"


class SignedClient:
    """One keep-alive connection to a controller; every request signed with the API key."""

    def __init__(self, base_url, access_key, secret, *, timeout=60):
        parts = urlsplit(base_url)
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        self._connection = connection_class(parts.netloc, timeout=timeout)
        self._prefix = parts.path.rstrip("/")
        self.access_key = access_key
        self._secret = secret

    def close(self):
        self._connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def request(self, method, path, *, body=None, query=None, headers=None):
        """Send `body` (made JSON unless bytes) and return the Response."""
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        payload = body or b""
        url = self._url(path, query)
        try:
            return self._send(method, url, payload, headers or {})
        except _STALE_CONNECTION:
            self._connection.close()
            if method.upper() not in _IDEMPOTENT:
                raise
            return self._send(method, url, payload, headers or {})

    def _send(self, method, url, payload, headers):
        # Signed on each send: a resent nonce would be refused as a replay.
        signed = sign(self.access_key, self._secret, method, url, hashlib.sha256(payload).hexdigest())
        self._connection.request(method, url, body=payload, headers={**headers, **signed})
        return self._response()

    def upload(self, method, path, fileobj, *, size, content_sha256, content_type="application/octet-stream"):
        """Stream `size` bytes of `fileobj` in chunks; the server checks them against `content_sha256`."""
        url = self._url(path, None)
        connection = self._connection
        connection.putrequest(method, url)
        headers = {
            "Content-Type": content_type,
            "Content-Length": str(size),
            **sign(self.access_key, self._secret, method, url, content_sha256),
        }
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        remaining = size
        try:
            while remaining > 0:
                chunk = fileobj.read(min(CHUNK_BYTES, remaining))
                if not chunk:
                    raise ValueError(f"the file ended {remaining} bytes short of size={size}")
                connection.send(chunk)
                remaining -= len(chunk)
        except BrokenPipeError:
            # The server answered (and closed) before reading everything: its answer says why.
            pass
        return self._response()

    def _url(self, path, query):
        url = self._prefix + path
        return f"{url}?{urlencode(query, doseq=True)}" if query else url

    def _response(self):
        response = self._connection.getresponse()
        body = response.read()
        if response.will_close:
            self._connection.close()
        return Response(response.status, dict(response.getheaders()), body)
