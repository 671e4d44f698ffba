"""Signing in to and out of the portal: throttled like token logins, and audited."""

from django.contrib.auth import authenticate

from apps.audit.recorder import audited
from apps.core.errors import NotAuthenticated
from apps.identity.actor import Actor
from apps.identity.policy import Principal
from apps.identity.services import throttle
from apps.identity.services.tokens import chain_disabled


def check_credentials(username, password, client_address):
    """The user, or NotAuthenticated/Throttled. Every attempt is audited as portal.session.create."""
    throttle.check(username, client_address)
    user = authenticate(None, username=username, password=password)
    if user is None:
        # Counted before the audited block: its rollback must not undo the count.
        throttle.record_failure(username, client_address)
    attempt = Actor(Principal(user), client_address, "portal")
    with audited(attempt, "portal.session.create") as op:
        op.details = {"username": username}
        if user is None:
            raise NotAuthenticated("Wrong username or password.", code="invalid_credentials")
        op.target, op.object = user.target(), user
        if chain_disabled(user.domain):
            raise NotAuthenticated("Your domain is disabled.", code="domain_disabled")
    throttle.reset_account(username)
    return user


def record_sign_out(actor):
    with audited(actor, "portal.session.delete", target=actor.user.target(), obj=actor.user):
        pass
