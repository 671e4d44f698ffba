"""Revoking tokens when what they stood for changes: effective on the next request."""

from django.db.models import Q
from django.utils import timezone

from ..models import Token


def _revoke(condition):
    return Token.objects.filter(condition, revoked_at__isnull=True).update(revoked_at=timezone.now())


def revoke_user_tokens(user):
    return _revoke(Q(user=user))


def revoke_project_tokens(project):
    return _revoke(Q(scope_project=project))


def revoke_domain_tokens(domain):
    """Tokens of the subtree's users and tokens scoped anywhere in the subtree."""
    return _revoke(
        Q(user__domain__path__startswith=domain.path)
        | Q(scope_domain__path__startswith=domain.path)
        | Q(scope_project__domain__path__startswith=domain.path)
    )
