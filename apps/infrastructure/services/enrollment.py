"""An agent's enrollment: a one-time token buys the registration of the host's public key."""

import ipaddress

from django.conf import settings
from django.utils import timezone

from apps.audit.recorder import audited
from apps.core.actor import Actor
from apps.core.errors import Conflict, NotAuthenticated
from apps.core.policy import SystemPrincipal
from apps.core.tree import PLATFORM
from apps.identity.services import throttle

from .. import states
from ..keys import parse_public_key, stored_form
from ..models import EnrollmentToken
from .hosts import token_hash


def enroll(raw_token, public_key, *, host_name="", client_address=""):
    """Register the key of the host the token was issued for; the token works once, before it expires.

    An agent that names its host is refused, its token kept, when the token is
    another host's. The host goes to `down` until the agent's first heartbeat,
    signed with the new key.

    Enrollment is unauthenticated, so bad tokens are counted per address: past
    CLOUDMGR_ENROLL_MAX_FAILURES_PER_ADDRESS in the throttle window an address is
    refused before anything is read or audited, which bounds the audit rows a
    guesser can write.
    """
    key = parse_public_key(public_key)
    counters = {f"enroll:{client_address}": settings.CLOUDMGR_ENROLL_MAX_FAILURES_PER_ADDRESS}
    throttle.refuse_if_over(
        counters,
        message="Too many failed enrollments from this address; try again later.",
        code="enroll_throttled",
    )
    try:
        return _enroll(key, raw_token, host_name, client_address)
    except NotAuthenticated:
        throttle.count_failure(counters)
        raise


def _enroll(key, raw_token, host_name, client_address):
    actor = Actor(SystemPrincipal(), client_address, "agent")
    with audited(actor, "infrastructure.agent.enroll", target=PLATFORM) as op:
        token = (
            EnrollmentToken.objects.select_for_update(of=("self",))
            .select_related("host")
            .filter(
                token_hash=token_hash(raw_token or ""), used_at__isnull=True, expires_at__gt=timezone.now()
            )
            .first()
        )
        if token is None:
            raise NotAuthenticated(
                "The enrollment token is unknown, already used or expired.", code="bad_enrollment_token"
            )
        op.object = token.host
        if host_name and host_name != token.host.name:
            raise Conflict(
                f"This token enrolls host {token.host.name}, not {host_name}.", code="token_for_other_host"
            )
        token.used_at = timezone.now()
        token.save(update_fields=["used_at"])
        # The address the agent enrolled from stands in until an admin sets the management address.
        address = token.host.management_ip or _ip_or_none(client_address)
        states.move_one(token.host, "enroll", public_key=stored_form(key), management_ip=address)
        token.host.refresh_from_db()
    return token.host


def _ip_or_none(address):
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
