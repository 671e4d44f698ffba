"""Errors a user can cause, each with a stable code.

Services raise these; the API turns them into the error envelope, the portal
into form errors and commands into one line and a non-zero exit.
"""


class ServiceError(Exception):
    status = 400
    code = "invalid_request"

    def __init__(self, message, *, code=None, details=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class ValidationFailed(ServiceError):
    status = 400
    code = "validation_error"


class NotAuthenticated(ServiceError):
    status = 401
    code = "not_authenticated"


class PermissionDenied(ServiceError):
    status = 403
    code = "permission_denied"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class QuotaExceeded(Conflict):
    code = "quota_exceeded"


class Throttled(ServiceError):
    status = 429
    code = "throttled"
