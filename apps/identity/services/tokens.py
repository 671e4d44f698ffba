"""Log in for a token, validate a token on each request, revoke it.

A token is 32 random bytes; only its SHA-256 is stored. Validation is one
query: the token, its user, the user's domain and the token's scope, plus
whether any domain above them is disabled.
"""

import functools
import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from apps.audit.recorder import audited
from apps.core import policy
from apps.core.errors import NotAuthenticated, PermissionDenied

from .. import grants
from ..domain_chain import chain_disabled
from ..models import Domain, Project, Token, User
from ..rowload import Joined, RowLoader, disabled_above_sql
from .login import login_attempt

TOKEN_PREFIX = "cmt_"  # noqa: S105 (a marker, not a secret)


def hash_token(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


def _scope_allowed(user, project, domain):
    principal = policy.Principal(user)
    target = project.target() if project else domain.target()
    return any(grant.covers(target) for grant in principal.grants)


def issue_token(*, username, password, client_address="", project_id=None, domain_id=None, interface="api"):
    """Check the credentials and return (raw token, Token). Failures are audited and throttled."""
    with login_attempt(
        username=username,
        password=password,
        client_address=client_address,
        interface=interface,
        action="identity.token.create",
    ) as (op, user):
        project, domain = _resolve_scope(user, project_id, domain_id)
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = Token.objects.create(
            key_hash=hash_token(raw),
            user=user,
            scope_project=project,
            scope_domain=domain,
            expires_at=timezone.now() + timedelta(seconds=settings.CLOUDMGR_TOKEN_LIFETIME_SECONDS),
            client_address=client_address,
        )
        op.details["scope"] = str(project or domain or "unscoped")
    return raw, token


def _resolve_scope(user, project_id, domain_id):
    project = domain = None
    if project_id:
        project = Project.objects.select_related("domain").filter(pk=project_id).first()
        if project is None or not _scope_allowed(user, project, None):
            raise PermissionDenied("You have no role on that project.", code="scope_not_allowed")
        if not project.enabled or chain_disabled(project.domain):
            raise PermissionDenied("That project is disabled.", code="project_disabled")
    elif domain_id:
        domain = Domain.objects.filter(pk=domain_id).first()
        if domain is None or not _scope_allowed(user, None, domain):
            raise PermissionDenied("You have no role on that domain.", code="scope_not_allowed")
        if chain_disabled(domain):
            raise PermissionDenied("That domain is disabled.", code="domain_disabled")
    return project, domain


@functools.cache
def _token_loader():
    return RowLoader(
        "identity_load_token",
        [
            Joined(Token, "t"),
            Joined(User, "u"),
            Joined(Domain, "ud"),
            Joined(Project, "sp"),
            Joined(Domain, "spd"),
            Joined(Domain, "sd"),
        ],
        """FROM identity_token t
           JOIN identity_user u ON u.id = t.user_id
           JOIN identity_domain ud ON ud.id = u.domain_id
           LEFT JOIN identity_project sp ON sp.id = t.scope_project_id
           LEFT JOIN identity_domain spd ON spd.id = sp.domain_id
           LEFT JOIN identity_domain sd ON sd.id = t.scope_domain_id
          WHERE t.key_hash = %(key_hash)s""",
        {"key_hash": "varchar"},
        [
            disabled_above_sql("ud.path"),
            disabled_above_sql("spd.path"),
            disabled_above_sql("sd.path"),
            grants.grants_subquery("t.user_id"),
        ],
    )


def _load_token(raw):
    """The token with its user, their domain, its scope and the user's grants, in one statement."""
    loaded = _token_loader().load({"key_hash": hash_token(raw)})
    if loaded is None:
        return None
    (token, user, user_domain, project, project_domain, scope_domain), disabled = loaded
    user.domain = user_domain
    token.user = user
    if project is not None:
        project.domain = project_domain
    token.scope_project = project
    token.scope_domain = scope_domain
    user_disabled, token.scope_domain_disabled, token.scope_own_domain_disabled, grant_rows = disabled
    token.user_domain_disabled = user_disabled
    token.grants = grants.grants_from_json(grant_rows)
    return token


def validate(raw):
    """The Token (user and scope loaded) for a presented secret, or NotAuthenticated with a reason."""
    token = _load_token(raw)
    if token is None:
        raise NotAuthenticated("The token is not valid.", code="invalid_token")
    if token.revoked_at is not None:
        raise NotAuthenticated("The token has been revoked.", code="token_revoked")
    if token.expires_at <= timezone.now():
        raise NotAuthenticated("The token has expired.", code="token_expired")
    if not token.user.is_active:
        raise NotAuthenticated("Your account is disabled.", code="user_disabled")
    if token.user_domain_disabled:
        raise NotAuthenticated("Your domain is disabled.", code="domain_disabled")
    if token.scope_project is not None and (not token.scope_project.enabled or token.scope_domain_disabled):
        raise NotAuthenticated("The token's project is disabled.", code="project_disabled")
    if token.scope_domain is not None and token.scope_own_domain_disabled:
        raise NotAuthenticated("The token's domain is disabled.", code="domain_disabled")
    return token


def revoke(actor, token):
    with audited(actor, "identity.token.delete", target=token.user.target(), obj=token.user):
        Token.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
