"""Admin portal: the quotas page — projects closest to their limits, and the defaults of new projects."""

from django.db.models import F, FloatField, Q
from django.db.models.functions import Cast
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.errors import PermissionDenied
from apps.core.tree import PLATFORM
from apps.core.web.decorators import portal_view
from apps.core.web.flow import handled
from apps.core.web.rendering import render_page
from apps.quotas import resources, services
from apps.quotas.selectors import default_quotas, quotas_for

from .forms import LimitsForm
from .sections import level

admin_view = portal_view(admin=True)
FULLEST = 25


def _fullest(principal):
    """The project quotas nearest to their limit, fullest first (unlimited ones never fill up)."""
    types = resources.resource_types()
    rows = (
        quotas_for(principal)
        .filter(project__isnull=False, limit__gt=0, used__gt=0)
        .annotate(share=Cast(F("used"), FloatField()) / F("limit"))
        .order_by("-share")[:FULLEST]
    )
    return [
        {
            "quota": quota,
            "description": types[quota.resource].description,
            "percent": min(100, round(quota.share * 100)),
            "level": level(round(quota.share * 100)),
        }
        for quota in rows
    ]


def _defaults():
    return {default.resource: (default.limit, 0) for default in default_quotas()}


@require_GET
@admin_view
def quotas(request):
    return _render(request)


def _may_set_defaults(request):
    return request.actor.can("quotas.default.update", PLATFORM)


def _render(request, form=None):
    context = {
        "fullest": _fullest(request.actor.principal),
        "defaults": form or LimitsForm(_defaults()),
        "can_set_defaults": _may_set_defaults(request),
        "exceeded": quotas_for(request.actor.principal)
        .filter(Q(limit__gte=0) & Q(used__gt=F("limit")))
        .count(),
    }
    return render_page(request, "quotas/admin/quotas.html", context, area="admin")


@require_http_methods(["GET", "POST"])
@admin_view
def quota_defaults(request):
    if request.method == "GET":
        return redirect("portal:admin-quotas")
    if not _may_set_defaults(request):
        # The page shows the defaults read-only; a refusal is a page, not errors of an absent form.
        raise PermissionDenied("Only cloud administrators set default quotas.")
    return handled(
        request,
        LimitsForm(_defaults(), data=request.POST),
        lambda resource, limit: services.set_default_limit(request.actor, resource, limit),
        done=reverse("portal:admin-quotas"),
        message="Defaults for new projects saved.",
        failed=lambda form: _render(request, form),
    )
