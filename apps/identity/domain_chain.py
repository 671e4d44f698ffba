"""Whether a domain, or any domain above it, is disabled: that makes everything below it unusable.

The per-request form of this check is SQL (apps.identity.rowload.disabled_above_sql).
"""

from .models import Domain


def chain_disabled(domain):
    return Domain.objects.filter(enabled=False, path__in=_prefixes(domain.path)).exists()


def _prefixes(path):
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
