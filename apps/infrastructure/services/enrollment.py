"""An agent's enrollment: a one-time token buys the registration of the host's public key (and, when
the controller runs a host CA, a TLS certificate for the host's TLS key)."""

import ipaddress

from django.conf import settings
from django.utils import timezone

from agent import protocol
from apps.audit.recorder import audited
from apps.core.actor import Actor
from apps.core.errors import Conflict, NotAuthenticated
from apps.core.policy import SystemPrincipal
from apps.core.tree import PLATFORM
from apps.identity.services import throttle

from .. import host_ca, states
from ..keys import parse_public_key, stored_form
from ..models import EnrollmentToken
from .hosts import token_hash


def enroll(
    raw_token,
    public_key,
    *,
    host_name="",
    client_address="",
    protocol_version=protocol.PROTOCOL_VERSION,
    tls_csr="",
    proves_old_key=None,
):
    """Register the key of the host the token was issued for; the token works once, before it expires.

    An agent that names its host is refused, its token kept, when the token is
    another host's. An agent older than the controller accepts is refused, saying so.
    Re-enrolling a host that has a key rotates it: `proves_old_key(host)` must say
    the request is signed with the current key, unless an admin issued the token
    for a lost key. The host goes to `down` until the agent's first heartbeat,
    signed with the new key. A certificate request (`tls_csr`) is answered when a
    host CA is configured: the host comes back with `tls_certificate` and
    `tls_ca_certificate` (PEM, empty when none was issued).

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
        return _enroll(
            key,
            raw_token,
            host_name,
            client_address,
            protocol_version=protocol_version,
            tls_csr=tls_csr,
            proves_old_key=proves_old_key,
        )
    except NotAuthenticated:
        throttle.count_failure(counters)
        raise


def _enroll(key, raw_token, host_name, client_address, *, protocol_version, tls_csr, proves_old_key):
    actor = Actor(SystemPrincipal(), client_address, "agent")
    with audited(actor, "infrastructure.agent.enroll", target=PLATFORM) as op:
        if protocol_version not in protocol.SUPPORTED_PROTOCOL_VERSIONS:
            raise Conflict(protocol.unsupported_version_message(protocol_version), code="unsupported_version")
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
        host = token.host
        op.object = host
        if host_name and host_name != host.name:
            raise Conflict(
                f"This token enrolls host {host.name}, not {host_name}.", code="token_for_other_host"
            )
        if host.public_key and not token.replaces_lost_key and not (proves_old_key and proves_old_key(host)):
            raise NotAuthenticated(
                f"Host {host.name} is enrolled: enrolling it again rotates its key, so the request must be "
                "signed with its current key (an admin issues a token for a lost key otherwise).",
                code="old_key_signature_required",
            )
        token.used_at = timezone.now()
        token.save(update_fields=["used_at"])
        # The address the agent enrolled from stands in until an admin sets the management address.
        address = host.management_ip or _ip_or_none(client_address)
        certificate = ca_certificate = serial = ""
        if tls_csr and host_ca.configured():
            certificate, ca_certificate, serial = host_ca.issue(tls_csr, host.name, address)
        op.platform_details = {"rotated": bool(host.public_key), "certificate_serial": serial}
        states.move_one(
            host,
            "enroll",
            public_key=stored_form(key),
            management_ip=address,
            protocol_version=protocol_version,
            tls_certificate_serial=serial,
        )
        host.refresh_from_db()
    host.tls_certificate, host.tls_ca_certificate = certificate, ca_certificate
    return host


def _ip_or_none(address):
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
