"""DRF authentication: API tokens (`Authorization: Bearer …` or `X-Auth-Token`) and portal sessions."""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication

from apps.core.errors import NotAuthenticated
from apps.core.policy import Principal

from ..domain_chain import chain_disabled
from ..services import tokens


class AuthenticationFailed(exceptions.AuthenticationFailed):
    def __init__(self, error):
        super().__init__(error.message)
        self.error_code = error.code


def presented_token(request):
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.META.get("HTTP_X_AUTH_TOKEN", "").strip() or None


class TokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        raw = presented_token(request)
        if not raw:
            return None
        try:
            token = tokens.validate(raw)
        except NotAuthenticated as error:
            raise AuthenticationFailed(error) from error
        principal = Principal(
            token.user,
            scope_project=token.scope_project,
            scope_domain=token.scope_domain,
            grants=token.grants,
        )
        principal.token = token
        return token.user, principal

    def authenticate_header(self, request):
        return 'Bearer realm="cloudmgr"'


class PortalSessionAuthentication(SessionAuthentication):
    """The portal's session also works on the API (with CSRF), as an unscoped principal.

    Refused, like a token or an API key, once the user's domain or one above it is disabled.
    """

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, _ = result
        if chain_disabled(user.domain):
            raise AuthenticationFailed(NotAuthenticated("Your domain is disabled.", code="domain_disabled"))
        return user, Principal(user)
