"""Scrape tokens: what Prometheus presents to read /metrics (`Authorization: Bearer cms_…`).

A token is shown once when created (`manage.py createscrapetoken`); only its
SHA-256 is stored. It grants reading the metrics and nothing else.
"""

import hashlib
import secrets

from django.db import IntegrityError
from rest_framework.authentication import BaseAuthentication

from apps.audit.recorder import audited
from apps.core.errors import Conflict, NotAuthenticated, PermissionDenied
from apps.core.policy import Grant, Principal
from apps.core.tree import PLATFORM
from apps.identity.api.authentication import AuthenticationFailed, presented_token

from .models import ScrapeToken
from .policy_actions import ADD_SCRAPER, METRICS_READ, REMOVE_SCRAPER

PREFIX = "cms_"


def _require(actor, action):
    if not actor.can(action, PLATFORM):
        raise PermissionDenied("Only cloud admins manage scrape tokens.")


def _hash(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


def create_scrape_token(actor, name):
    """(the ScrapeToken, the token itself, shown this once)."""
    raw = PREFIX + secrets.token_urlsafe(32)
    try:
        with audited(actor, ADD_SCRAPER, target=PLATFORM) as operation:
            _require(actor, ADD_SCRAPER)
            token = ScrapeToken.objects.create(name=name, token_hash=_hash(raw))
            operation.object = token
    except IntegrityError as error:
        raise Conflict(f"A scrape token named {name!r} exists.", code="scrape_token_exists") from error
    return token, raw


def delete_scrape_token(actor, name):
    with audited(actor, REMOVE_SCRAPER, target=PLATFORM):
        _require(actor, REMOVE_SCRAPER)
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
