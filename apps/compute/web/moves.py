"""The admin portal's moves: migrate, live-migrate or evacuate an instance from its host's page (with a host
to send it to, or the scheduler's choice), and the drain of a host in maintenance, polled while it runs.

Thin views over apps/compute/services/moves.py and services/maintenance.py; the
host page's sections that offer them are web/host_sections.py.
"""

import uuid

from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import ValidationFailed
from apps.core.scoping import get_or_404
from apps.core.web.decorators import portal_view
from apps.core.web.flow import performed
from apps.infrastructure.selectors import hosts_for

from .. import selectors
from ..services import moves
from .host_sections import drain_on_host

MOVES = {
    "migrate": ("Migrating", moves.migrate),
    "live_migrate": ("Live-migrating", moves.live_migrate),
    "evacuate": ("Evacuating", moves.evacuate),
}


def _host_id(value):
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError as error:
        raise ValidationFailed("No such host.", code="host_not_found") from error


@require_POST
@portal_view(admin=True)
def instance_move(request, instance_id):
    """Start a move; back to the page of the host it left, with what happened said there."""
    instance = get_or_404(selectors.instances_for(request.actor.principal), "instance", pk=instance_id)
    op = request.POST.get("op")
    if op not in MOVES:
        raise ValidationFailed(f"Unknown move {op!r}.", code="unknown_action")
    doing, service = MOVES[op]
    host_id = _host_id(request.POST.get("host"))
    force = request.POST.get("force") == "on"
    back = reverse("infrastructure:host-detail", args=[instance.host_id])
    return performed(
        request,
        lambda: service(request.actor, instance, host_id=host_id, force=force),
        done=back,
        kept=back,
        message=f"{doing} {instance.name}: the progress shows on its page and in the host's list.",
    )


@require_GET
@portal_view(admin=True)
def host_drain(request, host_id):
    """The drain's rows alone, polled every second while a move of it runs."""
    host = get_or_404(hosts_for(request.actor.principal), "host", pk=host_id)
    return render(
        request, "compute/admin/host_drain.html", {"section": drain_on_host(request, host), "host": host}
    )
