"""Scrape tokens: what Prometheus presents to read /metrics (`Authorization: Bearer cms_…`).

A token is shown once when created (`manage.py createscrapetoken`); only its
SHA-256 is stored. It grants reading the metrics and nothing else.
"""

import hashlib
import secrets

from django.db import IntegrityError
from rest_framework.authentication import BaseAuthentication

from apps.audit.recorder import audited
from apps.core.errors import Conflict, NotAuthenticated
from apps.identity.api.authentication import AuthenticationFailed, presented_token
from apps.identity.models import PLATFORM
from apps.identity.policy import Grant, Principal

from .actions import METRICS_READ
from .models import ScrapeToken

PREFIX = "cms_"


def _hash(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


def create_scrape_token(actor, name):
    """(the ScrapeToken, the token itself, shown this once)."""
    raw = PREFIX + secrets.token_urlsafe(32)
    try:
        with audited(actor, "monitoring.scrape_token.create", target=PLATFORM) as operation:
            token = ScrapeToken.objects.create(name=name, token_hash=_hash(raw))
            operation.object = token
    except IntegrityError as error:
        raise Conflict(f"A scrape token named {name!r} exists.", code="scrape_token_exists") from error
    return token, raw


def delete_scrape_token(actor, name):
    with audited(actor, "monitoring.scrape_token.delete", target=PLATFORM):
        deleted, _ = ScrapeToken.objects.filter(name=name).delete()
    return bool(deleted)


class ScrapePrincipal(Principal):
    """Prometheus: may read the metrics, nothing else."""

    def __init__(self, token):
        super().__init__(None, grants=[Grant(METRICS_READ, "/", None)])
        self.scrape_token = token


class ScrapeClient:
    """DRF's request.user for Prometheus (DRF wants something authenticated there)."""

    is_authenticated = True


class ScrapeTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        raw = presented_token(request)
        if not raw or not raw.startswith(PREFIX):
            return None
        token = ScrapeToken.objects.filter(token_hash=_hash(raw)).first()
        if token is None:
            raise AuthenticationFailed(NotAuthenticated("Unknown scrape token.", code="bad_scrape_token"))
        return ScrapeClient(), ScrapePrincipal(token)

    def authenticate_header(self, request):
        return 'Bearer realm="cloudmgr"'
