"""Request middleware: the real client address, and a clean answer while the database is away."""

import logging

from django.db import InterfaceError, OperationalError, connections
from django.http import JsonResponse

from .client_address import client_address

log = logging.getLogger(__name__)


class ClientAddressMiddleware:
    """Records the real client address on the request for audit and throttling."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.client_address = client_address(request.META)
        return self.get_response(request)


class DatabaseOutageMiddleware:
    """A lost database connection answers 503 with the error envelope, not a 500 page.

    Connections are kept between requests and not health-checked (that would cost a
    statement on every request); the request that finds one broken gets a 503 and the
    connection is dropped, so the thread's next request reconnects.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        log.warning("database unavailable during %s %s: %s", request.method, request.path, exception)
        for connection in connections.all(initialized_only=True):
            connection.close_if_unusable_or_obsolete()
        body = {
            "error": {
                "code": "database_unavailable",
                "message": "The database is unavailable; try again shortly.",
                "details": {},
            }
        }
        return JsonResponse(body, status=503, headers={"Retry-After": "5"})
