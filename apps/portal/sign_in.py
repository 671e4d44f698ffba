"""Signing in to and out of the portal: throttled like token logins, and audited."""

from apps.audit.recorder import audited
from apps.identity.services.login import login_attempt


def check_credentials(username, password, client_address):
    """The user, or NotAuthenticated/Throttled. Every attempt is audited as portal.session.create."""
    with login_attempt(
        username=username,
        password=password,
        client_address=client_address,
        interface="portal",
        action="portal.session.create",
    ) as (_, user):
        return user


def record_sign_out(actor):
    with audited(actor, "portal.session.delete", target=actor.user.target(), obj=actor.user):
        pass
