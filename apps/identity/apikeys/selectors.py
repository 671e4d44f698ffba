"""The API keys a principal may see: their own, and those of users they administer."""

from django.db.models import Q

from apps.core.scoping import NOTHING, visible

from ..models import ApiKey


def api_keys_for(principal):
    queryset = ApiKey.objects.select_related("user__domain", "project__domain")
    own = Q(user=principal.user) if principal.user is not None else NOTHING
    if principal.scope_project is not None:
        own &= Q(project=principal.scope_project)
    administered = visible(
        queryset, principal, "identity.api_key.read", domain_path="user__domain__path", project=None
    )
    return queryset.filter(own) | administered
