"""Admin portal: adding a host, and following its agent's enrollment.

Adding a host (or asking a new token for one) answers with the one-time
enrollment token and the commands to paste on the host. The token is in that
answer only: it is never stored in clear (only its hash), never logged, and the
answer is not kept by the browser (`Cache-Control: no-store`). The page then
follows the host, as its agent enrolls and first heartbeats, without a reload.
"""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.errors import NotFound
from apps.core.scoping import get_or_404
from apps.core.tree import PLATFORM
from apps.core.web.decorators import portal_view
from apps.core.web.rendering import render_page

from ..selectors import hosts_for, zones_for
from ..services.hosts import add_host, issue_enrollment_token
from .agent_commands import enrollment_steps
from .forms import HostAddForm

admin_view = portal_view(admin=True)
HOST_CREATE = "infrastructure.host.create"


def _may_add(request):
    return request.actor.can(HOST_CREATE, PLATFORM)


def _form(request, data=None, **kwargs):
    if not _may_add(request):
        raise NotFound("Adding hosts is for cloud administrators.")
    return HostAddForm(zones_for(request.actor.principal).order_by("name"), data, **kwargs)


@require_http_methods(["GET", "POST"])
@admin_view
def host_add(request):
    """GET: the form (?zone= chooses the zone). POST: add the host and answer with its token and
    commands, once."""
    if request.method == "GET":
        return _render_form(request, _form(request, initial={"zone": request.GET.get("zone")}))
    form = _form(request, request.POST)
    if not form.submit(lambda data: add_host(request.actor, **form.host_fields())):
        return _render_form(request, form, status=form.error_status)
    host, token = form.result
    return shown_once(request, host, token, added=True)


def _render_form(request, form, status=200):
    return render_page(request, "infrastructure/host_add.html", {"form": form}, area="admin", status=status)


def shown_once(request, host, token, *, added):
    """The page with the token and the commands: not cached, and reloading it shows the host's page."""
    context = {
        "host": host,
        "token": token,
        "expires_at": host.enrollment_tokens.filter(used_at__isnull=True).latest("expires_at").expires_at,
        "steps": enrollment_steps(request, host, token),
        "added": added,
    }
    response = render_page(request, "infrastructure/host_enroll.html", context, area="admin")
    response["Cache-Control"] = "no-store"
    return response


def _host(request, host_id):
    return get_or_404(hosts_for(request.actor.principal), "host", pk=host_id)


@require_http_methods(["GET", "POST"])
@admin_view
def host_token(request, host_id):
    """A new one-time token for the host (its earlier unused ones stop working), for a first
    enrollment whose token was lost or expired, or to give an enrolled host a new key."""
    host = _host(request, host_id)
    if request.method == "GET":
        return redirect("infrastructure:host-detail", host.pk)
    token = issue_enrollment_token(request.actor, host)
    return shown_once(request, host, token, added=False)


@require_GET
@admin_view
def host_enrollment(request, host_id):
    """Where the host's enrollment stands, polled by the enrollment page until the host is up."""
    host = _host(request, host_id)
    context = {"host": host, "host_url": reverse("infrastructure:host-detail", args=[host.pk])}
    return render(request, "infrastructure/enrollment_status.html", context)
