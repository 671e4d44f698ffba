"""Fencing: an operator confirms a host that stopped answering is off, so its instances may run elsewhere.

Until a host is fenced, the instances of a host that is down keep their claims
and stay where they are: their guests may still run. Fencing is the operator's
word that they do not (the host is powered off, or cut from the network for
good); the apps above act on it in the same transaction (host_fenced: compute
evacuates the instances of HA offerings and puts the others in error). The
host's queue is emptied, and its agent, if it ever comes back, destroys its
guests and takes no task until an operator returns the host to service.
"""

import logging

from django.db import transaction
from kombu.exceptions import KombuError

from apps.audit.recorder import audited
from apps.core.errors import Conflict, ValidationFailed
from apps.core.tree import PLATFORM
from apps.identity.services.common import require

from .. import signals, states, wire
from ..models import Host

log = logging.getLogger(__name__)

FENCE = "infrastructure.host.fence"


def fence_host(actor, host, *, confirmed_off):
    """Fence a host that is down; `confirmed_off` is the operator's word that it is powered off."""
    with audited(actor, FENCE, target=PLATFORM, obj=host):
        require(actor, FENCE, PLATFORM, "Only cloud administrators fence hosts.")
        if not confirmed_off:
            raise ValidationFailed(
                "Fencing lets the host's instances start elsewhere: confirm that it is powered off.",
                code="fence_not_confirmed",
            )
        locked = Host.objects.select_for_update().get(pk=host.pk)
        if locked.state != Host.DOWN:
            raise Conflict(
                f"Host {host.name} is {locked.state}: only a host that stopped answering can be fenced.",
                code="host_not_down",
                details={"state": locked.state},
            )
        states.move_one(host, "fence")
        host.refresh_from_db()
        signals.host_fenced.send(sender=Host, host=host, actor=actor)
        transaction.on_commit(lambda: _purge(host.name), robust=True)
    return host


def return_to_service(actor, host):
    """A fenced host may work again: it goes to down, and up with its agent's next heartbeat."""
    with audited(actor, FENCE, target=PLATFORM, obj=host) as op:
        require(actor, FENCE, PLATFORM, "Only cloud administrators return fenced hosts to service.")
        op.details = {"returned_to_service": True}
        states.move_one(host, "return_to_service")
        host.refresh_from_db()
        transaction.on_commit(lambda: _purge(host.name), robust=True)
    return host


def _purge(host_name):
    try:
        wire.purge_queue(host_name)
    except (KombuError, OSError) as error:
        log.warning("could not empty the queue of host %s: %s", host_name, error)
