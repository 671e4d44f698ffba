"""Turn a principal's grants into a queryset filter: what they may see, in one WHERE clause; and
reading one object of such a queryset, where what may not be seen does not exist."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q

from .errors import NotFound
from .policy import SystemPrincipal

NOTHING = Q(pk__in=[])


def visible(queryset, principal, action, *, domain_path="domain__path", project="project_id"):
    """Restrict a queryset to the rows on which `principal` may perform `action`.

    `domain_path` names the field holding the row's domain path; `project` the
    field holding its project id (None for rows that belong to no project).
    """
    if isinstance(principal, SystemPrincipal):
        return queryset
    condition = NOTHING
    for grant in principal.grants_for(action):
        if grant.project_id is not None:
            if project:
                condition |= Q(**{project: grant.project_id})
        else:
            condition |= Q(**{f"{domain_path}__startswith": grant.domain_path})
    if principal.scope_project is not None:
        condition &= Q(**{project: principal.scope_project.pk}) if project else NOTHING
    elif principal.scope_domain is not None:
        condition &= Q(**{f"{domain_path}__startswith": principal.scope_domain.path})
    return queryset.filter(condition)


def get_or_404(queryset, what, **lookup):
    """One object the principal may see, or NotFound: the same answer whether it exists or not."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, DjangoValidationError, ValueError) as exc:
        raise NotFound(f"No such {what}.") from exc
