"""The quota block of domain, project and dashboard pages: usage bars and, for admins, the limits.

On the admin portal's domain and project pages it is a section (apps.identity.web.sections),
registered in QuotasConfig.ready().
"""

from django.urls import reverse

from apps.quotas import resources, services
from apps.quotas.selectors import quotas_for

from .forms import LimitsForm


def level(percent):
    """How full a limit is, for the bar's colour: ok, high (from 70 %) or full (from 90 %)."""
    if percent is None or percent < 70:
        return "ok"
    return "high" if percent < 90 else "full"


def usage_rows(principal, scope):
    """Rows the person may see for a project or a domain, with what the bars need."""
    key = "project" if scope._meta.model_name == "project" else "domain"
    types = resources.resource_types()
    rows = []
    quotas = sorted(quotas_for(principal).filter(**{key: scope}), key=lambda q: list(types).index(q.resource))
    for quota in quotas:
        resource = types[quota.resource]
        percent = None if quota.unlimited else (100 if quota.limit == 0 else quota.usage * 100 // quota.limit)
        rows.append(
            {
                "resource": quota.resource,
                "label": resource.title,
                "description": resource.description,
                "unit": "" if resource.unit == "count" else resource.unit,
                "limit": quota.limit,
                "used": quota.usage,
                "unlimited": quota.unlimited,
                "percent": None if percent is None else min(percent, 100),
                "level": level(percent),
            }
        )
    return rows


def quota_section(request, scope, limits=None):
    """{"quota_rows", "limits_form", "limits_url"} for quotas/section.html; `limits`: a refused LimitsForm."""
    rows = usage_rows(request.actor.principal, scope)
    context = {"quota_rows": rows, "limits_form": None}
    if request.actor.can("quotas.quota.update", scope.admin_target()):
        usage = {row["resource"]: (row["limit"], row["used"]) for row in rows}
        context["limits_form"] = limits or LimitsForm(usage)
        kind = "project" if scope._meta.model_name == "project" else "domain"
        context["limits_url"] = reverse(f"portal:{kind}-limits", args=[scope.pk])
    return context


def limits_form(request, scope):
    """A bound LimitsForm for a POST to a limits URL, measured against the stored limits."""
    return LimitsForm(services.usage_of(scope), data=request.POST)


def set_limit_of(request, scope):
    return lambda resource, limit: services.set_limit(request.actor, scope, resource, limit)
