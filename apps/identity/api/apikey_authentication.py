"""DRF authentication of requests signed with an API key (scheme: cloudmgr/client.py)."""

import hashlib

from django.core.exceptions import RequestDataTooBig
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from apps.core.errors import NotAuthenticated, ServiceError
from apps.core.policy import Principal
from cloudmgr.client import ALGORITHM

from ..apikeys import signature, verification
from .authentication import AuthenticationFailed


class RequestRefused(exceptions.APIException):
    """A refusal that is not about the credentials (a bad body, the nonce store down), with its code."""

    def __init__(self, error):
        super().__init__(error.message)
        self.status_code = error.status
        self.error_code = error.code


class BodyTooLarge(ServiceError):
    status = 413
    code = "body_too_large"


def _streams_body(request):
    view = (getattr(request, "parser_context", None) or {}).get("view")
    return getattr(view, "streams_request_body", False)


def _body_sha256(request):
    try:
        return hashlib.sha256(request.body).hexdigest()
    except RequestDataTooBig as exc:
        raise BodyTooLarge("The body is too large for this endpoint.") from exc


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        if not signature.is_signed(request):
            return None
        try:
            signed = signature.parse(request)
            body_sha256 = None if _streams_body(request) else _body_sha256(request)
            key, grants = verification.verify(signed, body_sha256)
        except NotAuthenticated as error:
            raise AuthenticationFailed(error) from error
        except ServiceError as error:
            raise RequestRefused(error) from error
        principal = Principal(key.user, scope_project=key.project, grants=grants)
        principal.api_key = key
        principal.content_sha256 = signed.content_sha256
        return key.user, principal

    def authenticate_header(self, request):
        return f'{ALGORITHM} realm="cloudmgr"'
