"""Request bodies that come too slowly are cut, so slow clients cannot hold the HTTP threads.

Each request is served by one of a controller's CLOUDMGR_HTTP_THREADS threads
for as long as its body takes to arrive. Two bounds, both per request:

- idle: a read that receives nothing for CLOUDMGR_HTTP_IDLE_TIMEOUT_SECONDS
  fails (cheroot's socket timeout, which `runcontroller` sets to this value);
- rate: once a body has been arriving for longer than that, it must average
  CLOUDMGR_HTTP_BODY_MIN_BYTES_PER_SECOND, or the next read fails. A client
  sending a byte every few seconds is never idle, but it is this slow.

Either way the request fails with `408 request_body_too_slow` and the thread
is free again. `paced(application)` wraps the WSGI application to do this.
"""

import time

from cheroot.server import KnownLengthRFile
from django.conf import settings

from apps.core.errors import ServiceError


class BodyTooSlow(ServiceError):
    status = 408
    code = "request_body_too_slow"

    def __init__(self):
        super().__init__("The request body arrived too slowly; the request was cut.")


class PacedReader:
    """cheroot's buffered socket reader, read one arrival at a time (read1) with the pace checked
    between arrivals: a plain read(n) would wait, however slowly they came, for all n bytes."""

    def __init__(self, rfile, on_cut):
        self._rfile = rfile
        self._on_cut = on_cut
        self._started = time.monotonic()
        self._received = 0

    def _cut(self):
        self._on_cut()
        return BodyTooSlow()

    def _pace(self, count):
        self._received += count
        elapsed = time.monotonic() - self._started
        if elapsed > settings.CLOUDMGR_HTTP_IDLE_TIMEOUT_SECONDS and (
            self._received < elapsed * settings.CLOUDMGR_HTTP_BODY_MIN_BYTES_PER_SECOND
        ):
            raise self._cut()

    def read(self, size):
        parts = []
        while size > 0:
            try:
                chunk = self._rfile.read1(size)
            except TimeoutError as idle:
                raise self._cut() from idle
            if not chunk:
                break
            self._pace(len(chunk))
            parts.append(chunk)
            size -= len(chunk)
        return b"".join(parts)

    def readline(self, size=-1):
        try:
            line = self._rfile.readline(size)
        except TimeoutError as idle:
            raise self._cut() from idle
        self._pace(len(line))
        return line


def paced(application):
    """The WSGI application, with every body of a known length read through a PacedReader.

    A cut request's connection is closed after its 408: cheroot would otherwise read
    the rest of the body, as slowly as it comes, to keep the connection open. (A
    chunked body is left as cheroot reads it: its idle timeout still applies.)
    """

    def wrapped(environ, start_response):
        body = environ.get("wsgi.input")
        if isinstance(body, KnownLengthRFile):
            # In place: cheroot counts what is left of the body on this very object.
            body.rfile = PacedReader(body.rfile, lambda: _close_after_response(start_response))
        return application(environ, start_response)

    return wrapped


def _close_after_response(start_response):
    """cheroot's start_response is its gateway's method; the gateway holds the request."""
    request = getattr(getattr(start_response, "__self__", None), "req", None)
    if request is not None:
        request.close_connection = True
