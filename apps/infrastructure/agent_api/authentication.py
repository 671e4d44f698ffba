"""Which host signed an agent request: the signature checked with the key it enrolled, nonces used once."""

import hashlib
from datetime import timedelta

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication

from agent import protocol, signing
from apps.core.errors import NotAuthenticated
from apps.core.policy import Principal
from apps.identity.api.authentication import AuthenticationFailed
from apps.identity.apikeys.nonces import first_use

from ..models import Host
from .nonce_read import nonce_key


def _remember_nonce(host, nonce, ttl_seconds):
    return first_use(*nonce_key(host, nonce), timezone.now() + timedelta(seconds=ttl_seconds))


def enrolled_host(name):
    return Host.objects.select_related("zone").filter(name=name).exclude(public_key="").first()


def signed_host(request, body=None, find_host=enrolled_host):
    """The Host whose key signed this request, or NotAuthenticated (401) with the protocol's reason.

    `body` is the request body when it was read; None for a body still to be
    streamed, whose hash the caller compares with `.content_sha256` afterwards.
    `find_host(name)` reads the enrolled host of that name (None if there is none);
    a caller may read more with it in the same statement, and remember the nonce
    there too (setting `.nonce_fresh` on the host).
    """
    headers = {name: value for name, value in request.headers.items()}
    # One read of the host serves the signature check and the caller: every agent request needs both.
    hosts = {}

    def public_key_for_host(name):
        host = find_host(name)
        hosts[name] = host
        return host.public_key if host is not None else None

    def remember_nonce(name, nonce, ttl_seconds):
        # A reader that remembered the nonce in its own statement says so on the host it read.
        fresh = getattr(hosts[name], "nonce_fresh", None)
        return fresh if fresh is not None else _remember_nonce(name, nonce, ttl_seconds)

    try:
        verified = signing.verify_request(
            headers,
            method=request.method,
            path=request.get_full_path(),
            public_key_for_host=public_key_for_host,
            remember_nonce=remember_nonce,
            body_sha256=hashlib.sha256(body).hexdigest() if body is not None else None,
        )
    except protocol.RequestRefused as exc:
        raise NotAuthenticated(str(exc), code=f"agent_{exc.code}") from exc
    return hosts[verified.host], verified


class HostPrincipal(Principal):
    """A host, authenticated by its signature: no user, no grants; views decide what it may reach."""

    def __init__(self, host, content_sha256=None):
        super().__init__(None, grants=[])
        self.host = host
        # The signed hash of a body still to be streamed: apps.identity.apikeys.streaming checks it.
        self.content_sha256 = content_sha256


class SignedHost:
    """DRF's request.user for a host (DRF wants something authenticated there)."""

    is_authenticated = True

    def __init__(self, host):
        self.host = host


class HostSignatureAuthentication(BaseAuthentication):
    """DRF authentication of agent requests that carry signature headers.

    A bodiless request (GET, HEAD) is checked whole; a PUT's body is left to be
    streamed, and its signed hash rides on the principal for `request_body()`.
    """

    def authenticate(self, request):
        if signing.HEADER_SIGNATURE not in request.headers:
            return None
        streamed = request.method == "PUT"
        try:
            host, verified = signed_host(request._request, None if streamed else b"")
        except NotAuthenticated as error:
            raise AuthenticationFailed(error) from error
        return SignedHost(host), HostPrincipal(host, verified.content_sha256 if streamed else None)
