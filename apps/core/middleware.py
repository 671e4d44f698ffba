"""Middleware that records the real client address on the request for audit and throttling."""

from .client_address import client_address


class ClientAddressMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.client_address = client_address(request.META)
        return self.get_response(request)
