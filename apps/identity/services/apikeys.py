"""API keys: create one (its secret is shown once), rename, disable or enable, delete — each audited.

A user manages their own keys on projects where they hold a role; an
administrator of the user's domain may see, disable and delete them. A request
signed with an API key may not create keys or enable them: a leaked key must
not be able to outlive its own deletion.
"""

import base64
import secrets

from django.conf import settings

from apps.audit.recorder import audited
from apps.core.errors import Conflict, PermissionDenied, ValidationFailed

from ..apikeys.encryption import UnsealError, seal, sealed_with_current_key, unseal
from ..domain_chain import chain_disabled
from ..models import ApiKey, User
from .common import require
from .users import require_holds_what_user_holds

ACCESS_KEY_PREFIX = "CMK"


def _new_access_key():
    return ACCESS_KEY_PREFIX + base64.b32encode(secrets.token_bytes(10)).decode()


def _refuse_api_key_principal(actor, what):
    if getattr(actor.principal, "api_key", None) is not None:
        raise PermissionDenied(
            f"A request signed with an API key cannot {what}; use a password or a token.",
            code="api_key_not_allowed",
        )


def _owned(actor, key):
    return actor.user is not None and key.user_id == actor.user.pk


def _require_administers_owner(actor, action, key, message):
    """Like managing the user: only an administrator who holds at least what the owner holds."""
    require(actor, action, key.user.target(), message)
    require_holds_what_user_holds(actor, key.user)


def create_api_key(actor, *, project, name=""):
    """Return (ApiKey, secret). The secret is not kept in clear anywhere: show it once."""
    action = "identity.api_key.create"
    with audited(actor, action, target=project.target()) as op:
        if actor.user is None:
            raise ValidationFailed("API keys belong to users.", code="no_user")
        _refuse_api_key_principal(actor, "create API keys")
        if not actor.can(action, project.target()):
            raise PermissionDenied(f"You hold no role on project {project}.", code="scope_not_allowed")
        if not project.enabled or chain_disabled(project.domain):
            raise PermissionDenied("That project is disabled.", code="project_disabled")
        # The owner's row lock serialises concurrent creations, so the limit holds under any race.
        User.objects.select_for_update().filter(pk=actor.user.pk).exists()
        limit = settings.CLOUDMGR_API_KEYS_MAX_PER_USER
        if ApiKey.objects.filter(user=actor.user).count() >= limit:
            raise Conflict(
                f"You already have {limit} API keys, the most allowed; delete one first.",
                code="api_key_limit_reached",
                details={"limit": limit},
            )
        secret = secrets.token_urlsafe(30)
        key = ApiKey(user=actor.user, project=project, name=name, access_key=_new_access_key())
        key.sealed_secret = seal(secret, key.access_key)
        key.save()
        op.object = key
        op.details = {"access_key": key.access_key, "project": str(project)}
    return key, secret


def update_api_key(actor, key, *, name=None, enabled=None):
    action = "identity.api_key.update"
    target = key.user.target()
    with audited(actor, action, target=target, obj=key) as op:
        own = _owned(actor, key)
        administers = actor.can(action, target)
        if not own:
            _require_administers_owner(actor, action, key, f"You may not change the API keys of {key.user}.")
        if enabled:
            _refuse_api_key_principal(actor, "enable API keys")
            if key.disabled_by_admin and not administers:
                raise PermissionDenied(
                    "An administrator disabled this key; only an administrator may enable it.",
                    code="disabled_by_administrator",
                )
        changes = {}
        if name is not None and name != key.name:
            changes["name"] = key.name = name
        if enabled is not None and enabled != key.enabled:
            changes["enabled"] = key.enabled = enabled
            key.disabled_by_admin = not enabled and not own
        op.details = {"access_key": key.access_key, "changes": changes}
        key.save(update_fields=["name", "enabled", "disabled_by_admin"])
    return key


def delete_api_key(actor, key):
    action = "identity.api_key.delete"
    target = key.user.target()
    with audited(actor, action, target=target, obj=key) as op:
        if not _owned(actor, key):
            _require_administers_owner(actor, action, key, f"You may not delete the API keys of {key.user}.")
        op.details = {"access_key": key.access_key}
        key.delete()


def disable_user_api_keys(user):
    """Every key of a user that left the directory: disabled as by an administrator."""
    return ApiKey.objects.filter(user=user, enabled=True).update(enabled=False, disabled_by_admin=True)


def reseal_all():
    """Rewrite every secret sealed with an old passphrase under the current one.

    Returns (resealed, unopenable): the keys no configured passphrase opens stay as they are.
    """
    resealed = unopenable = 0
    for key in ApiKey.objects.only("id", "access_key", "sealed_secret").iterator():
        if sealed_with_current_key(key.sealed_secret):
            continue
        try:
            secret = unseal(key.sealed_secret, key.access_key)
        except UnsealError:
            unopenable += 1
            continue
        ApiKey.objects.filter(pk=key.pk).update(sealed_secret=seal(secret, key.access_key))
        resealed += 1
    return resealed, unopenable
