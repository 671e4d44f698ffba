"""Request middleware: the real client address, and a clean answer while the database is away."""

import logging

from django.db import InterfaceError, OperationalError, connections
from django.http import JsonResponse

from .client_address import client_address
from .slow_clients import BodyTooSlow

log = logging.getLogger(__name__)


class ClientAddressMiddleware:
    """Records the real client address on the request for audit and throttling."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.client_address = client_address(request.META)
        return self.get_response(request)


class DatabaseOutageMiddleware:
    """A lost database connection answers 503 with the error envelope, not a 500 page
    (and a request body cut for its slowness 408, wherever it was being read).

    Connections are kept between requests and not health-checked (that would cost a
    statement on every request); the request that finds one broken gets a 503 and the
    connection is dropped, so the thread's next request reconnects.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, BodyTooSlow):
            return _envelope(exception.status, exception.code, exception.message)
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        log.warning("database unavailable during %s %s: %s", request.method, request.path, exception)
        for connection in connections.all(initialized_only=True):
            connection.close_if_unusable_or_obsolete()
        return _envelope(
            503,
            "database_unavailable",
            "The database is unavailable; try again shortly.",
            {"Retry-After": "5"},
        )


def _envelope(status, code, message, headers=None):
    body = {"error": {"code": code, "message": message, "details": {}}}
    return JsonResponse(body, status=status, headers=headers)
