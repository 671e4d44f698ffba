"""Decide whether a signed request may act as its API key's user, in at most two SQL statements.

1. the key with its user, the user's domain, its project and the project's
   domain, whether a domain above either is disabled, and the user's grants
   (which then serve the rest of the request);
2. the nonce, only when the nonce store is PostgreSQL (with Redis it is no SQL).

Everything is read on every request, so disabling the user, taking their role
away or deleting the key stops the key on the next request.
"""

import functools
import logging

from django.utils import timezone

from apps.core.errors import NotAuthenticated

from ..grants import grants_from_json, grants_subquery
from ..models import ApiKey, Domain, Project, User
from ..rowload import Joined, RowLoader, disabled_above_sql
from . import nonces, signature
from .encryption import UnsealError, unseal
from .streaming import BodyHashMismatch

log = logging.getLogger(__name__)


@functools.cache
def _key_loader():
    return RowLoader(
        "identity_load_api_key",
        [
            Joined(ApiKey, "k"),
            Joined(User, "u"),
            Joined(Domain, "ud"),
            Joined(Project, "p"),
            Joined(Domain, "pd"),
        ],
        """FROM identity_apikey k
           JOIN identity_user u ON u.id = k.user_id
           JOIN identity_domain ud ON ud.id = u.domain_id
           JOIN identity_project p ON p.id = k.project_id
           JOIN identity_domain pd ON pd.id = p.domain_id
          WHERE k.access_key = %(access_key)s""",
        {"access_key": "varchar"},
        [disabled_above_sql("ud.path"), disabled_above_sql("pd.path"), grants_subquery("k.user_id")],
    )


def _key(access_key):
    """The key with its user, their domain, its project, its domain and the grants, in one statement."""
    loaded = _key_loader().load({"access_key": access_key})
    if loaded is None:
        return None
    (key, user, user_domain, project, project_domain), disabled = loaded
    user.domain = user_domain
    project.domain = project_domain
    key.user, key.project = user, project
    key.user_domain_disabled, key.project_domain_disabled, grants = disabled
    key.grants = grants_from_json(grants)
    return key


def _secret(key):
    try:
        return unseal(key.sealed_secret, key.access_key)
    except UnsealError as exc:
        log.warning("API key %s cannot be used: %s", key.access_key, exc)
        raise NotAuthenticated(
            "This API key cannot be used: the controller's encryption key changed. Create a new key.",
            code="api_key_unusable",
        ) from exc


def _check_state(key):
    if not key.enabled:
        raise NotAuthenticated("This API key is disabled.", code="api_key_disabled")
    if not key.user.is_active:
        raise NotAuthenticated("The key's user is disabled.", code="user_disabled")
    if key.user_domain_disabled:
        raise NotAuthenticated("The key's user's domain is disabled.", code="domain_disabled")
    if not key.project.enabled or key.project_domain_disabled:
        raise NotAuthenticated("The key's project is disabled.", code="project_disabled")


def verify(signed, body_sha256):
    """The ApiKey (user and project loaded) and its user's grants, or a refusal with its own code.

    `body_sha256` is the hash of the body as received, or None when the view
    checks a streamed body itself (apps.identity.apikeys.streaming).
    """
    now = timezone.now()
    signature.check_window(signed, now)
    key = _key(signed.access_key)
    if key is None:
        raise NotAuthenticated("No such API key.", code="unknown_api_key")
    signature.check_signature(signed, _secret(key))
    if body_sha256 is not None and body_sha256 != signed.content_sha256:
        raise BodyHashMismatch()
    if not nonces.first_use(signed.access_key, signed.nonce, signed.replay_window_ends()):
        raise NotAuthenticated("This request was already received once.", code="nonce_reused")
    _check_state(key)
    target = key.project.target()
    if not any(grant.covers(target) for grant in key.grants):
        raise NotAuthenticated("The key's user no longer holds a role on its project.", code="role_missing")
    return key, key.grants
