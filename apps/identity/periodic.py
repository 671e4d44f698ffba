"""Identity's periodic work: dropping expired tokens and stale login-failure counters."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .models import LoginFailure, Token


def purge_expired_tokens():
    now = timezone.now()
    deleted, _ = Token.objects.filter(Q(expires_at__lte=now) | Q(revoked_at__isnull=False)).delete()
    return deleted


def purge_login_failures():
    window = timedelta(seconds=settings.CLOUDMGR_LOGIN_THROTTLE_WINDOW_SECONDS)
    deleted, _ = LoginFailure.objects.filter(window_started_at__lt=timezone.now() - window).delete()
    return deleted
