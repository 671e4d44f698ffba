"""OpenAPI descriptions of cloudmgr's authentication schemes, for drf-spectacular."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "apps.identity.api.authentication.TokenAuthentication"
    name = "token"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "POST /api/v1/auth/tokens/"}


class PortalSessionScheme(OpenApiAuthenticationExtension):
    target_class = "apps.identity.api.authentication.PortalSessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.identity.api.apikey_authentication.ApiKeyAuthentication"
    name = "apiKeySignature"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "CLOUDMGR-HMAC-SHA256 Credential=<access key>, Signature=<hex>, with the"
            " X-Cloudmgr-Date, X-Cloudmgr-Nonce and X-Cloudmgr-Content-SHA256 headers (docs/api.md).",
        }
