"""One error envelope for every 4xx: {"error": {"code", "message", "details"}}."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from apps.core.errors import ServiceError

_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "malformed_request",
    exceptions.ValidationError: "validation_error",
}


def envelope(code, message, details=None, http_status=400, headers=None):
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return Response(body, status=http_status, headers=headers)


def _drf_code(exc):
    for cls in type(exc).__mro__:
        if cls in _DRF_CODES:
            return _DRF_CODES[cls]
    return "invalid_request"


def error_envelope_handler(exc, context):
    if isinstance(exc, ServiceError):
        return envelope(exc.code, exc.message, exc.details, exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    code = getattr(exc, "error_code", None) or _drf_code(exc)
    if isinstance(exc, exceptions.ValidationError):
        message = "The request has invalid fields."
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    else:
        message = str(exc.detail)
        details = {}
    http_status = exc.status_code
    if http_status == status.HTTP_403_FORBIDDEN and code == "not_authenticated":
        http_status = status.HTTP_401_UNAUTHORIZED
    return envelope(code, message, details, http_status, headers)
