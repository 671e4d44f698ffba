"""One login attempt, shared by the token API and the portal: throttled, checked, audited."""

from contextlib import contextmanager

from django.contrib.auth import authenticate

from apps.audit.recorder import audited
from apps.core.actor import Actor
from apps.core.errors import NotAuthenticated
from apps.core.policy import Principal

from ..domain_chain import chain_disabled
from . import throttle


@contextmanager
def login_attempt(*, username, password, client_address, interface, action):
    """Yield (audit operation, user) for good credentials; raise NotAuthenticated or Throttled.

    The body runs inside the audited transaction, so what it creates (a token, a
    session record) and the audit event commit together.
    """
    throttle.check(username, client_address)
    user = authenticate(None, username=username, password=password)
    if user is None:
        # Counted outside the audited transaction: the failure must not roll back with it.
        throttle.record_failure(username, client_address)
    with audited(Actor(Principal(user), client_address, interface), action) as op:
        op.details = {"username": username}
        if user is None:
            raise NotAuthenticated("Wrong username or password.", code="invalid_credentials")
        op.target, op.object = user.target(), user
        if chain_disabled(user.domain):
            raise NotAuthenticated("Your domain is disabled.", code="domain_disabled")
        yield op, user
    throttle.forget_failures(username, client_address)
