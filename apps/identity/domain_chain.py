"""Whether a domain, or any domain above it, is disabled: that makes everything below it unusable.

The per-request form of this check is SQL (apps.identity.rowload.disabled_above_sql).
"""

from apps.core.tree import ancestor_paths

from .models import Domain


def chain_disabled(domain):
    return Domain.objects.filter(enabled=False, path__in=ancestor_paths(domain.path)).exists()
